// Gradient check against central finite differences, run on onnxruntime. Directional derivatives along random
// directions keep the check cheap on large inputs; the loss is a random projection of the output so that every
// output element contributes with a different weight.
import assert from 'node:assert/strict';
import { backward } from '../../src/runtime/autodiff/backward.js';
import { GraphBuilder, type Sym } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { type HostTensor, numel } from '../../src/runtime/onnx/tensor.js';
import type { Graph } from '../../src/runtime/onnx/ir.js';
import { webgpuForTests } from '../webgpu-available.js';

export interface GradInput {
  shape: number[];
  /** Values; default N(0,1). 'positive' draws from [0.5, 2]. */
  init?: 'normal' | 'positive' | ((rng: Rng, n: number) => Float32Array);
  /** Differentiate with respect to this input (default true). */
  grad?: boolean;
}

export interface GradCheckOptions {
  seed?: number;
  h?: number;
  /** Allowed |analytic - numeric| / max(1, |numeric|, |analytic|) scale. */
  tol?: number;
  directions?: number;
  /** Why this graph cannot run on WebGPU (then it is checked on the CPU only). */
  notOnWebGpu?: string;
}

export async function gradCheck(build: (b: GraphBuilder, xs: Sym[]) => Sym, inputs: GradInput[], o: GradCheckOptions = {}): Promise<void> {
  const rng = new Rng(o.seed ?? 1);
  const b = new GraphBuilder();
  const xs = inputs.map((inp, i) => b.input(`x${i}`, inp.shape));
  const out = build(b, xs);
  const proj = b.input('proj', [...out.shape]);
  const loss = b.output(op.reduceSum(op.mul(out, proj), [...Array(out.rank).keys()], false), 'loss');
  const wrt = xs.filter((_, i) => inputs[i].grad !== false).map((x) => x.name);
  const { grads, seed } = backward(b.graph, loss.name, wrt);
  for (const w of wrt) b.graph.outputs.push(grads.get(w)!);
  const session = await Session.fromGraph(b.graph, { optimization: 'disabled', threads: 1 });

  const values: HostTensor[] = inputs.map((inp) => {
    const n = numel(inp.shape);
    let data: Float32Array;
    if (typeof inp.init === 'function') data = inp.init(rng, n);
    else if (inp.init === 'positive') data = rng.fillUniform(new Float32Array(n), 0.5, 2);
    else data = rng.fillNormal(new Float32Array(n));
    return { dtype: 'float32', shape: inp.shape, data };
  });
  const projection: HostTensor = { dtype: 'float32', shape: [...out.shape], data: rng.fillNormal(new Float32Array(out.size)) };
  const feeds = (vals: HostTensor[]) => {
    const f: Record<string, HostTensor> = { proj: projection, [seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) } };
    vals.forEach((v, i) => (f[`x${i}`] = v));
    return f;
  };
  const base = await session.run(feeds(values));
  const h = o.h ?? 1e-2;
  const tol = o.tol ?? 2e-2;
  for (let d = 0; d < (o.directions ?? 3); d++) {
    const dirs = values.map((v, i) => (inputs[i].grad === false ? null : rng.fillNormal(new Float32Array(v.data.length))));
    const shifted = (sign: number) =>
      values.map((v, i) => {
        const dir = dirs[i];
        if (!dir) return v;
        const data = new Float32Array(v.data as Float32Array);
        for (let k = 0; k < data.length; k++) data[k] += sign * h * dir[k];
        return { ...v, data };
      });
    const lp = (await session.run(feeds(shifted(1)), ['loss'])).loss.data[0] as number;
    const lm = (await session.run(feeds(shifted(-1)), ['loss'])).loss.data[0] as number;
    const numeric = (lp - lm) / (2 * h);
    let analytic = 0;
    xs.forEach((x, i) => {
      const dir = dirs[i];
      if (!dir) return;
      const g = base[grads.get(x.name)!].data as Float32Array;
      for (let k = 0; k < g.length; k++) analytic += g[k] * dir[k];
    });
    const err = Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric), Math.abs(analytic));
    assert.ok(err <= tol, `direction ${d}: analytic ${analytic.toPrecision(7)} vs numeric ${numeric.toPrecision(7)} (rel err ${err.toExponential(2)})`);
  }
  await session.release();
  if (webgpuForTests() && !o.notOnWebGpu) await sameOnWebGpu(b.graph, feeds(values), base, wrt.map((w) => grads.get(w)!));
}

/** The graph on the WebGPU provider gives the CPU's loss and gradients (relative L2 error 1e-4: float sums in
 * another order; a wrong kernel is off by tens of percent). */
export async function sameOnWebGpu(graph: Graph, feeds: Record<string, HostTensor>, cpu: Record<string, HostTensor>, names: string[]): Promise<void> {
  const gpu = await Session.fromGraph(graph, { optimization: 'disabled', threads: 1, provider: 'webgpu' });
  try {
    const out = await gpu.run(feeds);
    for (const name of ['loss', ...names]) {
      const a = cpu[name].data as Float32Array, g = out[name].data as Float32Array;
      let d = 0, n = 0;
      for (let k = 0; k < a.length; k++) [d, n] = [d + (g[k] - a[k]) ** 2, n + a[k] ** 2];
      const rel = Math.sqrt(d / Math.max(n, 1e-30));
      assert.ok(rel <= 1e-4 || Math.sqrt(d) <= 1e-6, `WebGPU ${name}: relative L2 error ${rel.toExponential(2)} against the CPU`);
    }
  } finally {
    await gpu.release();
  }
}
