// Shared by the tests that compare against committed reference fixtures.
import { openSafetensors } from '../src/runtime/engine/safetensors.js';
import type { HostTensor } from '../src/runtime/onnx/tensor.js';

/** Every tensor of a safetensors file, by name. */
export function readTensors(file: string): Map<string, HostTensor> {
  const f = openSafetensors(file);
  try {
    return new Map(f.names().map((n) => [n, f.read(n)]));
  } finally {
    f.close();
  }
}

/** max |a-b| / max |b|: the error in the reference's own scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`comparing ${a.length} values with ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}
