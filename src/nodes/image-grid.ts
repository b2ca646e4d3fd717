// A batch laid out as one image, for looking at many samples (e.g. every RL prompt's result) at once.
import { type ImageBatch, imageBatch } from '../runtime/engine/image.js';
import { defineNode } from '../runtime/graph/node-api.js';

export interface GridLayout {
  columns: number;
  rows: number;
  width: number;
  height: number;
  /** Top-left corner of image i. */
  origin(i: number): { x: number; y: number };
}

/** torchvision's make_grid layout: padding around and between cells; columns 0 picks ceil(sqrt(count)). */
export function gridLayout(count: number, cellWidth: number, cellHeight: number, columns: number, padding: number): GridLayout {
  const cols = Math.max(1, Math.min(columns > 0 ? columns : Math.ceil(Math.sqrt(count)), count));
  const rows = Math.max(1, Math.ceil(count / cols));
  return {
    columns: cols,
    rows,
    width: cols * cellWidth + (cols + 1) * padding,
    height: rows * cellHeight + (rows + 1) * padding,
    origin: (i) => ({ x: padding + (i % cols) * (cellWidth + padding), y: padding + Math.floor(i / cols) * (cellHeight + padding) }),
  };
}

export function makeGrid(images: ImageBatch, columns: number, padding: number, background: number): ImageBatch {
  const { count, width: w, height: h, channels: c } = images;
  if (count === 0) throw new Error('ImageGrid needs at least one image');
  const g = gridLayout(count, w, h, columns, padding);
  const out = imageBatch(1, g.height, g.width, c);
  out.data.fill(background);
  // Padding is opaque, so a transparent image's cell still shows where it is.
  if (c === 4) for (let p = 3; p < out.data.length; p += 4) out.data[p] = 1;
  const row = w * c;
  for (let i = 0; i < count; i++) {
    const { x, y } = g.origin(i);
    for (let r = 0; r < h; r++) {
      const src = (i * h + r) * row;
      out.data.set(images.data.subarray(src, src + row), ((y + r) * g.width + x) * c);
    }
  }
  return out;
}

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
    const grid = makeGrid(inputs.images as ImageBatch, Number(inputs.columns ?? 0), Number(inputs.padding ?? 2), Number(inputs.background ?? 1));
    return { outputs: [grid] };
  },
});
