// Classifier-free guidance: the UNet runs once on the batch [uncond; cond] (2B samples) and
// eps = eps_u + w (eps_c - eps_u). Host form for sampling, graph form for training through the guided eps (DDPO).
import { type HostTensor, tensor } from '../onnx/tensor.js';
import type { Sym } from '../onnx/builder.js';
import * as op from '../onnx/ops/index.js';

/** [2B, ...] predictions (uncond first) -> [B, ...] guided predictions. */
export function combineGuidance(epsBoth: HostTensor, guidance: number): HostTensor {
  if (epsBoth.dtype !== 'float32' || epsBoth.shape.length < 1 || epsBoth.shape[0] % 2 !== 0)
    throw new Error(`guidance needs float32 predictions for [uncond; cond] (an even batch), got ${epsBoth.dtype} [${epsBoth.shape}]`);
  const both = epsBoth.data as Float32Array;
  const half = both.length / 2;
  const out = new Float32Array(half);
  for (let k = 0; k < half; k++) {
    const u = both[k];
    out[k] = u + guidance * (both[half + k] - u);
  }
  return tensor('float32', [epsBoth.shape[0] / 2, ...epsBoth.shape.slice(1)], out);
}

/** Graph form of `combineGuidance`; `guidance` a number (a constant) or a scalar input. */
export function combineGuidanceGraph(epsBoth: Sym, guidance: number | Sym): Sym {
  if (epsBoth.rank < 1 || epsBoth.shape[0] % 2 !== 0) throw new Error(`guidance needs predictions for [uncond; cond] (an even batch), got ${epsBoth}`);
  const half = epsBoth.shape[0] / 2;
  const [u, c] = op.split(epsBoth, [half, half], 0);
  return op.add(u, op.mul(op.sub(c, u), guidance));
}
