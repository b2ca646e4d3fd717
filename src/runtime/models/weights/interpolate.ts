// Linear interpolation between two weight sets of one architecture, W = from + t * (to - from): a fine-tuned model
// pulled part of the way back toward its base (ComfyUI's ModelMergeSimple, diffusers' and kohya's merge scripts).
// Pulling a DreamBooth model back is the classic trade of subject fidelity for prompt fidelity.
import { toFloat32 } from '../../engine/safetensors.js';
import type { HostTensor } from '../../onnx/tensor.js';

/**
 * A new weight map; both maps need the same names and shapes. t = 0 gives `from`, 1 gives `to`. `only` limits the
 * interpolation to some tensors (the rest are `from`'s, shared, not copied); interpolated ones are new float32 tensors.
 */
export function interpolateWeights(from: ReadonlyMap<string, HostTensor>, to: ReadonlyMap<string, HostTensor>, t: number, only: (name: string) => boolean = () => true): Map<string, HostTensor> {
  if (!Number.isFinite(t)) throw new Error(`interpolation factor must be a finite number, got ${t}`);
  const missing = [...from.keys()].filter((n) => !to.has(n)).concat([...to.keys()].filter((n) => !from.has(n)));
  if (missing.length) throw new Error(`cannot interpolate weights that differ in names: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? `, ... (${missing.length})` : ''}`);
  const out = new Map<string, HostTensor>();
  for (const [name, a] of from) {
    if (!only(name)) {
      out.set(name, a);
      continue;
    }
    const b = to.get(name)!;
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) throw new Error(`cannot interpolate '${name}': shapes [${a.shape}] and [${b.shape}]`);
    const x = toFloat32(a, name).data as Float32Array, y = toFloat32(b, name).data as Float32Array;
    const w = new Float32Array(x.length);
    for (let i = 0; i < w.length; i++) w[i] = x[i] + t * (y[i] - x[i]);
    out.set(name, { dtype: 'float32', shape: [...a.shape], data: w });
  }
  return out;
}
