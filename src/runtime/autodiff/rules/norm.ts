// Gradients of InstanceNormalization (how GroupNorm exports) and LayerNormalization.
//
// For xh = (x - mean) * invsig over the normalized axes and dxh = dY * scale:
//   dX = invsig * (dxh - mean(dxh) - xh * mean(dxh * xh)),  dscale = sum(dY * xh),  dbias = sum(dY)
// (sums over the axes scale/bias broadcast along). Statistics are recomputed from x (LayerNormalization's Mean and
// InvStdDev outputs are used when the node has them). When the affine is the identity (GroupNorm's export feeds
// constant ones and zeros), xh is the forward output itself and dxh is dY. (1/sigma from mean(x * xh) would save a
// pass but loses ~1e-3 relative accuracy when |mean| >> sigma, through the rounding of the forward's own mean.)
import type { Sym } from '../../onnx/builder.js';
import { attrFloat, attrInt } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { GradContext, GradRule, GradRules } from '../rule.js';
import { unbroadcast } from './util.js';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

/** True when input i is a build-time constant with every element equal to v. */
function constantAll(c: GradContext, i: number, v: number): boolean {
  if (!c.x[i]) return false;
  const vals = c.constInts(i);
  return !!vals && vals.every((e) => e === v);
}

interface NormParts {
  x: Sym;
  dy: Sym;
  /** Normalized axes (keepdims statistics). */
  axes: number[];
  eps: number;
  /** Scale broadcast to x (already reshaped), or undefined for ones. */
  scale?: Sym;
  /** The normalized input if it is available for free (identity affine). */
  xhat?: Sym;
  /** Precomputed statistics (keepdims shape). */
  mean?: Sym;
  invStd?: Sym;
  needXhat: boolean;
}

/** Returns dX and, when asked, xh (for the affine parameters' gradients). */
function normBackward(p: NormParts): { dx: Sym; xhat?: Sym } {
  const { x, dy, axes } = p;
  let mean = p.mean, invsig = p.invStd, xhat = p.xhat, xc: Sym | undefined;
  if (!invsig) {
    mean ??= op.reduceMean(x, axes, true);
    xc = op.sub(x, mean);
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    // ReduceSumSquare: the variance in one pass over xc, no xc*xc tensor.
    const sq = x.b.op1('ReduceSumSquare', [xc], { axes: { kind: 'ints', v: axes }, keepdims: { kind: 'int', v: 1 } });
    invsig = op.reciprocal(op.sqrt(op.add(op.mul(sq, 1 / count), p.eps)));
  }
  if (!xhat) {
    xc ??= op.sub(x, mean ?? op.reduceMean(x, axes, true));
    xhat = op.mul(xc, invsig);
  }
  const dxh = p.scale ? op.mul(dy, p.scale) : dy;
  // dX = dxh*invsig - (xh * (invsig*mean(dxh*xh)) + invsig*mean(dxh)): the bracketed factors are per-row scalars.
  const m1 = op.mul(op.reduceMean(dxh, axes, true), invsig);
  const m2 = op.mul(op.reduceMean(op.mul(dxh, xhat), axes, true), invsig);
  const dx = op.sub(op.mul(dxh, invsig), op.add(op.mul(xhat, m2), m1));
  return { dx, xhat: p.needXhat ? xhat : undefined };
}

const instanceNormGrad: GradRule = (c) => {
  const [x, scale] = c.x as Sym[];
  const dy = c.dy[0]!;
  const eps = attrFloat(c.node, 'epsilon', 1e-5);
  const axes = range(x.rank - 2, 2);
  const bshape = [x.shape[1], ...Array(x.rank - 2).fill(1)];
  const unitScale = constantAll(c, 1, 1);
  const identity = unitScale && constantAll(c, 2, 0);
  const { dx, xhat } = normBackward({
    x, dy, axes, eps,
    scale: unitScale ? undefined : op.reshape(scale, bshape),
    xhat: identity ? c.y[0] : undefined,
    needXhat: c.needs[1],
  });
  const outer = [0, ...axes];
  return [
    c.needs[0] ? dx : undefined,
    c.needs[1] ? op.reduceSum(op.mul(dy, xhat!), outer, false) : undefined,
    c.needs[2] ? op.reduceSum(dy, outer, false) : undefined,
  ];
};

const layerNormGrad: GradRule = (c) => {
  const [x, scale, bias] = c.x as (Sym | undefined)[];
  if (c.dy[1] || c.dy[2]) throw new Error(`LayerNormalization '${c.node.name}': gradients through the Mean/InvStdDev outputs are not supported`);
  const dy = c.dy[0]!;
  const r = x!.rank;
  const a0 = attrInt(c.node, 'axis', -1);
  const axis = a0 < 0 ? a0 + r : a0;
  const axes = range(r - axis, axis);
  const eps = attrFloat(c.node, 'epsilon', 1e-5);
  const unitScale = constantAll(c, 1, 1);
  const noBias = !bias || constantAll(c, 2, 0);
  const stat = (i: number) => (c.node.outputs[i] ? c.y[i] : undefined);
  const { dx, xhat } = normBackward({
    x: x!, dy, axes, eps,
    scale: unitScale ? undefined : scale,
    xhat: unitScale && noBias ? c.y[0] : undefined,
    mean: stat(1),
    invStd: stat(2),
    needXhat: c.needs[1],
  });
  return [
    c.needs[0] ? dx : undefined,
    c.needs[1] ? unbroadcast(op.mul(dy, xhat!), scale!.shape) : undefined,
    c.needs[2] && bias ? unbroadcast(dy, bias.shape) : undefined,
  ];
};

/** The normalizations' rules (rules/table.ts assembles every file's rules). */
export const normRules: GradRules = {
  InstanceNormalization: instanceNormGrad,
  LayerNormalization: layerNormGrad,
};
