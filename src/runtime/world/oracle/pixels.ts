// Small pixel utilities the oracle's readers share. Images are one RGB float image, size x size, channels last.

export interface Pixels {
  size: number;
  data: Float32Array;
}

export function luma(d: Float32Array, p: number): number {
  return 0.299 * d[p * 3] + 0.587 * d[p * 3 + 1] + 0.114 * d[p * 3 + 2];
}

export function median(values: number[]): number {
  const v = Float64Array.from(values).sort();
  const n = v.length;
  return n === 0 ? 0 : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/** Area-averaged resample to a working resolution (the context reader's thresholds are set at 32 pixels). */
export function resample(img: Pixels, size: number): Pixels {
  if (img.size === size) return img;
  const out = new Float32Array(size * size * 3);
  const f = img.size / size;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const [sx0, sx1, sy0, sy1] = [x * f, (x + 1) * f, y * f, (y + 1) * f];
      let w = 0;
      const acc = [0, 0, 0];
      for (let j = Math.floor(sy0); j < Math.ceil(sy1); j++)
        for (let i = Math.floor(sx0); i < Math.ceil(sx1); i++) {
          const a = (Math.min(sx1, i + 1) - Math.max(sx0, i)) * (Math.min(sy1, j + 1) - Math.max(sy0, j));
          for (let c = 0; c < 3; c++) acc[c] += a * img.data[(j * img.size + i) * 3 + c];
          w += a;
        }
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = acc[c] / w;
    }
  return { size, data: out };
}

/** Connected components (8-neighbour) of a mask: a component id per pixel (-1 outside) and each component's pixels. */
export function components(mask: Uint8Array, size: number): { id: Int32Array; members: number[][] } {
  const id = new Int32Array(size * size).fill(-1);
  const members: number[][] = [];
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p] || id[p] >= 0) continue;
    const list: number[] = [];
    const stack = [p];
    id[p] = members.length;
    while (stack.length) {
      const q = stack.pop()!;
      list.push(q);
      const x = q % size, y = (q - x) / size;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const n = ny * size + nx;
          if (mask[n] && id[n] < 0) {
            id[n] = members.length;
            stack.push(n);
          }
        }
    }
    members.push(list);
  }
  return { id, members };
}

export interface Moments {
  area: number;
  cx: number;
  cy: number;
  sx: number;
  sy: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Area, centroid, per-axis spread and box of a set of pixels, in image units (pixel centers at (i + 0.5) / size).
 * With weights (a pixel's share of the object), area and moments are soft: blur moves them little.
 */
export function moments(pixels: readonly number[], size: number, weights?: ArrayLike<number>): Moments {
  let sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of pixels) {
    const w = weights ? weights[p] : 1;
    const x = ((p % size) + 0.5) / size, y = (Math.floor(p / size) + 0.5) / size;
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    syy += w * y * y;
    if (w >= 0.5) {
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  const n = sw || 1;
  const cx = sx / n, cy = sy / n;
  // A pixel is a 1/size square, not a point: add its own spread so tiny shapes keep a sensible size.
  const cell = 1 / (12 * size * size);
  return {
    area: sw / (size * size),
    cx,
    cy,
    sx: Math.sqrt(Math.max(0, sxx / n - cx * cx) + cell),
    sy: Math.sqrt(Math.max(0, syy / n - cy * cy) + cell),
    x0: x0 - 0.5 / size,
    y0: y0 - 0.5 / size,
    x1: x1 + 0.5 / size,
    y1: y1 + 0.5 / size,
  };
}

/** The pixels of a set and their 8-neighbours. */
export function dilate(pixels: readonly number[], size: number): number[] {
  const seen = new Uint8Array(size * size);
  const out: number[] = [];
  for (const p of pixels) {
    const x = p % size, y = (p - x) / size;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
        const q = ny * size + nx;
        if (!seen[q]) {
          seen[q] = 1;
          out.push(q);
        }
      }
  }
  return out;
}
