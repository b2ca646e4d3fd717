// Image preprocessing the judges share, in float (no 8-bit round trip): Pillow's separable resampling (box = area
// average, bilinear, bicubic with a = -0.5, each widened by the scale factor when shrinking, so downscaling
// antialiases as PIL.Image.resize does), CLIP-style "shorter side to S, centre crop S x S", and NHWC [0,1] -> NCHW
// with per-channel mean/std.
import { type ImageBatch, imageBatch } from '../engine/image.js';

export type ResampleFilter = 'box' | 'bilinear' | 'bicubic';

const FILTERS: Record<ResampleFilter, { support: number; f: (x: number) => number }> = {
  box: { support: 0.5, f: (x) => (x >= -0.5 && x < 0.5 ? 1 : 0) },
  bilinear: { support: 1, f: (x) => (x < 0 ? (x > -1 ? 1 + x : 0) : x < 1 ? 1 - x : 0) },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

/** Pillow's precompute_coeffs: per output index, the first input index and normalized weights. */
function coefficients(inSize: number, outSize: number, filter: ResampleFilter, start = 0, span = inSize) {
  const { support: base, f } = FILTERS[filter];
  const scale = span / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
  const out: { first: number; weights: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = start + (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float64Array(Math.max(0, hi - lo));
    let sum = 0;
    for (let x = lo; x < hi; x++) sum += (w[x - lo] = f((x - center + 0.5) / filterScale));
    if (sum !== 0) for (let k = 0; k < w.length; k++) w[k] /= sum;
    out.push({ first: lo, weights: w });
  }
  return out;
}

/**
 * Resamples every image of a batch to outW x outH, reading the source box [left, top, left+boxW, top+boxH) (the
 * whole image by default): horizontal pass, then vertical, as Pillow does.
 */
export function resampleImages(
  images: ImageBatch,
  outW: number,
  outH: number,
  filter: ResampleFilter,
  box: { left: number; top: number; width: number; height: number } = { left: 0, top: 0, width: images.width, height: images.height },
): ImageBatch {
  const { count, width: W, height: H, channels: C } = images;
  if (box.left === 0 && box.top === 0 && box.width === W && box.height === H && outW === W && outH === H) return imageBatch(count, H, W, C, images.data.slice());
  const cx = coefficients(W, outW, filter, box.left, box.width);
  const cy = coefficients(H, outH, filter, box.top, box.height);
  const out = imageBatch(count, outH, outW, C);
  const tmp = new Float64Array(H * outW * C);
  for (let n = 0; n < count; n++) {
    const src = images.data.subarray(n * H * W * C, (n + 1) * H * W * C);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < outW; x++) {
        const { first, weights } = cx[x];
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let k = 0; k < weights.length; k++) acc += weights[k] * src[(y * W + first + k) * C + c];
          tmp[(y * outW + x) * C + c] = acc;
        }
      }
    const dst = out.data.subarray(n * outH * outW * C, (n + 1) * outH * outW * C);
    for (let y = 0; y < outH; y++) {
      const { first, weights } = cy[y];
      for (let x = 0; x < outW; x++)
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let k = 0; k < weights.length; k++) acc += weights[k] * tmp[((first + k) * outW + x) * C + c];
          dst[(y * outW + x) * C + c] = acc;
        }
    }
  }
  return out;
}

/**
 * CLIP's preprocessing geometry (transformers' CLIPImageProcessor): resize so the shorter side is `size` (the longer
 * becomes floor(size * long / short)), then crop the centre size x size (top = floor((h - size) / 2)). Done as one
 * resample of the source region the crop keeps, which is the same arithmetic without the intermediate image.
 */
export function resizeShorterAndCenterCrop(images: ImageBatch, size: number, filter: ResampleFilter): ImageBatch {
  const { width: W, height: H } = images;
  const short = Math.min(W, H);
  const rw = W <= H ? size : Math.floor((size * W) / H);
  const rh = H <= W ? size : Math.floor((size * H) / W);
  const left = Math.floor((rw - size) / 2), top = Math.floor((rh - size) / 2);
  if (short === size && W === H) return images;
  // Crop in resized pixels -> source region in source pixels (scale W/rw, H/rh as the full resize would use).
  const sx = W / rw, sy = H / rh;
  return resampleImages(images, size, size, filter, { left: left * sx, top: top * sy, width: size * sx, height: size * sy });
}

/** RGB of a batch (alpha dropped; an RGB batch is returned as is). */
export function rgbOnly(images: ImageBatch): ImageBatch {
  if (images.channels === 3) return images;
  if (images.channels !== 4) throw new Error(`expected RGB or RGBA images, got ${images.channels} channels`);
  const px = images.count * images.height * images.width;
  const out = imageBatch(images.count, images.height, images.width, 3);
  for (let p = 0; p < px; p++) for (let c = 0; c < 3; c++) out.data[p * 3 + c] = images.data[p * 4 + c];
  return out;
}

/** NHWC [0,1] images (rows `from` to `from + n`) -> NCHW float32, (x - mean[c]) / std[c]. */
export function toNchw(images: ImageBatch, o: { mean?: readonly number[]; std?: readonly number[]; from?: number; count?: number } = {}): Float32Array {
  const { height: H, width: W, channels: C } = images;
  const from = o.from ?? 0, n = o.count ?? images.count - from;
  const mean = o.mean ?? [0, 0, 0], std = o.std ?? [1, 1, 1];
  const out = new Float32Array(n * C * H * W);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) {
      const m = mean[c] ?? 0, s = std[c] ?? 1;
      for (let p = 0; p < H * W; p++) out[((i * C + c) * H * W) + p] = (images.data[((from + i) * H * W + p) * C + c] - m) / s;
    }
  return out;
}
