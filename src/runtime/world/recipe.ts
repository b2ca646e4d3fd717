// The InstructBooth settings for the embedded world model, in one place: the example workflows
// (scripts/make-workflows.ts), `npm run demo` and `npm run bench -- instructbooth` all use these. Measured on the
// embedded model (README); SD1.5 wants the paper's settings instead (the nodes' defaults).
export const WORLD_RECIPE = {
  /** The subject the examples personalize to. */
  subject: { id: 'checkered-square', source: 'subjects/checkered-square', identifier: 'zwx', classNoun: 'square' },
  classImages: { count: 64, seed: 0, steps: 25, guidance: 5 },
  // DreamBooth: 600 steps at 4e-4 reach the references' own similarity on the instance prompt (tiny-CLIP cosine 0.75
  // against their 0.77) and overfit as the paper describes (seen-activity alignment 0.81 -> 0.41 in the bench); 800 at 1e-3 collapse.
  dreambooth: { mode: 'full' as const, steps: 600, batchSize: 2, lr: 4e-4, priorLossWeight: 1, seed: 0 },
  // RL: each epoch samples every prompt 16 times (round-robin over the 10 prompts) and normalizes rewards within each
  // prompt's 16, then two updates of 80 samples at a high LoRA learning rate for a tiny model, with a KL term to the
  // DreamBooth model that holds the subject. Uniform draws with stale per-prompt buffers gave advantages that mostly
  // said which prompt a sample had, and the reward fell. Tuning runs on the checkered square (8 images a prompt;
  // seen-activity text fidelity from DreamBooth's 0.30; tiny-CLIP subject from 0.763): 8 samples a prompt without KL reached the
  // activities but lost the subject's color; KL 0.01 held it (0.75) but moved the text little (0.33); 16 samples a
  // prompt with KL 0.01 gave 0.55 (subject 0.70), with KL 0.02 0.525 (subject 0.73); lr 5e-3 did not move (docs/rl-tuning.md).
  // 15 epochs: at 16 images a prompt the same run gives 0.563 / 0.300 (seen / unseen) at 15, 0.537 / 0.263 at 20 and
  // 0.500 / 0.150 at 25; the reward levels off while the unseen activities go.
  ddpo: {
    epochs: 15, samplesPerEpoch: 160, sampleBatch: 16, steps: 20, guidance: 5, trainBatch: 16, gradAccumulation: 5, lr: 1e-2, timestepFraction: 0.5,
    clipRange: 1e-4, loraRank: 4, seed: 0, promptSampling: 'round-robin' as const, perPromptStats: { bufferSize: 16, minCount: 16 }, klWeight: 0.02,
  },
  /** The fraction of RL prompts with the identifier (the paper mixes both forms). */
  identifierRatio: 0.5,
  // 16 images a prompt: a prompt's text fidelity is a rate, and at 8 one image moves it by 0.125 (sampling is cheap
  // next to training; the bench's evaluations take about a minute a subject).
  evaluation: { imagesPerPrompt: 16, seed: 1000, steps: 25, guidance: 5 },
};
