// Text-to-image: every prompt (one per line) times images_per_prompt, each image from its own seed (seed + index), so
// any single image can be reproduced alone.
import { defineNode } from './common/define-node.js';
import { asSamplingModel } from './common/model.js';
import { generate, MAX_SAMPLING_STEPS, promptLines, SAMPLERS } from './common/sampling.js';

export const Sample = defineNode({
  type: 'Sample',
  displayName: 'Sample',
  category: 'sampling',
  description:
    'Generates images from prompts (one per line) with DDIM or Euler ancestral and classifier-free guidance. Image k uses seed + k, so ' +
    'results do not depend on batching. LATENT holds the final latents (VAE-scaled).',
  inputs: {
    model: { type: 'MODEL', link: true },
    prompt: { type: 'STRING', multiline: true, default: 'a sks star wearing a hat', tooltip: 'One prompt per line.' },
    negative_prompt: { type: 'STRING', default: '', tooltip: 'Replaces the empty prompt of classifier-free guidance.' },
    sampler: { type: 'COMBO', options: SAMPLERS, default: 'ddim' },
    steps: { type: 'INT', default: 25, min: 1, max: MAX_SAMPLING_STEPS },
    guidance: { type: 'FLOAT', default: 5, min: 1, max: 30, step: 0.5, tooltip: 'Classifier-free guidance scale (1 = none).' },
    seed: { type: 'INT', default: 0, min: 0, max: 2 ** 53 - 1, controlAfterGenerate: true },
    images_per_prompt: { type: 'INT', default: 4, min: 1, max: 256 },
    lora_strength: { type: 'FLOAT', default: 1, min: -4, max: 4, step: 0.05, tooltip: 'Multiplies the strength of the MODEL\'s LoRA, if it has one.' },
    eta: { type: 'FLOAT', default: 0, min: 0, max: 1, step: 0.05, tooltip: 'DDIM noise (0 deterministic; DDPO samples with 1).' },
  },
  outputs: [
    { name: 'IMAGE', type: 'IMAGE' },
    { name: 'LATENT', type: 'LATENT' },
  ],
  async run(inputs, ctx) {
    const model = asSamplingModel(inputs.model);
    const lines = promptLines(inputs.prompt);
    const prompts = lines.flatMap((p) => Array<string>(inputs.images_per_prompt).fill(p));
    const { images, latents } = await generate(model, {
      prompts,
      seeds: prompts.map((_, i) => inputs.seed + i),
      steps: inputs.steps,
      guidance: inputs.guidance,
      sampler: inputs.sampler,
      negativePrompt: inputs.negative_prompt,
      eta: inputs.eta,
      loraStrength: model.loraStrength * inputs.lora_strength,
    }, ctx);
    return { outputs: [images, { samples: latents }] };
  },
});
