// ComfyUI's LoadImage: one image from the input folder as IMAGE, and its transparency as MASK.
import { decodeImageWithMask } from '../runtime/engine/image-io.js';
import { defineNode } from './common/define-node.js';
import { fileFingerprint, isFile, listImageFiles, resolveAnnotated } from './common/files.js';

export const LoadImage = defineNode({
  type: 'LoadImage',
  displayName: 'Load Image',
  category: 'image',
  description: 'Loads an image from the input folder. MASK is the inverted alpha channel (1 where transparent), zeros for opaque images.',
  inputs: {
    image: {
      type: 'COMBO',
      // Computed on every /object_info so newly uploaded files appear.
      options: (folders) => listImageFiles(folders.input),
      imageUpload: true,
      tooltip: 'An image in the input folder ("name.png [output]" picks one from the output folder).',
    },
  },
  outputs: [
    { name: 'IMAGE', type: 'IMAGE' },
    { name: 'MASK', type: 'MASK' },
  ],
  isChanged: (inputs, folders) => {
    const file = resolveAnnotated(String(inputs.image), folders);
    return file ? fileFingerprint(file) : 'invalid';
  },
  validate: (inputs, folders) => {
    const file = resolveAnnotated(inputs.image ?? '', folders);
    return file && isFile(file) ? undefined : `Invalid image file: ${String(inputs.image)}`;
  },
  async run(inputs, ctx) {
    const name = inputs.image;
    const file = resolveAnnotated(name, ctx.folders);
    if (!file) throw new Error(`Invalid image file: ${name}`);
    // All frames, like ComfyUI (an animated GIF or WebP becomes a batch).
    const { image, mask } = await decodeImageWithMask(file, { allFrames: true, name });
    return { outputs: [image, mask] };
  },
});
