// ComfyUI's VAEDecode: latents (as Sample or VAEEncode give them) to images.
import { defineNode } from './common/define-node.js';
import { asSamplingModel, pipelineOf } from './common/model.js';

export const VAEDecode = defineNode({
  type: 'VAEDecode',
  displayName: 'VAE Decode',
  category: 'latent',
  description: 'Decodes latents into images with the checkpoint\'s VAE.',
  inputs: {
    samples: { type: 'LATENT', link: true },
    vae: { type: 'VAE', link: true },
  },
  outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
  async run(inputs) {
    const vae = asSamplingModel(inputs.vae, 'vae');
    const latents = inputs.samples?.samples;
    const [c, h, w] = pipelineOf(vae).latentShape;
    if (!latents || latents.shape.length !== 4 || latents.shape[1] !== c)
      throw new Error(`input samples: expected latents [B, ${c}, ${h}, ${w}], got ${latents ? `[${latents.shape}]` : 'nothing'}`);
    return { outputs: [await pipelineOf(vae).decode(latents)] };
  },
});
