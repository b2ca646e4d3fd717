// ComfyUI's VAEEncode: images to latents (the posterior mean, scaled by the VAE's factor), resized to the model's
// resolution first when they differ.
import { resizeToSquare } from '../runtime/engine/image-io.js';
import { defineNode } from './common/define-node.js';
import { asSamplingModel, pipelineOf, resolutionOf } from './common/model.js';

export const VAEEncode = defineNode({
  type: 'VAEEncode',
  displayName: 'VAE Encode',
  category: 'latent',
  description: 'Encodes images into latents with the checkpoint\'s VAE (images are resized to the model\'s resolution).',
  inputs: {
    pixels: { type: 'IMAGE', link: true },
    vae: { type: 'VAE', link: true },
  },
  outputs: [{ name: 'LATENT', type: 'LATENT' }],
  async run(inputs) {
    const vae = asSamplingModel(inputs.vae, 'vae');
    let images = inputs.pixels;
    const size = resolutionOf(vae);
    if (images.height !== size || images.width !== size) images = await resizeToSquare(images, size);
    return { outputs: [{ samples: await pipelineOf(vae).encode(images) }] };
  },
});
