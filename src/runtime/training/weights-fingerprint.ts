// Identifying a model's weights for a training checkpoint's fingerprint without reading gigabytes: names, shapes,
// dtypes and a strided sample of every tensor's bytes. Every tensor, because a model can differ from another only in
// some layers (a merged attention-only LoRA), and a checkpoint of one must never resume for the other.
import type { Hash } from 'node:crypto';
import type { HostTensor } from '../onnx/tensor.js';

export function bytesOf(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Feeds `h` each tensor's name, dtype and shape, and its bytes (all of them up to 4 KiB, else 64 aligned slices of
 * 64 bytes and the last 64), in name order. */
export function hashWeightsSample(h: Hash, weights: ReadonlyMap<string, HostTensor>): void {
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name)!;
    h.update(`${name}|${t.dtype}|${t.shape.join(',')}\n`);
    const b = bytesOf(t);
    if (b.length <= 4096) h.update(b);
    else {
      const step = Math.floor(b.length / 64 / 64) * 64;
      for (let k = 0; k < 64; k++) h.update(b.subarray(k * step, k * step + 64));
      h.update(b.subarray(b.length - 64));
    }
  }
}
