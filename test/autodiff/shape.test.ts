import { test } from 'node:test';
import { A } from '../../src/runtime/onnx/ir.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { gradCheck } from './gradcheck.js';

test('Reshape, Transpose, Squeeze, Unsqueeze, Flatten, Expand, Tile', async () => {
  await gradCheck((_, [x]) => op.mul(op.reshape(x, [4, -1]), op.reshape(x, [4, 6])), [{ shape: [2, 3, 4] }]);
  await gradCheck((_, [x]) => op.transpose(x, [2, 0, 1]), [{ shape: [2, 3, 4] }]);
  await gradCheck((_, [x]) => op.unsqueeze(op.squeeze(x, [1]), [0, 3]), [{ shape: [3, 1, 5] }]);
  await gradCheck((b, [x]) => b.op1('Flatten', [x], { axis: A.i(2) }), [{ shape: [2, 3, 4, 5] }]);
  await gradCheck((_, [x]) => op.expand(x, [2, 3, 4, 5]), [{ shape: [3, 1, 5] }]);
  await gradCheck((b, [x]) => b.op1('Tile', [x, b.ints([2, 1, 3])]), [{ shape: [2, 3, 2] }]);
});

test('Concat, Split and Slice (negative, strided and reversed)', async () => {
  await gradCheck((_, [a, b, c]) => op.concat([a, b, c], 1), [{ shape: [2, 3, 4] }, { shape: [2, 1, 4] }, { shape: [2, 5, 4] }]);
  await gradCheck((_, [x]) => {
    const [p, q, r] = op.split(x, [1, 4, 2], -1);
    return op.concat([op.mul(p, 2), q, op.neg(r)], -1);
  }, [{ shape: [3, 7] }]);
  await gradCheck((_, [x]) => op.split(x, [2, 5], 1)[1], [{ shape: [3, 7] }]);
  await gradCheck((_, [x]) => op.slice(x, [1, -4], [3, 100], [0, 2]), [{ shape: [4, 3, 6] }]);
  await gradCheck((_, [x]) => op.slice(x, [0, 5], [7, 0], [0, 1], [3, -2]), [{ shape: [8, 6] }]);
});

test('Gather: embedding lookup with repeated and negative indices', async () => {
  await gradCheck((b, [table]) => op.gather(table, b.constant({ dtype: 'int64', shape: [2, 3], data: BigInt64Array.of(0n, 3n, 3n, -1n, 1n, 0n) }), 0), [{ shape: [5, 4] }]);
  await gradCheck((b, [x]) => op.gather(x, b.constant({ dtype: 'int64', shape: [2], data: BigInt64Array.of(2n, 0n) }), 1), [{ shape: [3, 4, 2] }]);
});
