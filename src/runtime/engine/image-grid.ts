// A batch laid out as one image, torchvision's make_grid layout (`gap` pixels around and between the cells): the
// ImageGrid node and the evaluation sheets (prompts as rows, samples as columns).
import { type ImageBatch, imageBatch } from './image.js';

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

/**
 * One image holding every image of the batch, `cols` per row (0: about square), in batch order, with `gap` pixels
 * of `background` gray around and between them. RGBA padding is opaque.
 */
export function gridImages(images: ImageBatch, cols: number, gap = 2, background = 1): ImageBatch {
  const { count, width: w, height: h, channels: c } = images;
  if (count === 0) throw new Error('a grid needs at least one image');
  if (!Number.isInteger(cols) || cols < 0) throw new Error(`grid columns must be a whole number >= 0, got ${cols}`);
  if (!Number.isInteger(gap) || gap < 0) throw new Error(`grid gap must be a whole number >= 0, got ${gap}`);
  const g = gridLayout(count, w, h, cols, gap);
  const out = imageBatch(1, g.height, g.width, c);
  out.data.fill(background);
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
