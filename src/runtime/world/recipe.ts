// The InstructBooth settings for the embedded world model, in one place: the example workflows
// (scripts/make-workflows.ts), `npm run demo` and `npm run bench -- instructbooth` all use these. Measured on the
// embedded model (how each number was chosen: docs/rl-tuning.md, "The recipe's numbers"); SD1.5 wants the paper's
// settings instead (the nodes' defaults).
export const WORLD_RECIPE = {
  /** The subject the examples personalize to. */
  subject: { id: 'checkered-square', source: 'subjects/checkered-square', identifier: 'zwx', classNoun: 'square' },
  classImages: { count: 64, seed: 0, steps: 25, guidance: 5 },
  // DreamBooth: long enough to reach the references' own similarity and overfit as the paper describes.
  dreambooth: { mode: 'full' as const, steps: 600, batchSize: 2, lr: 4e-4, priorLossWeight: 1, seed: 0 },
  // RL: every prompt 16 times an epoch (round-robin), rewards normalized within each prompt's 16, a high LoRA learning
  // rate for a tiny model, and a KL term to the DreamBooth model that holds the subject.
  ddpo: {
    epochs: 15, samplesPerEpoch: 160, sampleBatch: 16, steps: 20, guidance: 5, trainBatch: 16, gradAccumulation: 5, lr: 1e-2, timestepFraction: 0.5,
    clipRange: 1e-4, loraRank: 4, seed: 0, promptSampling: 'round-robin' as const, perPromptStats: { bufferSize: 16, minCount: 16 }, klWeight: 0.02,
  },
  /** The fraction of RL prompts with the identifier (the paper mixes both forms). */
  identifierRatio: 0.5,
  // 16 images a prompt: a prompt's text fidelity is a rate, and at 8 one image moves it by 0.125.
  evaluation: { imagesPerPrompt: 16, seed: 1000, steps: 25, guidance: 5 },
};
