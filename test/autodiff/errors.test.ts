import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/runtime/autodiff/backward.js';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { A } from '../../src/runtime/onnx/ir.js';
import * as op from '../../src/runtime/onnx/ops/index.js';

test('an op without a gradient rule fails naming the op and the node', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4]);
  const y = b.op1('CumSum', [x, b.scalar(0, 'int64')], { exclusive: A.i(0) });
  const loss = b.output(op.mean(y), 'loss');
  assert.throws(() => backward(b.graph, loss.name, ['x']), /no gradient rule for op CumSum \(node 'CumSum_\d+'\)/);
});

test('shape-only ops pass through; values that do not reach the loss get zero gradients', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3]);
  const unused = b.input('unused', [5]);
  b.op1('Shape', [x]);
  const loss = b.output(op.mean(op.reshape(x, [6])), 'loss');
  const { grads } = backward(b.graph, loss.name, ['x', 'unused']);
  assert.ok(b.graph.constants.has(grads.get('unused')!), 'zero gradient is a constant');
  assert.equal(b.graph.info(grads.get('unused')!).shape.join(), unused.shape.join());
});

test('a loss that is not a scalar, or does not depend on the parameters, is refused with a reason', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [3]);
  b.input('w', [3]);
  assert.throws(() => backward(b.graph, op.mul(x, 2).name, ['x']), /must be a scalar, its shape is \[3\]/);
  assert.throws(() => backward(b.graph, op.mean(x).name, ['w']), /does not depend on any of: w/);
  const g = new GraphBuilder();
  g.output(op.mean(g.input('z', [2])), 'loss');
  assert.throws(() => makeTrainingGraph(g.graph, 'loss'), /no trainable parameters/);
});
