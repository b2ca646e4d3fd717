// Training-image augmentation for DreamBooth, as diffusers' example does it: resize so the shorter side is the
// training resolution, crop a resolution x resolution square (random or centred), optionally flip horizontally.
// Pure and seeded: the same generator state gives the same crops and flips, so a resumed run sees the same images.
import { imageAt, imageBatch, type ImageBatch, concatImages } from '../engine/image.js';
import { Rng } from '../onnx/random.js';

/** Per axis: for each output pixel, the first input pixel it reads and the normalized weights of the pixels read. */
interface AxisFilter {
  start: Int32Array;
  weights: Float32Array[];
}

/**
 * Triangle (bilinear) filter whose support widens with the downscale factor, as PIL's BILINEAR (and torchvision's
 * antialiased Resize) do, so large photos shrink without aliasing; pixel centres align ((i + 0.5) * scale - 0.5).
 */
function axisFilter(inSize: number, outSize: number): AxisFilter {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const start = new Int32Array(outSize);
  const weights: Float32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    const w = new Float32Array(hi - lo);
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const v = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      w[i - lo] = v;
      total += v;
    }
    if (total > 0) for (let k = 0; k < w.length; k++) w[k] /= total;
    else w[Math.min(w.length - 1, Math.max(0, Math.floor(centre) - lo))] = 1;
    start[o] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/** Resizes every image to height x width (antialiased bilinear). A batch already that size is returned as is. */
export function resizeImages(images: ImageBatch, height: number, width: number): ImageBatch {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) throw new Error(`resize: target size must be positive integers, got ${width}x${height}`);
  const { count, height: ih, width: iw, channels: ch, data } = images;
  if (ih === height && iw === width) return images;
  const fx = axisFilter(iw, width);
  const fy = axisFilter(ih, height);
  const out = imageBatch(count, height, width, ch);
  const rows = new Float32Array(ih * width * ch);
  for (let n = 0; n < count; n++) {
    const src = n * ih * iw * ch;
    // Horizontal pass into `rows` [ih, width, ch], then vertical into the output.
    for (let y = 0; y < ih; y++)
      for (let x = 0; x < width; x++) {
        const w = fx.weights[x];
        const s0 = src + (y * iw + fx.start[x]) * ch;
        for (let c = 0; c < ch; c++) {
          let acc = 0;
          for (let k = 0; k < w.length; k++) acc += w[k] * data[s0 + k * ch + c];
          rows[(y * width + x) * ch + c] = acc;
        }
      }
    const dst = n * height * width * ch;
    for (let y = 0; y < height; y++) {
      const w = fy.weights[y];
      const r0 = fy.start[y];
      for (let x = 0; x < width; x++)
        for (let c = 0; c < ch; c++) {
          let acc = 0;
          for (let k = 0; k < w.length; k++) acc += w[k] * rows[((r0 + k) * width + x) * ch + c];
          out.data[dst + (y * width + x) * ch + c] = acc;
        }
    }
  }
  return out;
}

/** Resizes so the shorter side is `size`, keeping the aspect ratio (torchvision's Resize(size)). */
export function resizeShorterSide(images: ImageBatch, size: number): ImageBatch {
  const { height: h, width: w } = images;
  const [nh, nw] = h <= w ? [size, Math.max(size, Math.round((w * size) / h))] : [Math.max(size, Math.round((h * size) / w)), size];
  return resizeImages(images, nh, nw);
}

/** The same height x width window of every image, from (top, left). */
export function cropImages(images: ImageBatch, top: number, left: number, height: number, width: number): ImageBatch {
  const { count, height: ih, width: iw, channels: ch, data } = images;
  if (top < 0 || left < 0 || top + height > ih || left + width > iw || !Number.isInteger(top) || !Number.isInteger(left))
    throw new Error(`crop: window ${width}x${height} at (${left}, ${top}) does not fit a ${iw}x${ih} image`);
  if (top === 0 && left === 0 && height === ih && width === iw) return images;
  const out = imageBatch(count, height, width, ch);
  const rowLen = width * ch;
  for (let n = 0; n < count; n++)
    for (let y = 0; y < height; y++) {
      const s = ((n * ih + top + y) * iw + left) * ch;
      out.data.set(data.subarray(s, s + rowLen), (n * height + y) * rowLen);
    }
  return out;
}

/** Mirrors every image left to right. */
export function flipHorizontal(images: ImageBatch): ImageBatch {
  const { count, height, width, channels: ch, data } = images;
  const out = imageBatch(count, height, width, ch);
  for (let r = 0; r < count * height; r++)
    for (let x = 0; x < width; x++) {
      const s = (r * width + x) * ch, d = (r * width + width - 1 - x) * ch;
      for (let c = 0; c < ch; c++) out.data[d + c] = data[s + c];
    }
  return out;
}

export interface AugmentOptions {
  /** Side of the square output. */
  resolution: number;
  /** Random crop position (else centred). Default true, as diffusers' DreamBooth without --center_crop. */
  randomCrop?: boolean;
  /** Mirror with probability 1/2. Default false. */
  randomFlip?: boolean;
}

/** What augmentation did to one image: the crop window's corner and whether it was mirrored. */
export interface AugmentChoice {
  top: number;
  left: number;
  flip: boolean;
}

/**
 * Draws one image's crop and flip for an image of height x width (already resized so the shorter side is the
 * resolution). Always draws the same number of values (crop y, crop x, flip), whatever the options, so the caller's
 * stream stays aligned however they are set.
 */
export function chooseAugment(height: number, width: number, o: AugmentOptions, rng: Rng): AugmentChoice {
  const r = o.resolution;
  if (height < r || width < r) throw new Error(`augment: a ${width}x${height} image is smaller than the ${r}x${r} crop`);
  const [uy, ux, uf] = [rng.uniform(), rng.uniform(), rng.uniform()];
  const random = o.randomCrop ?? true;
  const top = random ? Math.floor(uy * (height - r + 1)) : Math.floor((height - r) / 2);
  const left = random ? Math.floor(ux * (width - r + 1)) : Math.floor((width - r) / 2);
  return { top, left, flip: (o.randomFlip ?? false) && uf < 0.5 };
}

/** Applies a choice to a batch (every image the same way). */
export function applyAugment(images: ImageBatch, c: AugmentChoice, resolution: number): ImageBatch {
  const cropped = cropImages(images, c.top, c.left, resolution, resolution);
  return c.flip ? flipHorizontal(cropped) : cropped;
}

/**
 * Resize (shorter side to the resolution), then per image a crop and a flip drawn from `rng` (or a generator seeded
 * with `seed`): resolution x resolution images, and the choices made.
 */
export function augmentImages(images: ImageBatch, o: AugmentOptions & { rng?: Rng; seed?: number }): { images: ImageBatch; choices: AugmentChoice[] } {
  const rng = o.rng ?? new Rng(o.seed ?? 0);
  const resized = resizeShorterSide(images, o.resolution);
  const choices: AugmentChoice[] = [];
  const out: ImageBatch[] = [];
  for (let i = 0; i < resized.count; i++) {
    const c = chooseAugment(resized.height, resized.width, o, rng);
    choices.push(c);
    out.push(applyAugment(imageAt(resized, i), c, o.resolution));
  }
  return { images: out.length === 1 ? { ...out[0], data: out[0].data.slice() } : concatImages(out), choices };
}
