// A batch laid out as one image, for looking at many samples (e.g. every RL prompt's result) at once.
import { gridImages } from '../runtime/engine/image-grid.js';
import { defineNode } from './common/define-node.js';

export { gridLayout } from '../runtime/engine/image-grid.js';

export const ImageGrid = defineNode({
  type: 'ImageGrid',
  displayName: 'Image Grid',
  category: 'image',
  description: 'Lays out a batch of images as one grid image.',
  inputs: {
    images: { type: 'IMAGE', link: true },
    columns: { type: 'INT', default: 0, min: 0, max: 1024, step: 1, tooltip: 'Images per row; 0 makes the grid about square.' },
    padding: { type: 'INT', default: 2, min: 0, max: 1024, step: 1, tooltip: 'Pixels around and between the images.' },
    background: { type: 'FLOAT', default: 1.0, min: 0, max: 1, step: 0.01, tooltip: 'Gray level of the padding (0 black, 1 white).' },
  },
  outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
  async run(inputs) {
    const grid = gridImages(inputs.images, inputs.columns, inputs.padding, inputs.background);
    return { outputs: [grid] };
  },
});
