// Helpers shared by gradient rules.
import type { Sym } from '../../onnx/builder.js';
import * as op from '../../onnx/ops/index.js';

/** Sums a broadcast gradient back to the operand's shape (numpy broadcasting in reverse). */
export function unbroadcast(g: Sym, shape: readonly number[]): Sym {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  if (axes.length === 0) return op.reshape(g, [...shape]);
  // Summing leading axes (a bias gradient over [rows, features]): a ones-vector MatMul, where onnxruntime's
  // ReduceSum over a leading axis is about ten times slower.
  const p = axes.length;
  if (g.dtype === 'float32' && axes.every((a, i) => a === i) && p < g.rank) {
    const rows = g.shape.slice(0, p).reduce((a, c) => a * c, 1);
    const ones = g.b.constant({ dtype: 'float32', shape: [1, rows], data: new Float32Array(rows).fill(1) });
    return op.reshape(op.matmul(ones, op.reshape(g, [rows, -1])), [...shape]);
  }
  return op.reshape(op.reduceSum(g, axes, true), [...shape]);
}

/** Broadcasts a reduced gradient (keepdims or not) back over the reduced axes of `shape`. */
export function expandReduced(g: Sym, shape: readonly number[], axes: number[], keepdims: boolean): Sym {
  const kept = keepdims ? g : op.reshape(g, shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return op.expand(kept, [...shape]);
}

export function normAxes(axes: number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}

export function inversePerm(perm: number[]): number[] {
  const inv = Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
