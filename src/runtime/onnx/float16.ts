// Half-precision inference: rewrites a float32 graph to compute in float16 (weights stored as float16, half the
// memory; on a GPU, tensor-core speed), keeping its interface in float32: Cast nodes after the float inputs and before
// the outputs. As diffusers does for SD in fp16, the sinusoidal timestep embedding stays float32 (timesteps up to 999
// have a spacing of 0.5 in float16, which would scramble the high frequencies): every node fed only by a kept input
// (and build-time constants) stays float32, and its result is cast where half-precision nodes use it. Resize's roi
// and scales must be float32 whatever the data type, so they are left alone. onnxruntime's CPU provider runs float16
// nodes it has no kernel for through casts of its own, so the rewritten graph runs everywhere.
import { float32ArrayToFloat16 } from './half.js';
import type { HostTensor } from './tensor.js';
import { A, Graph, type IRNode } from './ir.js';

const FLOAT = 1;
const FLOAT16 = 10;
/** Inputs that keep float32 whatever the data type: (op, input index). */
const FLOAT32_INPUTS: Record<string, number[]> = { Resize: [1, 2] };

export interface Float16Options {
  /** Graph inputs whose computations stay float32 until they meet a weight (the UNet's `timestep`). */
  keepFloat32Inputs?: string[];
}

export function toFloat16(g: Graph, o: Float16Options = {}): Graph {
  const isFloat = (v: string) => v !== '' && g.values.get(v)?.dtype === 'float32';
  const isConstant = (v: string) => g.constants.has(v) && !g.inputs.includes(v);

  // The float32 region: kept inputs and every value (of any type: an int64 timestep goes through a Cast) computed
  // from them and build-time constants alone.
  const region = new Set(o.keepFloat32Inputs?.filter((n) => g.inputs.includes(n)));
  const inRegion = new Set<IRNode>();
  for (const n of g.nodes) {
    const used = n.inputs.filter((v) => v !== '');
    if (used.some((v) => region.has(v)) && used.every((v) => region.has(v) || isConstant(v) || !isFloat(v))) {
      inRegion.add(n);
      for (const out of n.outputs) if (out) region.add(out);
    }
  }

  const out = new Graph();
  Object.assign(out, { opset: g.opset, name: g.name, inputs: [...g.inputs], outputs: [...g.outputs] });
  out.values = new Map(g.values);
  out.initializers = new Map(g.initializers);
  out.constants = new Map(g.constants);
  const nodes: IRNode[] = [];
  const casts = new Map<string, string>();
  const half = (v: string) => `${v}::fp16`;
  // Graph outputs computed in float16 get their float32 name back from a final Cast (inputs, weights and constants
  // passed straight through stay as they are).
  const renamedOutputs = new Set(g.outputs.filter((v) => isFloat(v) && !region.has(v) && !g.inputs.includes(v) && !g.constants.has(v) && !g.initializers.has(v)));
  const nameOf = (v: string) => (renamedOutputs.has(v) ? half(v) : v);

  /** The float16 version of float32 value `v`, made on first use. */
  const asHalf = (v: string): string => {
    let h = casts.get(v);
    if (h) return h;
    h = half(v);
    casts.set(v, h);
    const info = g.info(v);
    out.values.set(h, { dtype: 'float16', shape: info.shape });
    const t = g.initializers.get(v) ?? g.constants.get(v);
    if (t && !g.inputs.includes(v)) {
      const t16: HostTensor = { dtype: 'float16', shape: t.shape, data: float32ArrayToFloat16(t.data as Float32Array) };
      out.initializers.set(h, t16);
      out.constants.set(h, t16);
    } else nodes.push({ op: 'Cast', domain: '', name: `${v}/to_fp16`, inputs: [v], outputs: [h], attrs: { to: A.i(FLOAT16) } });
    return h;
  };
  /** A float32 copy of a value this pass turned float16 (for inputs that must stay float32). */
  const asFloat32 = (v: string): string => {
    const f = `${v}::fp32`;
    if (!out.values.has(f)) {
      out.values.set(f, { dtype: 'float32', shape: g.info(v).shape });
      nodes.push({ op: 'Cast', domain: '', name: `${v}/to_fp32`, inputs: [nameOf(v)], outputs: [f], attrs: { to: A.i(FLOAT) } });
    }
    return f;
  };
  const convertedHere = (v: string) => !g.inputs.includes(v) && !g.initializers.has(v) && !g.constants.has(v) && !region.has(v);

  for (const n of g.nodes) {
    // Constant nodes stay as they are: float16 users get a converted copy (asHalf), float32 ones the original.
    if (inRegion.has(n) || n.op === 'Constant') {
      nodes.push(n);
      continue;
    }
    const keep = FLOAT32_INPUTS[n.op] ?? [];
    const inputs = n.inputs.map((v, i) => {
      if (!isFloat(v)) return nameOf(v);
      if (keep.includes(i)) return convertedHere(v) ? asFloat32(v) : v;
      // Values computed inside this pass are float16 already; everything else (inputs, weights, the float32 region) is cast.
      return g.inputs.includes(v) || g.initializers.has(v) || g.constants.has(v) || region.has(v) ? asHalf(v) : nameOf(v);
    });
    const attrs = { ...n.attrs };
    if (n.op === 'Cast' && attrs.to?.kind === 'int' && attrs.to.v === FLOAT) attrs.to = A.i(FLOAT16);
    for (const [k, a] of Object.entries(attrs))
      if (a.kind === 'tensor' && a.v.dtype === 'float32') attrs[k] = A.t({ dtype: 'float16', shape: a.v.shape, data: float32ArrayToFloat16(a.v.data as Float32Array) });
    // ConstantOfShape's default value is a float32 zero.
    if (n.op === 'ConstantOfShape' && !attrs.value && isFloat(n.outputs[0])) attrs.value = A.t({ dtype: 'float16', shape: [1], data: new Uint16Array(1) });
    const outputs = n.outputs.map(nameOf);
    n.outputs.forEach((v, i) => {
      if (isFloat(v)) out.values.set(outputs[i], { dtype: 'float16', shape: g.info(v).shape });
    });
    nodes.push({ ...n, inputs, outputs, attrs });
  }
  for (const v of renamedOutputs) nodes.push({ op: 'Cast', domain: '', name: `${v}/to_fp32`, inputs: [half(v)], outputs: [v], attrs: { to: A.i(FLOAT) } });

  // Float32 weights, constants and Constant nodes nothing reads any more.
  const used = new Set([...nodes.flatMap((n) => n.inputs), ...g.outputs]);
  out.nodes = nodes.filter((n) => n.op !== 'Constant' || n.outputs.some((v) => used.has(v)));
  for (const v of g.initializers.keys()) if (!used.has(v)) out.initializers.delete(v);
  for (const v of g.constants.keys()) if (!used.has(v) && !out.initializers.has(v)) out.constants.delete(v);
  return out;
}
