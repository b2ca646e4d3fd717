// Gradients of Conv and ConvTranspose in standard ONNX ops (onnxruntime-node loads no com.microsoft ConvGrad), plus
// Pad and GlobalAveragePool. dW is one im2col Conv and one batched MatMul, dX a Conv with the flipped kernel (stride
// 1) or a ConvTranspose, dB a ReduceSum: each the fastest variant measured (docs/architecture.md, "The Conv gradients").
import type { Sym } from '../../onnx/builder.js';
import { A, type AttrValue, attrInt, attrInts, attrString, type IRNode } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { GradRule, GradRules } from '../rule.js';
import { applyAxisMaps, floatConst, indexMap } from './resize.js';

export interface ConvGeom {
  strides: number[];
  /** [begin..., end...] per spatial axis, as ONNX. */
  pads: number[];
  dilations: number[];
  group: number;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

function geomOf(node: IRNode, sp: number): ConvGeom {
  const auto = attrString(node, 'auto_pad', 'NOTSET');
  if (auto !== 'NOTSET') throw new Error(`${node.op} '${node.name}': auto_pad=${auto} has no gradient rule; give explicit pads`);
  return {
    strides: attrInts(node, 'strides', Array(sp).fill(1)),
    pads: attrInts(node, 'pads', Array(2 * sp).fill(0)),
    dilations: attrInts(node, 'dilations', Array(sp).fill(1)),
    group: attrInt(node, 'group', 1),
  };
}

/** Sum over axis 0. Split + Sum: onnxruntime's ReduceSum over a leading axis is several times slower for small N. */
function sumLeading(r: Sym): Sym {
  const n = r.shape[0];
  const rest = r.shape.slice(1);
  if (n === 1) return op.reshape(r, rest);
  if (n > 16) return op.reduceSum(r, [0], false);
  return op.reshape(op.sum(op.split(r, Array(n).fill(1), 0)), rest);
}

/**
 * One-hot depthwise kernels [C*Kc, 1, ...k] for kernel offsets `taps` (Kc of them): output channel c*Kc + j copies
 * input channel c at offset taps[j] (row-major; `flip` mirrors it), so Conv(X, E, group C) with the forward's geometry
 * is those rows of X's im2col, [N, C*Kc, ...out].
 */
function oneHotKernels(x: Sym, c: number, kSp: readonly number[], taps: readonly number[], flip = false): Sym {
  const kk = prod(kSp), kc = taps.length;
  const e = new Float32Array(c * kc * kk);
  for (let ch = 0; ch < c; ch++) taps.forEach((t, j) => { e[(ch * kc + j) * kk + (flip ? kk - 1 - t : t)] = 1; });
  return floatConst(x, [c * kc, 1, ...kSp], e);
}

/**
 * The kernel offsets 0..K-1 in runs whose lengths are multiples of 4 or at most 4 (9 -> 8 + 1): onnxruntime's WebGPU
 * Conv computes a depthwise Conv wrongly when its channel multiplier is above 4 and not a multiple of 4
 * (docs/webgpu.md), and the im2col Conv's multiplier is its number of offsets.
 */
export function tapRuns(kk: number): number[][] {
  const runs: number[][] = [];
  const main = kk <= 4 ? kk : kk - (kk % 4);
  runs.push(range(main));
  if (main < kk) runs.push(range(kk - main, main));
  return runs;
}

/** im2col of `x` (channels `c`, group c) for each run of kernel offsets, with the given Conv attributes. */
function im2colRuns(x: Sym, c: number, kSp: readonly number[], attrs: { strides: number[]; pads: number[]; dilations: number[] }, flip = false): { taps: number[]; cols: Sym }[] {
  return tapRuns(prod(kSp)).map((taps) => ({
    taps,
    cols: x.b.op1('Conv', [x, oneHotKernels(x, c, kSp, taps, flip)], {
      strides: A.is(attrs.strides), pads: A.is(attrs.pads), dilations: A.is(attrs.dilations), group: A.i(c),
    }),
  }));
}

/**
 * dW of Y = Conv(X, W) with W of shape wShape: dW[m, c, t] = sum_{n, o} dY[n, m, o] * Xpad[n, c, o*s + t*d], per group.
 * X [N, C, ...], dY [N, M, ...out].
 *
 * Two im2col forms, the smaller one is built: of X (cols[n, c*K + t, o] = Xpad[n, c, o*s + t*d]) or, at stride 1, of
 * dY (cols[n, m*K + t, h] = dY[n, m, h + p - t*d], zero outside: the same Conv trick with flipped one-hot kernels and
 * pads (k-1)d - p), which is half the size for a 128->64 conv and 16x smaller for a 64->4 output conv.
 */
export function convWeightGrad(x: Sym, dy: Sym, wShape: readonly number[], g: ConvGeom): Sym {
  const sp = x.rank - 2;
  const [n, c] = x.shape;
  const m = wShape[0];
  const kSp = wShape.slice(2);
  const p = prod(dy.shape.slice(2)), kk = prod(kSp);
  const grp = g.group, cg = c / grp, mg = m / grp;
  const b = x.b;
  const lead = grp === 1 ? [n] : [n, grp];
  const q = g.pads.map((v, i) => (kSp[i % sp] - 1) * g.dilations[i % sp] - v);
  const hw = prod(x.shape.slice(2));
  if (kk > 1 && g.strides.every((s) => s === 1) && q.every((v) => v >= 0) && m * hw < c * p) {
    // Per run of offsets: [N, g, Mg*Kr, HW] x [N, g, Cg, HW]^T -> [N, g, Mg*Kr, Cg], summed over N, as [M, Kr, Cg];
    // the runs joined to [M, K, Cg], then -> [M, Cg, K] as FusedMatMul(transA) with a K x K identity (onnxruntime's
    // Transpose of these small tensors is 1.5-2x slower).
    const xs = op.reshape(x, [...lead, cg, hw]);
    const parts = im2colRuns(dy, m, kSp, { strides: g.strides, pads: q, dilations: g.dilations }, true).map(({ taps, cols }) =>
      op.reshape(sumLeading(op.matmulT(op.reshape(cols, [...lead, mg * taps.length, hw]), xs, false, true)), [m, taps.length, cg]));
    const r = parts.length === 1 ? parts[0] : op.concat(parts, 1);
    const eye = new Float32Array(kk * kk);
    for (let t = 0; t < kk; t++) eye[t * kk + t] = 1;
    const w = op.matmulT(op.reshape(r, [m, kk, cg]), floatConst(x, [kk, kk], eye), true, false);
    return op.reshape(w, [...wShape]);
  }
  const trivial = kk === 1 && g.pads.every((v) => v === 0) && g.strides.every((s) => s === 1);
  const runs = trivial ? [{ taps: [0], cols: x }] : im2colRuns(x, c, kSp, g);
  // Per run: [N, g, Cg*Kr, P] x [N, g, Mg, P]^T -> [N, g, Cg*Kr, Mg] (this orientation measured faster than
  // [Mg, Cg*K]), summed over N; the runs joined along the offsets to [g, Cg*K, Mg].
  const dys = op.reshape(dy, [...lead, mg, p]);
  const parts = runs.map(({ taps, cols }) => {
    const r = sumLeading(op.matmulT(op.reshape(cols, [...lead, cg * taps.length, p]), dys, false, true));
    return runs.length === 1 ? r : op.reshape(r, [grp, cg, taps.length, mg]);
  });
  const r = parts.length === 1 ? parts[0] : op.reshape(op.concat(parts, 2), grp === 1 ? [cg * kk, mg] : [grp, cg * kk, mg]);
  return op.reshape(op.transpose(r, grp === 1 ? [1, 0] : [0, 2, 1]), [...wShape]);
}

/**
 * The kernel of the Conv that computes dX at stride 1: Wf[gi*Cg + cg, mg, t] = W[gi*Mg + mg, cg, K-1-t] (transposed
 * per group, spatially flipped), shape [C, Mg, ...k].
 */
function flippedKernel(w: Sym, grp: number): Sym {
  const [m, cg, ...kSp] = w.shape;
  const kk = prod(kSp), mg = m / grp, c = cg * grp;
  const b = w.b;
  const rev = new Float32Array(kk * kk);
  for (let t = 0; t < kk; t++) rev[t * kk + (kk - 1 - t)] = 1;
  let wf: Sym;
  if (grp === 1 && kk > 1) {
    // [M, C, K] read as [C, M, K] (transBatchA) times the reversal matrix: transpose and flip in one op.
    wf = b.op1('FusedMatMul', [op.reshape(w, [m, c, kk]), floatConst(w, [1, kk, kk], rev)], {
      transBatchA: A.i(1),
    }, 'com.microsoft');
  } else {
    let t = op.reshape(w, [grp, mg, cg, kk]);
    if (mg > 1 && cg > 1) t = op.transpose(t, [0, 2, 1, 3]);
    wf = op.reshape(t, [c, mg, kk]);
    if (kk > 1) wf = op.matmul(wf, floatConst(w, [kk, kk], rev));
  }
  return op.reshape(wf, [c, mg, ...kSp]);
}

/** dX of Y = Conv(X, W) for X of shape xShape. */
export function convDataGrad(dy: Sym, w: Sym, xShape: readonly number[], g: ConvGeom): Sym {
  const sp = dy.rank - 2;
  const kSp = w.shape.slice(2);
  const outSp = dy.shape.slice(2);
  const b = dy.b;
  if (g.strides.every((s) => s === 1)) {
    // Full correlation with the flipped kernel: pads (k-1)d - p on each side restore exactly the input size.
    const q = g.pads.map((p, i) => (kSp[i % sp] - 1) * g.dilations[i % sp] - p);
    if (q.every((v) => v >= 0))
      return b.op1('Conv', [dy, flippedKernel(w, g.group)], {
        strides: A.is(g.strides), pads: A.is(q), dilations: A.is(g.dilations), group: A.i(g.group),
      });
  }
  const outPad = xShape.slice(2).map((d, i) => d - ((outSp[i] - 1) * g.strides[i] + (kSp[i] - 1) * g.dilations[i] + 1 - g.pads[i] - g.pads[i + sp]));
  return groupedConvTranspose(dy, w, {
    strides: A.is(g.strides), pads: A.is(g.pads), dilations: A.is(g.dilations), group: A.i(g.group), output_padding: A.is(outPad),
  }, g.group);
}

/**
 * ConvTranspose(x, w) with `attrs`. onnxruntime's WebGPU ConvTranspose is wrong when a group has one output channel
 * and several input channels (the dX of a strided depthwise Conv with a channel multiplier; docs/webgpu.md): such a
 * weight [C, 1, ...k] gets a zero second output channel per group, and the first of each pair is kept.
 */
function groupedConvTranspose(x: Sym, w: Sym, attrs: Record<string, AttrValue>, grp: number): Sym {
  const [cIn, outPerGroup, ...kSp] = w.shape;
  if (grp === 1 || outPerGroup !== 1 || cIn / grp === 1) return x.b.op1('ConvTranspose', [x, w], attrs);
  const padded = op.concat([w, floatConst(w, [...w.shape], new Float32Array(w.size))], 1);
  const y = x.b.op1('ConvTranspose', [x, padded], attrs);
  const [n, , ...sp] = y.shape;
  return op.reshape(op.slice(op.reshape(y, [n, grp, 2, ...sp]), [0], [1], [2]), [n, grp, ...sp]);
}

/** Bias gradient: dY summed over batch and spatial axes. */
function biasGrad(dy: Sym): Sym {
  return op.reduceSum(dy, [0, ...range(dy.rank - 2, 2)], false);
}

const convGrad: GradRule = (c) => {
  const [x, w] = c.x as Sym[];
  const dy = c.dy[0]!;
  const g = geomOf(c.node, x.rank - 2);
  return [
    c.needs[0] ? convDataGrad(dy, w, x.shape, g) : undefined,
    c.needs[1] ? convWeightGrad(x, dy, w.shape, g) : undefined,
    c.needs[2] ? biasGrad(dy) : undefined,
  ];
};

/**
 * ConvTranspose is the adjoint of Conv with the same weight: Y = ConvT(X, W) means X-space = Conv(Y-space, W). So
 * dX = Conv(dY, W) (same strides/pads/dilations/group; output_padding rows fall off the Conv's floor), and dW is the
 * Conv weight gradient with dY in the role of the Conv input and X in the role of its output gradient.
 */
const convTransposeGrad: GradRule = (c) => {
  const [x, w] = c.x as Sym[];
  const dy = c.dy[0]!;
  const sp = x.rank - 2;
  const g = geomOf(c.node, sp);
  const outShape = attrInts(c.node, 'output_shape', []);
  if (outShape.length) {
    // Explicit output_shape: pads are derived as the ONNX spec says (NOTSET splits the total with the extra at the start).
    const outPad = attrInts(c.node, 'output_padding', Array(sp).fill(0));
    const total = range(sp).map((i) => g.strides[i] * (x.shape[2 + i] - 1) + outPad[i] + (w.shape[2 + i] - 1) * g.dilations[i] + 1 - outShape[outShape.length - sp + i]);
    g.pads = [...total.map((t) => t - Math.floor(t / 2)), ...total.map((t) => Math.floor(t / 2))];
  }
  let dx: Sym | undefined;
  if (c.needs[0]) {
    dx = c.b.op1('Conv', [dy, w], { strides: A.is(g.strides), pads: A.is(g.pads), dilations: A.is(g.dilations), group: A.i(g.group) });
    if (dx.shape.some((d, i) => d !== x.shape[i]))
      throw new Error(`ConvTranspose '${c.node.name}': gradient Conv gives [${dx.shape}] for input [${x.shape}]`);
  }
  return [dx, c.needs[1] ? convWeightGrad(dy, x, w.shape, g) : undefined, c.needs[2] ? biasGrad(dy) : undefined];
};

/**
 * Pad. Constant mode: each output position copies one input position or the constant, so dX is dY cropped (then
 * padded with zeros where a negative pad cropped the input); d(constant_value) = sum(dY) - sum(dY over copied
 * positions). Edge and reflect: every output position still copies exactly one input position along each axis,
 * a separable 0/1 map, so dX applies the transposed per-axis maps (MatMul with constant matrices).
 */
const padGrad: GradRule = (c) => {
  const x = c.x[0]!;
  const dy = c.dy[0]!;
  const r = x.rank;
  const mode = attrString(c.node, 'mode', 'constant');
  const pads = c.constInts(1);
  if (!pads) throw new Error(`Pad '${c.node.name}': pads must be a build-time constant for its gradient`);
  const axesIn = c.x[3] ? c.constInts(3) : undefined;
  if (c.x[3] && !axesIn) throw new Error(`Pad '${c.node.name}': axes must be a build-time constant for its gradient`);
  const axes = (axesIn ?? range(r)).map((a) => (a < 0 ? a + r : a));
  const begin = Array(r).fill(0), end = Array(r).fill(0);
  axes.forEach((a, i) => { begin[a] = pads[i]; end[a] = pads[i + axes.length]; });
  let dx: Sym | undefined;
  if (mode === 'constant') {
    const sa = range(r).filter((a) => begin[a] > 0 || end[a] > 0);
    const cropped = sa.length
      ? op.slice(dy, sa.map((a) => Math.max(begin[a], 0)), sa.map((a) => dy.shape[a] - Math.max(end[a], 0)), sa)
      : dy;
    dx = op.pad(cropped, [...begin.map((v) => Math.max(-v, 0)), ...end.map((v) => Math.max(-v, 0))]);
    let dv: Sym | undefined;
    if (c.needs[2] && c.x[2]) {
      const all = range(r);
      dv = op.reshape(op.sub(op.reduceSum(dy, all, false), op.reduceSum(cropped, all, false)), [...c.x[2].shape]);
    }
    return [c.needs[0] ? dx : undefined, undefined, dv, undefined];
  }
  if (mode !== 'edge' && mode !== 'reflect') throw new Error(`Pad '${c.node.name}': mode '${mode}' has no gradient rule`);
  const maps: { axis: number; index: number[] }[] = [];
  for (let a = 0; a < r; a++) {
    if (begin[a] === 0 && end[a] === 0) continue;
    const d = x.shape[a];
    const index: number[] = [];
    for (let j = 0; j < dy.shape[a]; j++) {
      let i = j - begin[a];
      if (mode === 'edge') i = Math.min(Math.max(i, 0), d - 1);
      else {
        if (d === 1) i = 0;
        else {
          const period = 2 * (d - 1);
          i = ((i % period) + period) % period;
          if (i >= d) i = period - i;
        }
      }
      index.push(i);
    }
    maps.push({ axis: a, index });
  }
  return [c.needs[0] ? applyAxisMaps(dy, maps.map(({ axis, index }) => indexMap(axis, x.shape[axis], index))) : undefined];
};

const globalAveragePoolGrad: GradRule = (c) => {
  const x = c.x[0]!;
  const count = prod(x.shape.slice(2));
  return [op.expand(op.mul(c.dy[0]!, 1 / count), [...x.shape])];
};

/** Conv, ConvTranspose, Pad and GlobalAveragePool (rules/table.ts assembles every file's rules). */
export const convRules: GradRules = {
  Conv: convGrad,
  ConvTranspose: convTransposeGrad,
  Pad: padGrad,
  GlobalAveragePool: globalAveragePoolGrad,
};
