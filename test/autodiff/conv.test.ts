import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/runtime/autodiff/backward.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { GraphBuilder, type Sym } from '../../src/runtime/onnx/builder.js';
import { A } from '../../src/runtime/onnx/ir.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { tapRuns } from '../../src/runtime/autodiff/rules/conv.js';
import { gradCheck } from './gradcheck.js';

interface Geom {
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
}

const conv = (x: Sym, w: Sym, bias: Sym | null, g: Geom) => op.conv(x, w, bias, g);

test('Conv 2-D: strides, pads (asymmetric, dropped rows), dilation, bias or not', async () => {
  const cases: [number[], number[], Geom, boolean][] = [
    [[2, 3, 7, 6], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }, true],
    [[1, 2, 8, 7], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, true],
    [[2, 2, 9, 8], [3, 2, 3, 2], { strides: [2, 3], pads: [1, 0, 0, 1] }, false],
    [[1, 3, 9, 9], [2, 3, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }, true],
    [[1, 2, 10, 9], [3, 2, 3, 3], { dilations: [2, 2], strides: [2, 2], pads: [1, 2, 2, 1] }, false],
    [[2, 3, 5, 6], [2, 3, 3, 3], {}, true],
    [[1, 2, 6, 5], [3, 2, 2, 3], { pads: [0, 2, 1, 0] }, false],
    // Pad larger than (k-1)*d: the stride-1 flipped Conv would need negative pads, ConvTranspose is used instead.
    [[1, 2, 5, 5], [3, 2, 1, 1], { pads: [1, 1, 1, 1] }, true],
  ];
  for (const [i, [xs, ws, g, bias]] of cases.entries()) {
    const inputs = [{ shape: xs }, { shape: ws }, ...(bias ? [{ shape: [ws[0]] }] : [])];
    await gradCheck((_, [x, w, bv]) => conv(x, w, bv ?? null, g), inputs, { seed: 10 + i });
  }
});

test('Conv groups, depthwise, 1x1 and 1-D', async () => {
  await gradCheck((_, [x, w, bv]) => conv(x, w, bv, { group: 2, pads: [1, 1, 1, 1] }), [{ shape: [2, 4, 6, 5] }, { shape: [6, 2, 3, 3] }, { shape: [6] }]);
  await gradCheck((_, [x, w]) => conv(x, w, null, { group: 2, strides: [2, 2] }), [{ shape: [1, 6, 7, 7] }, { shape: [4, 3, 3, 3] }]);
  // Depthwise, multiplier 1 and 2.
  await gradCheck((_, [x, w, bv]) => conv(x, w, bv, { group: 3, pads: [1, 1, 1, 1] }), [{ shape: [2, 3, 6, 6] }, { shape: [3, 1, 3, 3] }, { shape: [3] }]);
  await gradCheck((_, [x, w]) => conv(x, w, null, { group: 3, strides: [2, 1], pads: [1, 1, 1, 1] }), [{ shape: [1, 3, 7, 6] }, { shape: [6, 1, 3, 3] }]);
  // 1x1: stride 1 (plain MatMul path), stride 2, with padding.
  await gradCheck((_, [x, w, bv]) => conv(x, w, bv, {}), [{ shape: [2, 5, 4, 3] }, { shape: [3, 5, 1, 1] }, { shape: [3] }]);
  await gradCheck((_, [x, w]) => conv(x, w, null, { strides: [2, 2] }), [{ shape: [1, 3, 5, 6] }, { shape: [4, 3, 1, 1] }]);
  await gradCheck((_, [x, w]) => conv(x, w, null, { group: 2 }), [{ shape: [2, 4, 3, 3] }, { shape: [6, 2, 1, 1] }]);
  // 1-D.
  await gradCheck((_, [x, w, bv]) => conv(x, w, bv, { strides: [2], pads: [1, 1] }), [{ shape: [2, 3, 9] }, { shape: [4, 3, 3] }, { shape: [4] }]);
  await gradCheck((_, [x, w]) => conv(x, w, null, { dilations: [2], pads: [2, 1] }), [{ shape: [1, 2, 8] }, { shape: [3, 2, 3] }]);
  // A batch above 16 (ReduceSum instead of Split + Sum over the batch).
  await gradCheck((_, [x, w]) => conv(x, w, null, { pads: [1, 1, 1, 1] }), [{ shape: [17, 2, 4, 3] }, { shape: [3, 2, 3, 3] }]);
  // 3-D.
  await gradCheck((_, [x, w]) => conv(x, w, null, { pads: [1, 0, 1, 1, 0, 0], strides: [1, 2, 1] }), [{ shape: [1, 2, 4, 5, 3] }, { shape: [3, 2, 2, 3, 2] }], {
    notOnWebGpu: "onnxruntime's WebGPU Conv3D has no groups, and dW's im2col is a grouped Conv (no model here has 3-D convs)",
  });
});

test('ConvTranspose: strides, output_padding, pads, dilation, groups, output_shape', async () => {
  const ct = (b: GraphBuilder, inputs: Sym[], attrs: Record<string, number[] | number>) =>
    b.op1('ConvTranspose', [inputs[0], inputs[1], inputs[2] ?? null], Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'number' ? A.i(v) : A.is(v)])));
  await gradCheck((b, xs) => ct(b, xs, { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }), [{ shape: [2, 3, 4, 5] }, { shape: [3, 2, 3, 3] }, { shape: [2] }]);
  await gradCheck((b, xs) => ct(b, xs, { strides: [1, 1], pads: [0, 1, 1, 0] }), [{ shape: [1, 2, 5, 4] }, { shape: [2, 3, 3, 2] }]);
  await gradCheck((b, xs) => ct(b, xs, { strides: [2, 3], dilations: [2, 1], output_padding: [1, 2] }), [{ shape: [1, 2, 3, 4] }, { shape: [2, 2, 3, 3] }]);
  await gradCheck((b, xs) => ct(b, xs, { strides: [2, 2], group: 2, pads: [1, 1, 1, 1] }), [{ shape: [1, 4, 3, 4] }, { shape: [4, 3, 3, 3] }, { shape: [6] }]);
  await gradCheck((b, xs) => ct(b, xs, { strides: [2], output_shape: [10] }), [{ shape: [2, 3, 5] }, { shape: [3, 2, 3] }]);
});

test('Pad: constant (with negative pads and a differentiable value), edge, reflect', async () => {
  const padOp = (b: GraphBuilder, x: Sym, pads: number[], mode: string, value?: Sym) =>
    b.op1('Pad', [x, b.ints(pads), value ?? null], { mode: A.s(mode) });
  await gradCheck((b, [x]) => padOp(b, x, [0, 1, 2, 0, 2, 1], 'constant'), [{ shape: [2, 3, 4] }]);
  await gradCheck((b, [x, v]) => padOp(b, x, [1, -1, 0, 2, 1, -2], 'constant', v), [{ shape: [3, 4, 5] }, { shape: [] }]);
  await gradCheck((b, [x]) => padOp(b, x, [0, 0, 2, 1, 0, 0, 1, 3], 'edge'), [{ shape: [1, 2, 3, 4] }]);
  await gradCheck((b, [x]) => padOp(b, x, [0, 0, 2, 1, 0, 0, 1, 3], 'reflect'), [{ shape: [1, 2, 4, 5] }]);
});

test('GlobalAveragePool', async () => {
  await gradCheck((b, [x]) => b.op1('GlobalAveragePool', [x]), [{ shape: [2, 3, 4, 5] }]);
  await gradCheck((b, [x]) => b.op1('GlobalAveragePool', [x]), [{ shape: [2, 3, 7] }]);
});

// ---- exactness against a direct loop ---------------------------------------------------------------------------

/** dX, dW of L = sum(conv(x, w) * g) by the definition, in float64. */
function naiveConvGrads(x: Float32Array, xs: number[], w: Float32Array, ws: number[], g: Float32Array, gs: number[], geo: Required<Geom>) {
  const [n, c, h, wd] = xs, [m, cg, kh, kw] = ws, [, , oh, ow] = gs;
  const grp = geo.group, mg = m / grp;
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length);
  for (let b = 0; b < n; b++)
    for (let mo = 0; mo < m; mo++) {
      const gi = Math.floor(mo / mg);
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          const gv = g[((b * m + mo) * oh + y) * ow + z];
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const ih = y * geo.strides[0] - geo.pads[0] + i * geo.dilations[0];
                const iw = z * geo.strides[1] - geo.pads[1] + j * geo.dilations[1];
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                const xi = ((b * c + gi * cg + ci) * h + ih) * wd + iw;
                const wi = ((mo * cg + ci) * kh + i) * kw + j;
                dw[wi] += gv * x[xi];
                dx[xi] += gv * w[wi];
              }
        }
    }
  return { dx, dw };
}

async function exactCheck(xs: number[], ws: number[], geom: Geom, optimization: 'disabled' | 'all') {
  const geo: Required<Geom> = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, ...geom };
  const b = new GraphBuilder();
  const x = b.input('x', xs), w = b.input('w', ws);
  const y = conv(x, w, null, geo);
  const g = b.input('g', [...y.shape]);
  const loss = b.output(op.reduceSum(op.mul(y, g), [0, 1, 2, 3], false), 'loss');
  const { grads, seed } = backward(b.graph, loss.name, ['x', 'w']);
  b.graph.outputs.push(grads.get('x')!, grads.get('w')!);
  const s = await Session.fromGraph(b.graph, { optimization, threads: 2 });
  const rng = new Rng(5);
  const data = (shape: number[]) => rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1)));
  const [xd, wd, gd] = [data(xs), data(ws), data([...y.shape])];
  const out = await s.run({
    x: { dtype: 'float32', shape: xs, data: xd }, w: { dtype: 'float32', shape: ws, data: wd },
    g: { dtype: 'float32', shape: [...y.shape], data: gd }, [seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) },
  });
  await s.release();
  const ref = naiveConvGrads(xd, xs, wd, ws, gd, [...y.shape], geo);
  for (const [name, want] of [['x', ref.dx], ['w', ref.dw]] as const) {
    const got = out[grads.get(name)!].data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    assert.ok(worst < 1e-4, `d${name} for x ${xs} w ${ws} ${JSON.stringify(geom)} (${optimization}): max error ${worst}`);
  }
}

test('Conv dX and dW equal a direct loop (1e-4), unoptimized and with optimization all', async () => {
  // dW is built from the im2col of X, or at stride 1 of dY when that is smaller (M*H*W < C*Ho*Wo): both are covered.
  const cases: [number[], number[], Geom][] = [
    [[2, 8, 9, 8], [6, 8, 3, 3], { pads: [1, 1, 1, 1] }], // dY im2col
    [[2, 5, 9, 8], [7, 5, 3, 3], { pads: [1, 1, 1, 1] }], // X im2col
    [[1, 6, 11, 9], [3, 6, 3, 3], { dilations: [2, 2], pads: [2, 1, 0, 2] }], // dY im2col, dilated, asymmetric pads
    [[2, 16, 8, 8], [1, 16, 3, 3], { pads: [1, 1, 1, 1] }], // dY im2col, one output channel
    [[2, 4, 9, 10], [5, 4, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }],
    [[1, 4, 11, 9], [4, 4, 3, 3], { dilations: [2, 2], pads: [2, 1, 0, 2] }],
    [[2, 6, 7, 7], [4, 3, 3, 3], { group: 2, pads: [1, 1, 1, 1] }], // dY im2col per group
    [[2, 4, 7, 7], [6, 2, 3, 3], { group: 2, pads: [1, 0, 1, 2] }], // X im2col per group
    [[2, 4, 6, 6], [8, 1, 3, 3], { group: 4, strides: [2, 2], pads: [0, 1, 1, 0] }],
    [[2, 6, 5, 4], [3, 6, 1, 1], {}],
    [[1, 3, 8, 8], [5, 3, 2, 2], { strides: [2, 2] }],
  ];
  for (const [xs, ws, g] of cases) for (const o of ['disabled', 'all'] as const) await exactCheck(xs, ws, g, o);
});

test('im2col offsets come in runs of at most 4 or a multiple of 4 (WebGPU computes other depthwise multipliers wrongly)', () => {
  for (let kk = 1; kk <= 49; kk++) {
    const runs = tapRuns(kk);
    assert.deepEqual(runs.flat(), Array.from({ length: kk }, (_, i) => i), `K=${kk}: every offset once, in order`);
    for (const r of runs) assert.ok(r.length <= 4 || r.length % 4 === 0, `K=${kk}: run of ${r.length}`);
    assert.ok(runs.length <= 2);
  }
  assert.deepEqual(tapRuns(9).map((r) => r.length), [8, 1]);
});
