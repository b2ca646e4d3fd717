import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/runtime/autodiff/backward.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { A } from '../../src/runtime/onnx/ir.js';
import { attention } from '../../src/runtime/onnx/layers.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { gradCheck } from './gradcheck.js';

test('MatMul with batch broadcasting and 1-D operands', async () => {
  await gradCheck((_, [a, b]) => op.matmul(a, b), [{ shape: [2, 3, 5, 4] }, { shape: [3, 4, 7] }]);
  await gradCheck((_, [a, b]) => op.matmul(a, b), [{ shape: [5, 4] }, { shape: [2, 4, 3] }]);
  await gradCheck((_, [a, b]) => op.matmul(a, b), [{ shape: [4] }, { shape: [2, 4, 3] }]);
  await gradCheck((_, [a, b]) => op.matmul(a, b), [{ shape: [3, 5, 4] }, { shape: [4] }]);
});

test('FusedMatMul with every transpose combination and alpha', async () => {
  for (const tA of [false, true])
    for (const tB of [false, true]) {
      const a = tA ? [2, 4, 5] : [2, 5, 4];
      const b = tB ? [3, 4] : [4, 3];
      await gradCheck((_, [x, y]) => op.matmulT(x, y, tA, tB, 0.7), [{ shape: a }, { shape: b }]);
    }
});

test('Gemm with transposes, alpha, beta and broadcast bias', async () => {
  for (const tA of [false, true])
    for (const tB of [false, true])
      await gradCheck(
        (b, [x, y, c]) => b.op1('Gemm', [x, y, c], { transA: A.i(tA ? 1 : 0), transB: A.i(tB ? 1 : 0), alpha: A.f(1.3), beta: A.f(0.6) }),
        [{ shape: tA ? [4, 5] : [5, 4] }, { shape: tB ? [3, 4] : [4, 3] }, { shape: [3] }],
      );
  await gradCheck((_, [x, y]) => op.gemm(x, y, null, { transB: true }), [{ shape: [6, 5] }, { shape: [2, 5] }]);
});

test('attention (Softmax then MatMul with V) differentiated as one piece: gradients of q, k, v; no softmax rule', async () => {
  await gradCheck((_, [q, k, v]) => attention(q, k, v, 2), [{ shape: [2, 5, 4] }, { shape: [2, 3, 4] }, { shape: [2, 3, 4] }], { tol: 1e-2 });
  const b = new GraphBuilder();
  const [q, k, v] = ['q', 'k', 'v'].map((n) => b.input(n, [1, 4, 8]));
  const out = attention(q, k, v, 2);
  backward(b.graph, op.reduceSum(op.mul(out, out), [0, 1, 2], false).name, ['q', 'k', 'v']);
  assert.equal(b.graph.nodes.filter((n) => n.name.startsWith('grad/Softmax_')).length, 0);
});
