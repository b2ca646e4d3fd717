import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/runtime/autodiff/backward.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { A } from '../../src/runtime/onnx/ir.js';
import { groupNorm } from '../../src/runtime/onnx/layers.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../../src/runtime/onnx/params.js';
import { gradCheck } from './gradcheck.js';

// Normalization divides by a standard deviation: float32 finite differences need a smaller step and looser tolerance.
const fd = { h: 3e-3, tol: 3e-2 };

test('InstanceNormalization: x, scale and bias; 1-D to 3-D spatial; epsilon', async () => {
  await gradCheck((_, [x, s, bv]) => op.instanceNorm(x, s, bv), [{ shape: [2, 3, 5, 4] }, { shape: [3] }, { shape: [3] }], fd);
  await gradCheck((_, [x, s, bv]) => op.instanceNorm(x, s, bv, 0.5), [{ shape: [3, 2, 7] }, { shape: [2] }, { shape: [2] }], fd);
  await gradCheck((_, [x, s, bv]) => op.instanceNorm(x, s, bv), [{ shape: [1, 2, 3, 2, 4] }, { shape: [2] }, { shape: [2] }], fd);
  // Scale only (bias a constant).
  await gradCheck((b, [x, s]) => op.instanceNorm(x, s, b.constant({ dtype: 'float32', shape: [3], data: Float32Array.of(0.1, -0.2, 0.3) })), [{ shape: [2, 3, 6] }, { shape: [3] }], fd);
});

test('GroupNorm as layers.groupNorm builds it (Reshape, InstanceNorm with constant ones/zeros, Reshape, Mul, Add)', async () => {
  await gradCheck((b, [x]) => groupNorm({ b, params: new RandomInit(1) }, 'gn', x, 2), [{ shape: [2, 6, 5, 3] }], fd);
  await gradCheck((b, [x]) => groupNorm({ b, params: new RandomInit(1) }, 'gn', x, 4, 1e-6), [{ shape: [1, 8, 3, 3] }], fd);
  // The same structure with gamma and beta as inputs, so their gradients are checked too.
  await gradCheck((b, [x, gamma, beta]) => {
    const [n, c] = x.shape;
    const groups = 3;
    const ones = b.constant({ dtype: 'float32', shape: [groups], data: new Float32Array(groups).fill(1) });
    const zeros = b.constant({ dtype: 'float32', shape: [groups], data: new Float32Array(groups) });
    const xn = op.reshape(op.instanceNorm(op.reshape(x, [n, groups, -1]), ones, zeros), [...x.shape]);
    return op.add(op.mul(xn, op.reshape(gamma, [c, 1, 1])), op.reshape(beta, [c, 1, 1]));
  }, [{ shape: [2, 6, 4, 3] }, { shape: [6] }, { shape: [6] }], fd);
});

test('LayerNormalization: last axis, several axes, no bias, broadcast scale, Mean/InvStdDev outputs', async () => {
  await gradCheck((_, [x, s, bv]) => op.layerNormOp(x, s, bv), [{ shape: [2, 3, 8] }, { shape: [8] }, { shape: [8] }], fd);
  await gradCheck((_, [x, s, bv]) => op.layerNormOp(x, s, bv, 1e-5, 1), [{ shape: [2, 3, 4] }, { shape: [3, 4] }, { shape: [3, 4] }], fd);
  await gradCheck((_, [x, s, bv]) => op.layerNormOp(x, s, bv, 1e-3, -2), [{ shape: [3, 2, 5, 3] }, { shape: [5, 3] }, { shape: [5, 3] }], fd);
  await gradCheck((_, [x, s]) => op.layerNormOp(x, s, null, 1e-5, 0), [{ shape: [2, 3, 2] }, { shape: [2, 3, 2] }], fd);
  // Scale broadcast along the normalized axes.
  await gradCheck((_, [x, s, bv]) => op.layerNormOp(x, s, bv, 1e-5, 1), [{ shape: [2, 3, 4] }, { shape: [1, 4] }, { shape: [4] }], {
    ...fd, notOnWebGpu: "onnxruntime's WebGPU LayerNormalization refuses a broadcast scale (the models' norms have full ones)",
  });
  // A node that also outputs Mean and InvStdDev: the rule reads them instead of recomputing.
  await gradCheck((b, [x, s, bv]) => b.op('LayerNormalization', [x, s, bv], { axis: A.i(-1), epsilon: A.f(1e-5) }, 3)[0], [{ shape: [4, 6] }, { shape: [6] }, { shape: [6] }], fd);
  // Identity affine as constants (the rule uses the output as x-hat).
  await gradCheck((b, [x]) => op.layerNormOp(x, b.constant({ dtype: 'float32', shape: [5], data: new Float32Array(5).fill(1) }), null), [{ shape: [3, 5] }], fd);
});

/** Reference LayerNorm gradients in float64 for L = sum(LN(x) * g) over the last axis. */
function naiveLayerNormGrads(x: Float32Array, g: Float32Array, gamma: Float32Array, rows: number, d: number, eps: number) {
  const dx = new Float64Array(x.length), dgamma = new Float64Array(d), dbeta = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    const xh = Array.from({ length: d }, (_, i) => (x[r * d + i] - mean) * inv);
    const dxh = Array.from({ length: d }, (_, i) => g[r * d + i] * gamma[i]);
    const m1 = dxh.reduce((a, b) => a + b, 0) / d;
    const m2 = dxh.reduce((a, b, i) => a + b * xh[i], 0) / d;
    for (let i = 0; i < d; i++) {
      dx[r * d + i] = inv * (dxh[i] - m1 - xh[i] * m2);
      dgamma[i] += g[r * d + i] * xh[i];
      dbeta[i] += g[r * d + i];
    }
  }
  return { dx, dgamma, dbeta };
}

test('LayerNormalization and InstanceNormalization gradients equal a direct float64 computation (1e-4)', async () => {
  const rng = new Rng(9);
  const data = (n: number) => rng.fillNormal(new Float32Array(n));
  for (const kind of ['layer', 'instance'] as const) {
    // Instance norm over [N, C, L] normalizes each (n, c) row of length L, like a layer norm over rows with a
    // per-channel scale; both are checked against the same reference.
    const [n, c, l] = [2, 3, 17];
    const b = new GraphBuilder();
    const x = b.input('x', [n, c, l]);
    const gamma = b.input('gamma', kind === 'layer' ? [l] : [c]);
    const beta = b.input('beta', kind === 'layer' ? [l] : [c]);
    const y = kind === 'layer' ? op.layerNormOp(x, gamma, beta, 1e-5) : op.instanceNorm(x, gamma, beta, 1e-5);
    const g = b.input('g', [n, c, l]);
    const loss = b.output(op.reduceSum(op.mul(y, g), [0, 1, 2], false), 'loss');
    const { grads, seed } = backward(b.graph, loss.name, ['x', 'gamma', 'beta']);
    b.graph.outputs.push(...['x', 'gamma', 'beta'].map((k) => grads.get(k)!));
    const s = await Session.fromGraph(b.graph, { optimization: 'all', threads: 2 });
    const xd = data(n * c * l), gd = data(n * c * l), gam = data(kind === 'layer' ? l : c), bet = data(kind === 'layer' ? l : c);
    const out = await s.run({
      x: { dtype: 'float32', shape: [n, c, l], data: xd }, g: { dtype: 'float32', shape: [n, c, l], data: gd },
      gamma: { dtype: 'float32', shape: [...gamma.shape], data: gam }, beta: { dtype: 'float32', shape: [...beta.shape], data: bet },
      [seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) },
    });
    await s.release();
    let want: { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array };
    if (kind === 'layer') want = naiveLayerNormGrads(xd, gd, gam, n * c, l, 1e-5);
    else {
      // Per row (n, c) a layer norm of length l with scalar scale gam[c]: use a per-row gamma vector.
      const dx = new Float64Array(xd.length), dgamma = new Float64Array(c), dbeta = new Float64Array(c);
      for (let r = 0; r < n * c; r++) {
        const ch = r % c;
        const one = naiveLayerNormGrads(xd.subarray(r * l, (r + 1) * l), gd.subarray(r * l, (r + 1) * l), new Float32Array(l).fill(gam[ch]), 1, l, 1e-5);
        dx.set(one.dx, r * l);
        dgamma[ch] += one.dgamma.reduce((a, v) => a + v, 0);
        dbeta[ch] += one.dbeta.reduce((a, v) => a + v, 0);
      }
      want = { dx, dgamma, dbeta };
    }
    for (const [name, ref] of [['x', want.dx], ['gamma', want.dgamma], ['beta', want.dbeta]] as const) {
      const got = out[grads.get(name)!].data as Float32Array;
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
      assert.ok(worst < 1e-4, `${kind} d${name}: max error ${worst}`);
    }
  }
});

test('GroupNorm (identity-affine InstanceNorm) gradient equals float64 for offset and near-constant inputs (1e-4)', async () => {
  const rng = new Rng(12);
  const [n, groups, l] = [2, 3, 40];
  for (const [offset, spread, eps] of [[30, 0.5, 1e-5], [1, 1e-3, 1e-5], [0, 2, 1e-6], [-5, 1e-4, 1e-2]]) {
    const b = new GraphBuilder();
    const x = b.input('x', [n, groups, l]);
    const ones = b.constant({ dtype: 'float32', shape: [groups], data: new Float32Array(groups).fill(1) });
    const zeros = b.constant({ dtype: 'float32', shape: [groups], data: new Float32Array(groups) });
    const y = op.instanceNorm(x, ones, zeros, eps);
    const g = b.input('g', [n, groups, l]);
    const loss = b.output(op.reduceSum(op.mul(y, g), [0, 1, 2], false), 'loss');
    const { grads, seed } = backward(b.graph, loss.name, ['x']);
    b.graph.outputs.push(grads.get('x')!);
    const s = await Session.fromGraph(b.graph, { optimization: 'all', threads: 2 });
    const xd = rng.fillNormal(new Float32Array(n * groups * l)).map((v) => offset + spread * v);
    const gd = rng.fillNormal(new Float32Array(n * groups * l));
    const out = await s.run({
      x: { dtype: 'float32', shape: [n, groups, l], data: xd }, g: { dtype: 'float32', shape: [n, groups, l], data: gd },
      [seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) },
    });
    await s.release();
    const got = out[grads.get('x')!].data as Float32Array;
    let worst = 0, scale = 0;
    for (let r = 0; r < n * groups; r++) {
      const want = naiveLayerNormGrads(xd.subarray(r * l, (r + 1) * l), gd.subarray(r * l, (r + 1) * l), new Float32Array(l).fill(1), 1, l, eps).dx;
      for (let i = 0; i < l; i++) {
        worst = Math.max(worst, Math.abs(got[r * l + i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
    }
    // Relative to the gradient's own scale (it is ~1/sigma, large for near-constant rows).
    assert.ok(worst / Math.max(1, scale) < 1e-4, `offset ${offset} spread ${spread} eps ${eps}: max error ${worst} (scale ${scale})`);
  }
});

test('GroupNorm + SiLU differentiate as whole subgraphs (gamma and beta too), as the UNet blocks build them', async () => {
  // gamma and beta as graph inputs shaped like the layer's reshaped parameters, so the fused rule sees its pattern.
  await gradCheck((b, [x, gamma, beta]) => {
    const [n, c] = x.shape;
    const groups = 2;
    const ones = b.constant({ dtype: 'float32', shape: [27], data: new Float32Array(27).fill(1) });
    const zeros = b.constant({ dtype: 'float32', shape: [27], data: new Float32Array(27) });
    const [xn] = b.op('LayerNormalization', [op.reshape(x, [n, groups, -1]), ones, zeros], { axis: A.i(2), epsilon: A.f(1e-5) }, 3);
    const y = op.add(op.mul(op.reshape(xn, [...x.shape]), gamma), beta);
    return op.mul(y, op.sigmoid(y));
  }, [{ shape: [2, 6, 3, 3] }, { shape: [6, 1, 1] }, { shape: [6, 1, 1] }], fd);
});

test('the fused GroupNorm and SiLU rules replace the node-by-node ones', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 8, 4, 4]);
  const y = groupNorm({ b, params: new RandomInit(1) }, 'gn', x, 4);
  const loss = op.reduceSum(op.mul(y, op.sigmoid(y)), [0, 1, 2, 3], false);
  backward(b.graph, loss.name, ['x']);
  const gradOps = b.graph.nodes.filter((n) => n.name.startsWith('grad/'));
  // No rule of the inner nodes ran: no gradient scope for the Sigmoid, the LayerNormalization or the Reshapes.
  assert.deepEqual(gradOps.filter((n) => /^grad\/(Sigmoid|LayerNormalization|Reshape)_/.test(n.name)).map((n) => n.name), []);
  assert.ok(gradOps.length > 0);
});
