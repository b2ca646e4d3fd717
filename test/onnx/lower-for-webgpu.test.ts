// The WebGPU lowering keeps a graph's meaning: FusedMatMul (every transpose flag, alpha) and Sum (broadcasting) are
// rewritten into MatMul, Transpose, Mul and Add, and the rewritten graph computes what the original does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { A } from '../../src/runtime/onnx/ir.js';
import { toFloat16 } from '../../src/runtime/onnx/float16.js';
import { lowerForWebGpu } from '../../src/runtime/onnx/lower-for-webgpu.js';
import * as op from '../../src/runtime/onnx/ops/index.js';

test('FusedMatMul and Sum lowered to ops WebGPU has compute the same values', async () => {
  const b = new GraphBuilder();
  const rng = new Rng(3);
  const feeds: Record<string, HostTensor> = {};
  const inp = (name: string, shape: number[]) => {
    feeds[name] = { dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(shape.reduce((x, y) => x * y, 1))) };
    return b.input(name, shape);
  };
  const a = inp('a', [2, 3, 4]), c = inp('c', [2, 5, 4]), k = inp('k', [3, 2, 4]), r = inp('r', [1, 4, 6]);
  b.output(op.matmulT(a, c, false, true, 0.5), 'y1'); // [2,3,5]
  b.output(op.matmulT(a, a, true, false), 'y2'); // [2,4,4]
  b.output(b.op1('FusedMatMul', [k, r], { transBatchA: A.i(1) }, 'com.microsoft'), 'y3'); // k as [2,3,4] @ [1,4,6]
  b.output(op.sum([a, op.mul(a, 2), inp('bias', [4])]), 'y4');
  b.output(op.sum([a]), 'y5');
  const lowered = lowerForWebGpu(b.graph);
  assert.ok(!lowered.nodes.some((n) => n.op === 'FusedMatMul' || n.op === 'Sum'));
  assert.ok(b.graph.nodes.some((n) => n.op === 'FusedMatMul'), 'the original graph is left as it was');
  const run = async (g: typeof b.graph) => {
    const s = await Session.fromGraph(g, { provider: 'cpu', threads: 1, optimization: 'disabled' });
    try {
      return await s.run(feeds);
    } finally {
      await s.release();
    }
  };
  const [want, got] = [await run(b.graph), await run(lowered)];
  for (const name of ['y1', 'y2', 'y3', 'y4', 'y5']) {
    assert.deepEqual(got[name].shape, want[name].shape, name);
    const x = want[name].data as Float32Array, y = got[name].data as Float32Array;
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-5, `${name}[${i}]: ${x[i]} vs ${y[i]}`);
  }
});

test('in a float16 graph the lowered alpha is float16 too', async () => {
  const b = new GraphBuilder();
  const a = b.input('a', [2, 3]), c = b.input('c', [4, 3]);
  b.output(op.matmulT(a, c, false, true, 0.25), 'y');
  const half = lowerForWebGpu(toFloat16(b.graph));
  const s = await Session.fromGraph(half, { provider: 'cpu', threads: 1 });
  const ones = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape[0] * shape[1]).fill(1) });
  const y = (await s.run({ a: ones([2, 3]), c: ones([4, 3]) })).y;
  await s.release();
  assert.deepEqual(Array.from(y.data as Float32Array), new Array(8).fill(0.75));
});
