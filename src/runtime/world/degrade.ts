// What a small generative model does to an image, approximately: blur, color shifts, blockwise lossy coding and
// noise. The oracle must keep reading attributes through these (it will judge model samples, not clean renders).
import { type ImageBatch, imageBatch } from '../engine/image.js';
import type { Rng } from '../onnx/random.js';

export interface Degradation {
  /** Gaussian blur sigma in pixels of a 32-pixel image (scaled with the image size); 0 for none. */
  blur?: number;
  /** Largest per-channel color offset (and gain deviation), drawn per image. */
  colorShift?: number;
  /** Gaussian noise standard deviation. */
  noise?: number;
  /** 4x4 block DCT quantization of luma and quantized chroma, like a low-quality JPEG. */
  blockCoding?: boolean;
  /** With block coding, also average chroma over 2x2 blocks (JPEG's 4:2:0). At 32 pixels this erases the color of
   * one-pixel features, and with it the shape of objects whose color differs from the background in hue only. */
  chromaSubsampling?: boolean;
}

export const TYPICAL_DEGRADATION: Degradation = { blur: 0.7, colorShift: 0.05, noise: 0.03, blockCoding: true };

function blurChannelPlanes(img: Float32Array, size: number, sigma: number): void {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const w = k.map((v) => v / sum);
  const tmp = new Float32Array(img.length);
  const at = (x: number) => Math.min(size - 1, Math.max(0, x));
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = -radius; i <= radius; i++) acc += w[i + radius] * img[(y * size + at(x + i)) * 3 + c];
        tmp[(y * size + x) * 3 + c] = acc;
      }
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = -radius; i <= radius; i++) acc += w[i + radius] * tmp[(at(y + i) * size + x) * 3 + c];
        img[(y * size + x) * 3 + c] = acc;
      }
}

const N = 4;
const DCT = Array.from({ length: N }, (_, u) =>
  Array.from({ length: N }, (_, x) => (u === 0 ? Math.sqrt(1 / N) : Math.sqrt(2 / N)) * Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))),
);

function blockCode(img: Float32Array, size: number, subsample: boolean): void {
  const px = size * size;
  const Y = new Float32Array(px), Cb = new Float32Array(px), Cr = new Float32Array(px);
  for (let p = 0; p < px; p++) {
    const [r, g, b] = [img[p * 3], img[p * 3 + 1], img[p * 3 + 2]];
    Y[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    Cb[p] = -0.1687 * r - 0.3313 * g + 0.5 * b;
    Cr[p] = 0.5 * r - 0.4187 * g - 0.0813 * b;
  }
  // Chroma: quantized to 1/32 (over 2x2 averages when subsampling).
  const cell = subsample ? 2 : 1;
  for (const C of [Cb, Cr])
    for (let y = 0; y < size; y += cell)
      for (let x = 0; x < size; x += cell) {
        const idx = subsample ? [y * size + x, y * size + x + 1, (y + 1) * size + x, (y + 1) * size + x + 1] : [y * size + x];
        const m = Math.round((idx.reduce((a, i) => a + C[i], 0) / idx.length) * 32) / 32;
        for (const i of idx) C[i] = m;
      }
  // Luma: 4x4 DCT, coefficients quantized with steps growing with frequency.
  const block = new Float32Array(16), coef = new Float32Array(16);
  for (let by = 0; by < size; by += N)
    for (let bx = 0; bx < size; bx += N) {
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) block[y * N + x] = Y[(by + y) * size + bx + x];
      for (let v = 0; v < N; v++)
        for (let u = 0; u < N; u++) {
          let acc = 0;
          for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) acc += DCT[v][y] * DCT[u][x] * block[y * N + x];
          const step = 0.02 * (1 + u + v);
          coef[v * N + u] = Math.round(acc / step) * step;
        }
      for (let y = 0; y < N; y++)
        for (let x = 0; x < N; x++) {
          let acc = 0;
          for (let v = 0; v < N; v++) for (let u = 0; u < N; u++) acc += DCT[v][y] * DCT[u][x] * coef[v * N + u];
          Y[(by + y) * size + bx + x] = acc;
        }
    }
  for (let p = 0; p < px; p++) {
    img[p * 3] = Y[p] + 1.402 * Cr[p];
    img[p * 3 + 1] = Y[p] - 0.3441 * Cb[p] - 0.7141 * Cr[p];
    img[p * 3 + 2] = Y[p] + 1.772 * Cb[p];
  }
}

/** A degraded copy of a batch of square RGB images (sizes a multiple of 4). */
export function degrade(images: ImageBatch, rng: Rng, d: Degradation = TYPICAL_DEGRADATION): ImageBatch {
  const { count, width: size } = images;
  if (images.height !== size || images.channels !== 3) throw new Error('degrade expects square RGB images');
  const out = imageBatch(count, size, size, 3, images.data.slice());
  const per = size * size * 3;
  for (let i = 0; i < count; i++) {
    const img = out.data.subarray(i * per, (i + 1) * per);
    if (d.blur) blurChannelPlanes(img, size, (d.blur * size) / 32);
    if (d.colorShift) {
      const s = d.colorShift;
      const off = [0, 1, 2].map(() => (rng.uniform() * 2 - 1) * s), gain = [0, 1, 2].map(() => 1 + (rng.uniform() * 2 - 1) * s);
      for (let p = 0; p < img.length; p++) img[p] = img[p] * gain[p % 3] + off[p % 3];
    }
    if (d.blockCoding && size % N === 0) blockCode(img, size, !!d.chromaSubsampling);
    if (d.noise) for (let p = 0; p < img.length; p++) img[p] += d.noise * rng.normal();
    for (let p = 0; p < img.length; p++) img[p] = Math.min(1, Math.max(0, img[p]));
  }
  return out;
}
