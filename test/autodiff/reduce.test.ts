import { test } from 'node:test';
import { A } from '../../src/runtime/onnx/ir.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { gradCheck } from './gradcheck.js';

test('ReduceSum and ReduceMean over axes, with and without keepdims', async () => {
  await gradCheck((_, [x]) => op.reduceSum(x, [0, 2], true), [{ shape: [3, 4, 5] }]);
  await gradCheck((_, [x]) => op.reduceSum(x, [-1], false), [{ shape: [3, 4, 5] }]);
  await gradCheck((_, [x]) => op.reduceMean(x, [1], false), [{ shape: [3, 4, 5] }]);
  await gradCheck((_, [x]) => op.mean(x), [{ shape: [7, 3] }]);
  await gradCheck((b, [x]) => b.op1('ReduceSumSquare', [x], { axes: A.is([1]), keepdims: A.i(0) }), [{ shape: [3, 4] }]);
});

test('Softmax and LogSoftmax on several axes', async () => {
  await gradCheck((_, [x]) => op.softmax(x, -1), [{ shape: [2, 3, 7] }]);
  await gradCheck((_, [x]) => op.softmax(x, 1), [{ shape: [2, 5, 3] }]);
  await gradCheck((_, [x]) => op.logSoftmax(x, -1), [{ shape: [4, 6] }]);
  await gradCheck((_, [x]) => op.logSoftmax(x, 0), [{ shape: [4, 6] }]);
});
