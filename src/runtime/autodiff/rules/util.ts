// Helpers shared by gradient rules.
import type { Sym } from '../../onnx/builder.js';
import * as op from '../../onnx/ops/index.js';

/** Sums a broadcast gradient back to the operand's shape (numpy broadcasting in reverse). */
export function unbroadcast(g: Sym, shape: readonly number[]): Sym {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
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
