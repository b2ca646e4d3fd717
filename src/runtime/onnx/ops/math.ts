// Elementwise ops with numpy broadcasting, reductions, softmax and matrix products.
import type { DType } from '../tensor.js';
import type { Sym } from '../builder.js';
import { A, attrInt, attrInts } from '../ir.js';
import { ShapeRules, broadcastShapes, constInts, fail, type InferContext, need, normAxis } from './registry.js';

/** Shape inference for the ops of this file (ops/table.ts holds every file's). */
export const mathRules = new ShapeRules();

const UNARY = ['Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Relu', 'Erf', 'Sin', 'Cos', 'Identity',
  'Reciprocal', 'Floor', 'Ceil', 'Round', 'Softplus', 'Sign', 'Dropout', 'LeakyRelu', 'Elu', 'HardSigmoid'];
mathRules.define(UNARY, (c) => [need(c, 0)]);
mathRules.define(['Not'], (c) => [need(c, 0)]);
mathRules.define(['IsNaN', 'IsInf'], (c) => [{ dtype: 'bool', shape: need(c, 0).shape }]);

const ONNX_DTYPES: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' };
export const DTYPE_CODES: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16 };
export function dtypeOfCode(code: number): DType {
  const d = ONNX_DTYPES[code];
  if (!d) throw new Error(`ONNX data type ${code} is not supported`);
  return d;
}
mathRules.define('Cast', (c) => [{ dtype: dtypeOfCode(attrInt(c.node, 'to')), shape: need(c, 0).shape }]);

mathRules.define(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod'], (c) => {
  const a = need(c, 0), b = need(c, 1);
  return [{ dtype: a.dtype, shape: broadcastShapes(c, [a.shape, b.shape]) }];
});
mathRules.define(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'], (c) => [
  { dtype: 'bool', shape: broadcastShapes(c, [need(c, 0).shape, need(c, 1).shape]) },
]);
mathRules.define(['Sum', 'Mean'], (c) => [{ dtype: need(c, 0).dtype, shape: broadcastShapes(c, c.inputs.map((v, i) => (v ?? need(c, i)).shape)) }]);
mathRules.define('Where', (c) => [{ dtype: need(c, 1).dtype, shape: broadcastShapes(c, [need(c, 0).shape, need(c, 1).shape, need(c, 2).shape]) }]);
mathRules.define('Clip', (c) => [need(c, 0)]);

/** Reduce ops: axes come from input 1 (ReduceSum at opset 13+, all reduces at 18+) or the attribute. */
export function reduceAxes(c: InferContext, rank: number): number[] {
  const fromInput = c.inputs.length > 1 ? constInts(c, 1) : undefined;
  const axes = fromInput ?? attrInts(c.node, 'axes', []);
  if (axes.length === 0) return attrInt(c.node, 'noop_with_empty_axes', 0) ? [] : [...Array(rank).keys()];
  return axes.map((a) => normAxis(c, a, rank));
}
mathRules.define(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'ReduceL2', 'ReduceLogSumExp'], (c) => {
  const x = need(c, 0);
  const axes = reduceAxes(c, x.shape.length);
  const keep = attrInt(c.node, 'keepdims', 1);
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
});
mathRules.define(['ArgMax', 'ArgMin'], (c) => {
  const x = need(c, 0);
  const axis = normAxis(c, attrInt(c.node, 'axis', 0), x.shape.length);
  const keep = attrInt(c.node, 'keepdims', 1);
  const shape = x.shape.flatMap((d, i) => (i !== axis ? [d] : keep ? [1] : []));
  return [{ dtype: 'int64', shape }];
});
mathRules.define(['Softmax', 'LogSoftmax'], (c) => {
  const x = need(c, 0);
  normAxis(c, attrInt(c.node, 'axis', -1), x.shape.length);
  return [x];
});
mathRules.define('CumSum', (c) => [need(c, 0)]);

/** numpy.matmul shape rule (1-D operands promoted and squeezed). */
export function matmulShape(c: InferContext, a: number[], b: number[]): number[] {
  if (a.length === 0 || b.length === 0) fail(c, 'MatMul needs operands of rank 1 or more');
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const k1 = a2[a2.length - 1], k2 = b2[b2.length - 2];
  if (k1 !== k2) fail(c, `inner dimensions differ: [${a.join(', ')}] @ [${b.join(', ')}]`);
  const batch = broadcastShapes(c, [a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}
mathRules.define('MatMul', (c) => [{ dtype: need(c, 0).dtype, shape: matmulShape(c, need(c, 0).shape, need(c, 1).shape) }]);
mathRules.define('FusedMatMul', (c) => {
  const t = (s: number[], on: number) => (on ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
  // transBatch moves axis 0 behind the batch axes ([d0, d1.., dn-2, dn-1] -> [d1.., dn-2, d0, dn-1]) before transA/B.
  const tb = (s: number[], on: number) => (on ? [...s.slice(1, -1), s[0], s[s.length - 1]] : s);
  const a = t(tb(need(c, 0).shape, attrInt(c.node, 'transBatchA', 0)), attrInt(c.node, 'transA', 0));
  const b = t(tb(need(c, 1).shape, attrInt(c.node, 'transBatchB', 0)), attrInt(c.node, 'transB', 0));
  return [{ dtype: need(c, 0).dtype, shape: matmulShape(c, a, b) }];
});
mathRules.define('Gemm', (c) => {
  const a = need(c, 0).shape, b = need(c, 1).shape;
  if (a.length !== 2 || b.length !== 2) fail(c, `Gemm needs 2-D operands, got [${a.join(', ')}] and [${b.join(', ')}]`);
  const [m, k] = attrInt(c.node, 'transA', 0) ? [a[1], a[0]] : a;
  const [k2, n] = attrInt(c.node, 'transB', 0) ? [b[1], b[0]] : b;
  if (k !== k2) fail(c, `inner dimensions differ: [${a.join(', ')}] and [${b.join(', ')}]`);
  if (c.inputs[2]) broadcastShapes(c, [[m, n], c.inputs[2].shape]);
  return [{ dtype: need(c, 0).dtype, shape: [m, n] }];
});

// ---- typed functions -------------------------------------------------------------------------------------------

export type Operand = Sym | number;

function lift(a: Operand, like: Sym): Sym {
  return typeof a === 'number' ? like.b.scalar(a, like.dtype) : a;
}
function pair(a: Operand, b: Operand): [Sym, Sym] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error('at least one operand must be a tensor');
  const like = (typeof a === 'number' ? b : a) as Sym;
  return [lift(a, like), lift(b, like)];
}
const binary = (op: string) => (a: Operand, b: Operand): Sym => {
  const [x, y] = pair(a, b);
  return x.b.op1(op, [x, y]);
};
const unary = (op: string) => (x: Sym): Sym => x.b.op1(op, [x]);

export const add = binary('Add');
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');
export const pow = binary('Pow');
export const maximum = binary('Max');
export const minimum = binary('Min');
export const equal = binary('Equal');
export const less = binary('Less');
export const greater = binary('Greater');
export const neg = unary('Neg');
export const abs = unary('Abs');
export const sqrt = unary('Sqrt');
export const exp = unary('Exp');
export const log = unary('Log');
export const sigmoid = unary('Sigmoid');
export const tanh = unary('Tanh');
export const relu = unary('Relu');
export const erf = unary('Erf');
export const sin = unary('Sin');
export const cos = unary('Cos');
export const identity = unary('Identity');
export const reciprocal = unary('Reciprocal');
export const sign = unary('Sign');

export function sum(xs: Sym[]): Sym {
  if (xs.length === 0) throw new Error('sum of no tensors');
  return xs.length === 1 ? xs[0] : xs[0].b.op1('Sum', xs);
}
/** Where(cond, a, b); two plain numbers become float32 scalars. */
export function where(cond: Sym, a: Operand, b: Operand): Sym {
  const [x, y] = typeof a === 'number' && typeof b === 'number' ? [cond.b.scalar(a), cond.b.scalar(b)] : pair(a, b);
  return cond.b.op1('Where', [cond, x, y]);
}
export function cast(x: Sym, to: DType): Sym {
  return x.dtype === to ? x : x.b.op1('Cast', [x], { to: A.i(DTYPE_CODES[to]) });
}

/** ReduceSum (axes as an input, opset 13+). Empty axes reduce nothing. */
export function reduceSum(x: Sym, axes: number[], keepdims = true): Sym {
  if (axes.length === 0) return x;
  return x.b.op1('ReduceSum', [x, x.b.ints(axes)], { keepdims: A.i(keepdims ? 1 : 0) });
}
/** ReduceMean (axes as an attribute up to opset 17). */
export function reduceMean(x: Sym, axes: number[], keepdims = true): Sym {
  if (axes.length === 0) return x;
  return x.b.op1('ReduceMean', [x], { axes: A.is(axes), keepdims: A.i(keepdims ? 1 : 0) });
}
export function reduceMax(x: Sym, axes: number[], keepdims = true): Sym {
  return x.b.op1('ReduceMax', [x], { axes: A.is(axes), keepdims: A.i(keepdims ? 1 : 0) });
}
export function softmax(x: Sym, axis = -1): Sym {
  return x.b.op1('Softmax', [x], { axis: A.i(axis) });
}
export function logSoftmax(x: Sym, axis = -1): Sym {
  return x.b.op1('LogSoftmax', [x], { axis: A.i(axis) });
}
export function matmul(a: Sym, b: Sym): Sym {
  return a.b.op1('MatMul', [a, b]);
}
/** MatMul with transposed last two axes of either operand, fused (com.microsoft, an inference op ORT loads). */
export function matmulT(a: Sym, b: Sym, transA: boolean, transB: boolean, alpha = 1): Sym {
  if (!transA && !transB && alpha === 1) return matmul(a, b);
  return a.b.op1('FusedMatMul', [a, b], { transA: A.i(transA ? 1 : 0), transB: A.i(transB ? 1 : 0), alpha: A.f(alpha) }, 'com.microsoft');
}
export function gemm(a: Sym, b: Sym, c: Sym | null, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Sym {
  return a.b.op1('Gemm', [a, b, c], {
    transA: A.i(o.transA ? 1 : 0), transB: A.i(o.transB ? 1 : 0), alpha: A.f(o.alpha ?? 1), beta: A.f(o.beta ?? 1),
  });
}
export function square(x: Sym): Sym {
  return mul(x, x);
}
export function mean(x: Sym): Sym {
  return reduceMean(x, [...Array(x.rank).keys()], false);
}
