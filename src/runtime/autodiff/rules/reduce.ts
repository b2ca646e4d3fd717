// Gradients of reductions and of softmax.
import { attrInt, attrInts } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { GradContext, GradRules } from '../rule.js';
import { expandReduced, normAxes } from './util.js';

function reducedAxes(c: GradContext): number[] {
  const rank = c.x[0]!.rank;
  const axes = (c.x.length > 1 && c.x[1] ? c.constInts(1) : undefined) ?? attrInts(c.node, 'axes', []);
  if (c.x.length > 1 && c.x[1] && !c.constInts(1)) throw new Error(`${c.node.op} '${c.node.name}': axes must be constant`);
  if (axes.length === 0) return attrInt(c.node, 'noop_with_empty_axes', 0) ? [] : [...Array(rank).keys()];
  return normAxes(axes, rank);
}

/** The reductions' and softmax's rules (rules/table.ts assembles every file's rules). */
export const reduceRules: GradRules = {
  ReduceSum: (c) => {
    const x = c.x[0]!;
    return [expandReduced(c.dy[0]!, x.shape, reducedAxes(c), !!attrInt(c.node, 'keepdims', 1))];
  },
  ReduceMean: (c) => {
    const x = c.x[0]!;
    const axes = reducedAxes(c);
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    return [expandReduced(op.mul(c.dy[0]!, 1 / count), x.shape, axes, !!attrInt(c.node, 'keepdims', 1))];
  },
  ReduceSumSquare: (c) => {
    const x = c.x[0]!;
    return [op.mul(expandReduced(c.dy[0]!, x.shape, reducedAxes(c), !!attrInt(c.node, 'keepdims', 1)), op.mul(x, 2))];
  },
  Softmax: (c) => {
    // dx = y * (dy - sum(dy * y, axis))
    const y = c.y[0]!, dy = c.dy[0]!;
    const axis = attrInt(c.node, 'axis', -1);
    return [op.mul(y, op.sub(dy, op.reduceSum(op.mul(dy, y), [axis < 0 ? axis + y.rank : axis], true)))];
  },
  LogSoftmax: (c) => {
    // dx = dy - softmax(x) * sum(dy, axis)
    const y = c.y[0]!, dy = c.dy[0]!;
    const axis = attrInt(c.node, 'axis', -1);
    return [op.sub(dy, op.mul(op.exp(y), op.reduceSum(dy, [axis < 0 ? axis + y.rank : axis], true)))];
  },
};
