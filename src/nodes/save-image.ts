// ComfyUI's SaveImage: PNGs in the output folder, with the prompt and workflow embedded so dragging a result back
// into the editor restores the graph that made it.
import { defineNode } from './common/define-node.js';
import { checkPrefix, expandPrefixVars, pngInfoOf, pngInfoText, saveImages } from './common/save-images.js';

export const SaveImage = defineNode({
  type: 'SaveImage',
  displayName: 'Save Image',
  category: 'image',
  description: 'Saves the images to the output folder as PNG, with the prompt and workflow embedded.',
  inputs: {
    images: { type: 'IMAGE', link: true, tooltip: 'The images to save.' },
    filename_prefix: {
      type: 'STRING',
      default: 'instructbooth',
      tooltip: 'The prefix of the file names; may include a subfolder ("runs/cat") and %width%, %height%, %year%, %month%, %day%... .',
    },
  },
  outputs: [],
  outputNode: true,
  validate: (inputs, folders) => checkPrefix(expandPrefixVars(inputs.filename_prefix ?? '', 0, 0), folders.output),
  async run(inputs, ctx) {
    const refs = await saveImages(inputs.images, {
      root: ctx.folders.output,
      prefix: inputs.filename_prefix,
      type: 'output',
      compressionLevel: 4, // ComfyUI's: a fair size for little time
      text: pngInfoText(pngInfoOf(ctx)),
      ctx,
    });
    return { outputs: [], ui: { images: refs } };
  },
});
