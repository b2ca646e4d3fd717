// ComfyUI's PreviewImage: like SaveImage, into the temp folder, to look at without keeping.
import { randomInt } from 'node:crypto';
import { defineNode } from './common/define-node.js';
import { pngInfoOf, pngInfoText, saveImages } from './common/save-images.js';

export const PreviewImage = defineNode({
  type: 'PreviewImage',
  displayName: 'Preview Image',
  category: 'image',
  description: 'Shows the images in the editor, saved to the temp folder.',
  inputs: {
    images: { type: 'IMAGE', link: true, tooltip: 'The images to preview.' },
  },
  outputs: [],
  outputNode: true,
  async run(inputs, ctx) {
    // A random suffix as in ComfyUI, so previews from different runs and tabs never share names. Not the seeded ctx.rng:
    // a file name is not part of what a rerun must repeat.
    const letters = 'abcdefghijklmnopqrstupvxyz';
    const suffix = Array.from({ length: 5 }, () => letters[randomInt(letters.length)]).join('');
    const refs = await saveImages(inputs.images, {
      root: ctx.folders.temp,
      prefix: `instructbooth_temp_${suffix}`,
      type: 'temp',
      compressionLevel: 1, // fast: previews are thrown away
      text: pngInfoText(pngInfoOf(ctx)),
      ctx,
    });
    return { outputs: [], ui: { images: refs } };
  },
});
