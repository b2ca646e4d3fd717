import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/runtime/autodiff/backward.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { GraphBuilder, type Sym } from '../../src/runtime/onnx/builder.js';
import { A } from '../../src/runtime/onnx/ir.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { gradCheck } from './gradcheck.js';

interface ResizeAttrs {
  mode: string;
  coord?: string;
  nearest?: string;
  scales?: number[];
  sizes?: number[];
  cubicA?: number;
  exclude?: boolean;
}

function resizeOp(b: GraphBuilder, x: Sym, o: ResizeAttrs): Sym {
  const scales = o.scales ? b.constant({ dtype: 'float32', shape: [o.scales.length], data: Float32Array.from(o.scales) }) : null;
  const sizes = o.sizes ? b.ints(o.sizes) : null;
  const attrs: Record<string, ReturnType<typeof A.s>> = { mode: A.s(o.mode) };
  if (o.coord) attrs.coordinate_transformation_mode = A.s(o.coord);
  if (o.nearest) attrs.nearest_mode = A.s(o.nearest);
  if (o.cubicA !== undefined) attrs.cubic_coeff_a = A.f(o.cubicA);
  if (o.exclude) attrs.exclude_outside = A.i(1);
  return b.op1('Resize', [x, null, scales, sizes], attrs);
}

// Resize is linear in x, so central differences are exact up to float32 rounding: the default tolerance is ample.
test('Resize nearest, integer factors: AveragePool path (x2, power-of-two) and Reshape+ReduceSum path (x3, channel axis)', async () => {
  await gradCheck((_, [x]) => op.resize(x, [1, 1, 2, 2], 'nearest'), [{ shape: [2, 3, 4, 5] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', scales: [1, 1, 2, 3] }), [{ shape: [1, 2, 3, 3] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', scales: [1, 1, 1, 2] }), [{ shape: [2, 2, 3, 4] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', scales: [1, 2, 1, 2] }), [{ shape: [2, 2, 3, 4] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', scales: [1, 1, 4, 2] }), [{ shape: [1, 3, 2, 3] }]);
});

test('Resize linear x2 (half_pixel) and align_corners, pytorch_half_pixel', async () => {
  await gradCheck((_, [x]) => op.resize(x, [1, 1, 2, 2], 'linear'), [{ shape: [2, 3, 4, 5] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'linear', coord: 'align_corners', scales: [1, 1, 2, 3] }), [{ shape: [1, 2, 3, 4] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'linear', coord: 'pytorch_half_pixel', sizes: [1, 2, 1, 6] }), [{ shape: [1, 2, 3, 4] }]);
});

test('Resize to non-integer sizes and scales, up and down, nearest modes, cubic', async () => {
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', sizes: [1, 2, 7, 4] }), [{ shape: [1, 2, 5, 7] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', scales: [1, 1, 1.5, 0.6] }), [{ shape: [2, 1, 4, 10] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', coord: 'align_corners', nearest: 'round_prefer_ceil', sizes: [1, 2, 9, 5] }), [{ shape: [1, 2, 4, 7] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'nearest', nearest: 'ceil', sizes: [2, 2, 5, 3] }), [{ shape: [2, 2, 3, 6] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'linear', sizes: [1, 2, 7, 4] }), [{ shape: [1, 2, 5, 7] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'linear', scales: [1, 1, 1.7, 0.5] }), [{ shape: [2, 2, 4, 8] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'linear', coord: 'half_pixel_symmetric', sizes: [1, 1, 7, 3] }), [{ shape: [1, 1, 5, 4] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'cubic', sizes: [1, 2, 9, 5] }), [{ shape: [1, 2, 5, 7] }]);
  await gradCheck((b, [x]) => resizeOp(b, x, { mode: 'cubic', coord: 'asymmetric', cubicA: -0.5, exclude: true, scales: [1, 1, 2, 2] }), [{ shape: [1, 1, 4, 5] }]);
});

/** dX of L = sum(Resize(x) * g) by probing: Resize is linear, so dX[i] = sum(Resize(e_i) * g). */
async function probeAdjoint(xs: number[], o: ResizeAttrs, g: Float32Array): Promise<Float64Array> {
  const b = new GraphBuilder();
  const x = b.input('x', xs);
  b.output(resizeOp(b, x, o), 'y');
  const s = await Session.fromGraph(b.graph, { optimization: 'disabled', threads: 1 });
  const n = xs.reduce((a, c) => a * c, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = new Float32Array(n);
    e[i] = 1;
    const y = (await s.run({ x: { dtype: 'float32', shape: xs, data: e } })).y.data as Float32Array;
    let acc = 0;
    for (let k = 0; k < y.length; k++) acc += y[k] * g[k];
    out[i] = acc;
  }
  await s.release();
  return out;
}

test('Resize gradients equal the adjoint probed through onnxruntime (1e-5)', async () => {
  const cases: [number[], ResizeAttrs][] = [
    [[1, 2, 3, 4], { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', scales: [1, 1, 2, 2] }],
    [[1, 2, 3, 4], { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', scales: [1, 1, 3, 3] }],
    [[1, 2, 3, 4], { mode: 'linear', scales: [1, 1, 2, 2] }],
    [[1, 1, 5, 7], { mode: 'nearest', sizes: [1, 1, 7, 4] }],
    [[1, 1, 5, 7], { mode: 'linear', sizes: [1, 1, 8, 3] }],
    [[1, 1, 4, 5], { mode: 'cubic', sizes: [1, 1, 7, 9] }],
  ];
  const rng = new Rng(4);
  for (const [xs, o] of cases) {
    const b = new GraphBuilder();
    const x = b.input('x', xs);
    const y = resizeOp(b, x, o);
    const g = b.input('g', [...y.shape]);
    const loss = b.output(op.reduceSum(op.mul(y, g), [0, 1, 2, 3], false), 'loss');
    const { grads, seed } = backward(b.graph, loss.name, ['x']);
    b.graph.outputs.push(grads.get('x')!);
    const s = await Session.fromGraph(b.graph, { optimization: 'all', threads: 2 });
    const gd = rng.fillNormal(new Float32Array(y.size));
    const out = await s.run({
      x: { dtype: 'float32', shape: xs, data: rng.fillNormal(new Float32Array(x.size)) }, g: { dtype: 'float32', shape: [...y.shape], data: gd },
      [seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) },
    });
    await s.release();
    const got = out[grads.get('x')!].data as Float32Array;
    const want = await probeAdjoint(xs, o, gd);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    assert.ok(worst < 1e-5, `${JSON.stringify(o)}: max error ${worst}`);
  }
});
