// What every optimizer shares: the parameter/gradient representation, the interface, and state-dict plumbing.
import type { HostTensor } from '../../onnx/tensor.js';

/** Parameter or gradient name -> flat float32 data. Shapes do not matter to elementwise optimizers. */
export type ParamMap = Map<string, Float32Array>;

export interface Optimizer {
  /** number of step() calls so far */
  readonly stepCount: number;
  /** Updates params in place. Params without a gradient are skipped (like torch when p.grad is None). */
  step(params: ParamMap, grads: ParamMap, lr?: number): void | Promise<void>;
  /** Tensors share memory with the optimizer (like torch); write or copy them before the next step. */
  stateDict(): Record<string, HostTensor>;
  /** Replaces all state with a copy of `sd`. */
  loadStateDict(sd: Record<string, HostTensor>): void;
}

/**
 * Pairs each gradient with its parameter, rejecting unknown names and size mismatches (silent bugs otherwise).
 * Checks everything before returning so a bad gradient cannot leave a half-applied step.
 */
export function gradPairs(params: ParamMap, grads: ParamMap): [string, Float32Array, Float32Array][] {
  const out: [string, Float32Array, Float32Array][] = [];
  for (const [name, g] of grads) {
    const p = params.get(name);
    if (!p) throw new Error(`optimizer: gradient "${name}" has no matching parameter`);
    if (p.length !== g.length) throw new Error(`optimizer: "${name}" has ${p.length} values but its gradient has ${g.length}`);
    out.push([name, p, g]);
  }
  return out;
}

export function checkHyper(name: string, value: number, ok: boolean): void {
  if (!Number.isFinite(value) || !ok) throw new Error(`optimizer: invalid ${name} ${value}`);
}

/** Step counters are stored as int64 scalars so they survive a safetensors round trip exactly. */
export const countTensor = (n: number): HostTensor => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(n)) });

export function readCount(t: HostTensor | undefined, key: string): number {
  if (!t || t.data.length !== 1) throw new Error(`optimizer state: "${key}" missing or not a scalar`);
  const v = Number(t.data[0]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`optimizer state: "${key}" is not a valid count`);
  return v;
}

export function copyFloat32(t: HostTensor, key: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`optimizer state: "${key}" is ${t.dtype}, expected float32`);
  return (t.data as Float32Array).slice();
}

export const f32Tensor = (data: Float32Array): HostTensor => ({ dtype: 'float32', shape: [data.length], data });

/** Splits "prefix.name" keys; prefixes contain no '.', so parameter names may. */
export function splitKey(key: string): [string, string] {
  const dot = key.indexOf('.');
  return dot < 0 ? [key, ''] : [key.slice(0, dot), key.slice(dot + 1)];
}
