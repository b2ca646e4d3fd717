// Image batches as nodes pass them (ComfyUI's IMAGE): [count, height, width, channels] float32 in [0, 1], row-major,
// channels last. Diffusion code converts to and from [-1, 1] NCHW at its own boundary.

export interface ImageBatch {
  count: number;
  height: number;
  width: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: number;
  data: Float32Array;
}

export function imageBatch(count: number, height: number, width: number, channels = 3, data?: Float32Array): ImageBatch {
  const n = count * height * width * channels;
  const d = data ?? new Float32Array(n);
  if (d.length !== n) throw new Error(`image data has ${d.length} values, ${count}x${height}x${width}x${channels} needs ${n}`);
  return { count, height, width, channels, data: d };
}

/** One image of a batch, sharing memory. */
export function imageAt(batch: ImageBatch, i: number): ImageBatch {
  const per = batch.height * batch.width * batch.channels;
  return { ...batch, count: 1, data: batch.data.subarray(i * per, (i + 1) * per) };
}

/** Concatenates batches of equal size and channels. */
export function concatImages(batches: ImageBatch[]): ImageBatch {
  if (batches.length === 0) throw new Error('no images to concatenate');
  const [h, w, c] = [batches[0].height, batches[0].width, batches[0].channels];
  for (const b of batches)
    if (b.height !== h || b.width !== w || b.channels !== c) throw new Error(`cannot batch a ${b.width}x${b.height}x${b.channels} image with ${w}x${h}x${c} images`);
  const count = batches.reduce((n, b) => n + b.count, 0);
  const out = imageBatch(count, h, w, c);
  let off = 0;
  for (const b of batches) {
    out.data.set(b.data, off);
    off += b.data.length;
  }
  return out;
}
