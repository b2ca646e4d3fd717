// Gradients of elementwise ops. Binary ops broadcast, so each operand's gradient is summed back to its shape.
import type { Sym } from '../../onnx/builder.js';
import { attrFloat } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { GradContext, GradRule, GradRules } from '../rule.js';
import { unbroadcast } from './util.js';

/** Rule for y = f(x) given dy/dx as a function of (x, y). */
function unary(deriv: (x: Sym, y: Sym, c: GradContext) => Sym): GradRule {
  return (c) => [c.needs[0] && c.dy[0] ? op.mul(c.dy[0], deriv(c.x[0]!, c.y[0]!, c)) : undefined];
}

const passThrough: GradRule = (c) => [c.dy[0]];

const maxMinGrad: GradRule = (c) => {
  const g = c.dy[0]!;
  const [a, b] = c.x as Sym[];
  // Ties send the gradient to the first operand.
  const pickA = c.node.op === 'Max' ? op.greater(b, a) : op.less(b, a);
  return [
    c.needs[0] ? unbroadcast(op.where(pickA, 0, g), a.shape) : undefined,
    c.needs[1] ? unbroadcast(op.where(pickA, g, 0), b.shape) : undefined,
  ];
};

/** The elementwise ops' rules (rules/table.ts assembles every file's rules). */
export const elementwiseRules: GradRules = {
  Identity: passThrough,
  Dropout: passThrough,
  Neg: (c) => [c.dy[0] && op.neg(c.dy[0])],
  Abs: unary((x) => op.sign(x)),
  Sqrt: unary((_x, y) => op.div(0.5, y)),
  Exp: unary((_x, y) => y),
  Log: unary((x) => op.reciprocal(x)),
  Reciprocal: unary((_x, y) => op.neg(op.mul(y, y))),
  Sigmoid: unary((_x, y) => op.mul(y, op.sub(1, y))),
  Tanh: unary((_x, y) => op.sub(1, op.mul(y, y))),
  Relu: unary((x) => op.cast(op.greater(x, 0), x.dtype)),
  Erf: unary((x) => op.mul(op.exp(op.neg(op.mul(x, x))), 2 / Math.sqrt(Math.PI))),
  Sin: unary((x) => op.cos(x)),
  Cos: unary((x) => op.neg(op.sin(x))),
  Softplus: unary((x) => op.sigmoid(x)),
  LeakyRelu: unary((x, _y, c) => op.where(op.greater(x, 0), 1, attrFloat(c.node, 'alpha', 0.01))),

  Cast: (c) => {
    const x = c.x[0]!;
    if (!c.dy[0] || !['float32', 'float16', 'float64', 'bfloat16'].includes(x.dtype)) return [undefined];
    return [op.cast(c.dy[0], x.dtype)];
  },

  Add: (c) => {
    const g = c.dy[0]!;
    return [c.needs[0] ? unbroadcast(g, c.x[0]!.shape) : undefined, c.needs[1] ? unbroadcast(g, c.x[1]!.shape) : undefined];
  },
  Sub: (c) => {
    const g = c.dy[0]!;
    return [c.needs[0] ? unbroadcast(g, c.x[0]!.shape) : undefined, c.needs[1] ? unbroadcast(op.neg(g), c.x[1]!.shape) : undefined];
  },
  Mul: (c) => {
    const g = c.dy[0]!;
    const [a, b] = c.x as Sym[];
    return [c.needs[0] ? unbroadcast(op.mul(g, b), a.shape) : undefined, c.needs[1] ? unbroadcast(op.mul(g, a), b.shape) : undefined];
  },
  Div: (c) => {
    const g = c.dy[0]!;
    const [a, b] = c.x as Sym[];
    const ga = c.needs[0] || c.needs[1] ? op.div(g, b) : undefined;
    return [c.needs[0] ? unbroadcast(ga!, a.shape) : undefined, c.needs[1] ? unbroadcast(op.neg(op.mul(ga!, c.y[0]!)), b.shape) : undefined];
  },
  Pow: (c) => {
    const g = c.dy[0]!;
    const [a, p] = c.x as Sym[];
    // d/da a^p = p a^(p-1); d/dp a^p = a^p ln a (only where a > 0, as torch does).
    const da = c.needs[0] ? unbroadcast(op.mul(g, op.mul(p, op.pow(a, op.sub(p, 1)))), a.shape) : undefined;
    const dp = c.needs[1] ? unbroadcast(op.mul(g, op.mul(c.y[0]!, op.log(op.where(op.greater(a, 0), a, 1)))), p.shape) : undefined;
    return [da, dp];
  },
  Sum: (c) => c.x.map((x, i) => (c.needs[i] ? unbroadcast(c.dy[0]!, x!.shape) : undefined)),
  Max: maxMinGrad,
  Min: maxMinGrad,
  Where: (c) => {
    const g = c.dy[0]!;
    const [cond, a, b] = c.x as Sym[];
    return [undefined, c.needs[1] ? unbroadcast(op.where(cond, g, 0), a.shape) : undefined, c.needs[2] ? unbroadcast(op.where(cond, 0, g), b.shape) : undefined];
  },
  Clip: (c) => {
    const g = c.dy[0]!;
    const [x, lo, hi] = c.x as (Sym | undefined)[];
    // The gradient passes where lo <= x <= hi.
    const inside = [lo && op.equal(op.maximum(x!, lo), x!), hi && op.equal(op.minimum(x!, hi), x!)]
      .filter((m): m is Sym => !!m)
      .map((m) => op.cast(m, x!.dtype));
    return [inside.reduce((acc, m) => op.mul(acc, m), g)];
  },
};
