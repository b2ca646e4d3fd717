// Times candidate formulations of the Conv gradient (dW, dX) in standard ONNX ops on onnxruntime CPU (2 threads,
// optimization 'all'), against the forward Conv.
// Run: node --import tsx bench/conv-grad-variants.ts [--only dw_rule,dx_rule,...] [--passes 4] [--runs 25]
//        (kernel times from onnxruntime's profiler; --wall [--rounds 10] [--per 5] for interleaved wall-clock times;
//        --profile variant,... [--case substring] for a per-node breakdown)
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Sym } from '../src/runtime/onnx/builder.js';
import { A } from '../src/runtime/onnx/ir.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { Rng } from '../src/runtime/onnx/random.js';
import { Session } from '../src/runtime/engine/session.js';
import { encodeModel, toModelProto } from '../src/runtime/onnx/graph-proto.js';
import { convDataGrad, convWeightGrad, type ConvGeom } from '../src/runtime/autodiff/rules/conv.js';

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride: number;
  pad: number;
}

const CASES: Case[] = [
  { name: '3x3 64->64 32x32 p1', x: [2, 64, 32, 32], w: [64, 64, 3, 3], stride: 1, pad: 1 },
  { name: '3x3 64->64 16x16 p1', x: [2, 64, 16, 16], w: [64, 64, 3, 3], stride: 1, pad: 1 },
  { name: '3x3 128->64 32x32 p1', x: [2, 128, 32, 32], w: [64, 128, 3, 3], stride: 1, pad: 1 },
  { name: '3x3 s2 64->64 32x32 p1', x: [2, 64, 32, 32], w: [64, 64, 3, 3], stride: 2, pad: 1 },
  { name: '1x1 128->64 32x32', x: [2, 128, 32, 32], w: [64, 128, 1, 1], stride: 1, pad: 0 },
  { name: '3x3 64->4 32x32 p1', x: [2, 64, 32, 32], w: [4, 64, 3, 3], stride: 1, pad: 1 },
];

type Build = (b: GraphBuilder, x: Sym, w: Sym, dy: Sym, k: Case) => Sym | Sym[] | undefined;

const outSize = (d: number, k: number, s: number, p: number) => Math.floor((d + 2 * p - k) / s) + 1;

function geom(cs: Case): ConvGeom {
  return { strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad], dilations: [1, 1], group: 1 };
}

/** Slices of padded X for every kernel offset, [.., Ho, Wo] each (axes 2, 3 spatial). */
function offsetSlices(xp: Sym, k: number, s: number, ho: number, wo: number): Sym[] {
  const out: Sym[] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      out.push(op.slice(xp, [i, j], [i + (ho - 1) * s + 1, j + (wo - 1) * s + 1], [2, 3], s === 1 ? undefined : [s, s]));
  return out;
}

/** Depthwise one-hot kernels [C*k*k, 1, k, k]: a Conv with group C turns X into its im2col [N, C*k*k, Ho, Wo]. */
function oneHot(b: GraphBuilder, c: number, k: number): Sym {
  const e = new Float32Array(c * k ** 4);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < k * k; t++) e[(ch * k * k + t) * k * k + t] = 1;
  return b.constant({ dtype: 'float32', shape: [c * k * k, 1, k, k], data: e });
}

/** Sum over axis 0 by Split + Sum (ReduceSum over a leading axis is slow in onnxruntime). */
function sumBatch(r: Sym): Sym {
  const n = r.shape[0];
  if (n === 1) return op.reshape(r, r.shape.slice(1));
  return op.reshape(op.sum(op.split(r, Array(n).fill(1), 0)), r.shape.slice(1));
}

const dwVariants: Record<string, Build> = {
  // Conv with batch and channels swapped: X^T [C, N, H, W] * dY^T [M, N, Ho, Wo] as weight, dilation = stride.
  dw_conv_swapped: (b, x, _w, dy, cs) => {
    const k = cs.w[2];
    const r = op.conv(op.transpose(x, [1, 0, 2, 3]), op.transpose(dy, [1, 0, 2, 3]), null, {
      pads: [cs.pad, cs.pad, cs.pad, cs.pad], dilations: [cs.stride, cs.stride],
    });
    const cut = r.shape[2] === k ? r : op.slice(r, [0, 0], [k, k], [2, 3]);
    return op.transpose(cut, [1, 0, 2, 3]);
  },
  // Per kernel offset: batched MatMul over N of dY [N, M, P] and the shifted slice [N, C, P], summed over N.
  dw_offsets_batched: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const xp = op.pad(x, [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]);
    const dy3 = op.reshape(dy, [n, m, ho * wo]);
    const parts = offsetSlices(xp, k, cs.stride, ho, wo).map((s) =>
      op.unsqueeze(op.reduceSum(op.matmulT(dy3, op.reshape(s, [n, c, ho * wo]), false, true), [0], false), [2]));
    return op.reshape(op.concat(parts, 2), [m, c, k, k]);
  },
  // Per kernel offset with N folded into the contraction: X^T padded once, one [M, NP] x [C, NP]^T Gemm per offset.
  dw_offsets_foldN: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const xp = op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]);
    const dyt = op.reshape(op.transpose(dy, [1, 0, 2, 3]), [m, n * ho * wo]);
    const parts = offsetSlices(xp, k, cs.stride, ho, wo).map((s) => op.unsqueeze(op.matmulT(dyt, op.reshape(s, [c, n * ho * wo]), false, true), [2]));
    return op.reshape(op.concat(parts, 2), [m, c, k, k]);
  },
  // im2col [N, C*kk, P] from k*k slices concatenated, one batched MatMul, ReduceSum over N.
  dw_im2col_batched: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const xp = op.pad(x, [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]);
    const cols = op.reshape(op.concat(offsetSlices(xp, k, cs.stride, ho, wo), 2), [n, c * k * k, ho * wo]);
    const r = op.reduceSum(op.matmulT(op.reshape(dy, [n, m, ho * wo]), cols, false, true), [0], false);
    return op.reshape(r, [m, c, k, k]);
  },
  // im2col [C*kk, N*P] (X transposed once), dY^T [M, N*P]: a single Gemm.
  dw_im2col_foldN: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const xp = op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]);
    const cols = op.reshape(op.concat(offsetSlices(xp, k, cs.stride, ho, wo), 1), [c * k * k, n * ho * wo]);
    const dyt = op.reshape(op.transpose(dy, [1, 0, 2, 3]), [m, n * ho * wo]);
    return op.reshape(op.matmulT(dyt, cols, false, true), [m, c, k, k]);
  },
  // As above, the Gemm computes dW^T [C*kk, M] and a small Transpose follows.
  dw_im2col_foldN_T: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const xp = op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]);
    const cols = op.reshape(op.concat(offsetSlices(xp, k, cs.stride, ho, wo), 1), [c * k * k, n * ho * wo]);
    const dyt = op.reshape(op.transpose(dy, [1, 0, 2, 3]), [m, n * ho * wo]);
    return op.reshape(op.transpose(op.matmulT(cols, dyt, false, true), [1, 0]), [m, c, k, k]);
  },
  // Stride 1 only: rows of padded X^T flattened, each kernel offset is one contiguous run (i*Wp + j) of length Ho*Wp;
  // dY padded on the right to width Wp (zeros kill the wrap-around columns). Concat + one Gemm.
  dw_flat_foldN: (b, x, _w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const hp = h + 2 * cs.pad, wp = wd + 2 * cs.pad;
    const extra = k > 1 ? 1 : 0;
    const xp = op.reshape(op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad + extra, cs.pad]), [c, n, (hp + extra) * wp]);
    const parts: Sym[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) parts.push(op.slice(xp, [i * wp + j], [i * wp + j + ho * wp], [2]));
    const cols = op.reshape(op.concat(parts, 1), [c * k * k, n * ho * wp]);
    const dyt = op.reshape(op.transpose(op.pad(dy, [0, 0, 0, 0, 0, 0, 0, wp - wo]), [1, 0, 2, 3]), [m, n * ho * wp]);
    return op.reshape(op.matmulT(dyt, cols, false, true), [m, c, k, k]);
  },
  // Stride 1, flat runs, no concat: k*k Gemms on the contiguous slices.
  dw_flat_offsets_foldN: (b, x, _w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const hp = h + 2 * cs.pad, wp = wd + 2 * cs.pad;
    const extra = k > 1 ? 1 : 0;
    const xp = op.reshape(op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad + extra, cs.pad]), [c, n, (hp + extra) * wp]);
    const dyt = op.reshape(op.transpose(op.pad(dy, [0, 0, 0, 0, 0, 0, 0, wp - wo]), [1, 0, 2, 3]), [m, n * ho * wp]);
    const parts: Sym[] = [];
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        parts.push(op.unsqueeze(op.matmulT(dyt, op.reshape(op.slice(xp, [i * wp + j], [i * wp + j + ho * wp], [2]), [c, n * ho * wp]), false, true), [2]));
    return op.reshape(op.concat(parts, 2), [m, c, k, k]);
  },
  // im2col by one Gather over flattened padded X^T [C, N*Hp*Wp] with a constant index map [kk, N, P].
  dw_gather_foldN: (b, x, _w, dy, cs) => {
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const hp = h + 2 * cs.pad, wp = wd + 2 * cs.pad, s = cs.stride;
    const xp = op.reshape(op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]), [c, n * hp * wp]);
    const idx = new BigInt64Array(k * k * n * ho * wo);
    let q = 0;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let nn = 0; nn < n; nn++)
      for (let y = 0; y < ho; y++) for (let z = 0; z < wo; z++) idx[q++] = BigInt(nn * hp * wp + (y * s + i) * wp + z * s + j);
    const cols = op.reshape(op.gather(xp, b.constant({ dtype: 'int64', shape: [k * k * n * ho * wo], data: idx }), 1), [c * k * k, n * ho * wo]);
    const dyt = op.reshape(op.transpose(dy, [1, 0, 2, 3]), [m, n * ho * wo]);
    return op.reshape(op.matmulT(dyt, cols, false, true), [m, c, k, k]);
  },
  // im2col by a depthwise Conv with one-hot kernels (group C, 9 outputs per channel), batched MatMul, ReduceSum N.
  dw_onehot_conv: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const e = new Float32Array(c * k * k * k * k);
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < k * k; t++) e[(ch * k * k + t) * k * k + t] = 1;
    const cols = op.conv(x, b.constant({ dtype: 'float32', shape: [c * k * k, 1, k, k], data: e }), null, {
      strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad], group: c,
    });
    const r = op.reduceSum(op.matmulT(op.reshape(dy, [n, m, ho * wo]), op.reshape(cols, [n, c * k * k, ho * wo]), false, true), [0], false);
    return op.reshape(r, [m, c, k, k]);
  },
  // im2col by the one-hot depthwise Conv, the Gemm as [N, 9C, P] x [N, M, P]^T, N summed with Split + Sum, then a
  // small Transpose to [M, 9C].
  dw_onehot_T: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const cols = op.conv(x, oneHot(b, c, k), null, { strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad], group: c });
    const r = op.matmulT(op.reshape(cols, [n, c * k * k, ho * wo]), op.reshape(dy, [n, m, ho * wo]), false, true);
    return op.reshape(op.transpose(sumBatch(r), [1, 0]), [m, c, k, k]);
  },
  // As dw_onehot_conv with N summed by Split + Sum instead of ReduceSum.
  dw_onehot_split: (b, x, _w, dy, cs) => {
    const [n, c] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const cols = op.conv(x, oneHot(b, c, k), null, { strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad], group: c });
    const r = op.matmulT(op.reshape(dy, [n, m, ho * wo]), op.reshape(cols, [n, c * k * k, ho * wo]), false, true);
    return op.reshape(sumBatch(r), [m, c, k, k]);
  },
  // Stride 1: the H offset moves onto dY (k zero-padded shifts of dY), the W offset stays on X (k slices): one Gemm
  // [k*M, N*Hp*Wo] x [k*C, N*Hp*Wo]^T gives every (i, j) pair; 2k copies instead of k^2.
  dw_shift2: (b, x, _w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [n, c, h] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const hp = h + 2 * cs.pad;
    const xp = op.pad(op.transpose(x, [1, 0, 2, 3]), [0, 0, cs.pad, cs.pad, 0, 0, cs.pad, cs.pad]);
    const xs: Sym[] = [], ds: Sym[] = [];
    const dyt = op.transpose(dy, [1, 0, 2, 3]);
    for (let j = 0; j < k; j++) xs.push(op.slice(xp, [j], [j + wo], [3]));
    for (let i = 0; i < k; i++) ds.push(op.pad(dyt, [0, 0, i, 0, 0, 0, hp - ho - i, 0]));
    const xc = op.reshape(op.concat(xs, 0), [k * c, n * hp * wo]);
    const dc = op.reshape(op.concat(ds, 0), [k * m, n * hp * wo]);
    const r = op.reshape(op.matmulT(dc, xc, false, true), [k, m, k, c]);
    return op.transpose(r, [1, 3, 0, 2]);
  },
  // im2col by a non-grouped Conv over X viewed as [N*C, 1, H, W] with K one-hot kernels [K, 1, k, k].
  dw_onehot_batch: (b, x, _w, dy, cs) => {
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w, [ho, wo] = dy.shape.slice(2);
    const e = new Float32Array(k ** 4);
    for (let t = 0; t < k * k; t++) e[t * k * k + t] = 1;
    const cols = op.conv(op.reshape(x, [n * c, 1, h, wd]), b.constant({ dtype: 'float32', shape: [k * k, 1, k, k], data: e }), null, {
      strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad],
    });
    const r = op.matmulT(op.reshape(cols, [n, c * k * k, ho * wo]), op.reshape(dy, [n, m, ho * wo]), false, true);
    return op.reshape(op.transpose(sumBatch(r), [1, 0]), [m, c, k, k]);
  },
  // Stride 1: im2col of dY instead of X (flipped one-hot kernels, pads k-1-p): [N, M*K, H*W] x [N, C, H*W]^T.
  dw_onehot_dy: (b, x, _w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w;
    const kk = k * k;
    const e = new Float32Array(m * kk * kk);
    for (let ch = 0; ch < m; ch++) for (let t = 0; t < kk; t++) e[(ch * kk + t) * kk + (kk - 1 - t)] = 1;
    const q = k - 1 - cs.pad;
    const cols = op.conv(dy, b.constant({ dtype: 'float32', shape: [m * kk, 1, k, k], data: e }), null, { pads: [q, q, q, q], group: m });
    const r = op.matmulT(op.reshape(cols, [n, m * kk, h * wd]), op.reshape(x, [n, c, h * wd]), false, true);
    return op.reshape(op.transpose(op.reshape(sumBatch(r), [m, kk, c]), [0, 2, 1]), [m, c, k, k]);
  },
  // dY im2col, the [M, K, C] -> [M, C, K] reorder done by FusedMatMul(transA) with a K x K identity.
  dw_onehot_dy_eye: (b, x, _w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w;
    const kk = k * k;
    const e = new Float32Array(m * kk * kk);
    for (let ch = 0; ch < m; ch++) for (let t = 0; t < kk; t++) e[(ch * kk + t) * kk + (kk - 1 - t)] = 1;
    const q = k - 1 - cs.pad;
    const cols = op.conv(dy, b.constant({ dtype: 'float32', shape: [m * kk, 1, k, k], data: e }), null, { pads: [q, q, q, q], group: m });
    const r = op.matmulT(op.reshape(cols, [n, m * kk, h * wd]), op.reshape(x, [n, c, h * wd]), false, true);
    const eye = new Float32Array(kk * kk);
    for (let t = 0; t < kk; t++) eye[t * kk + t] = 1;
    const out = op.matmulT(op.reshape(sumBatch(r), [m, kk, c]), b.constant({ dtype: 'float32', shape: [kk, kk], data: eye }), true, false);
    return op.reshape(out, [m, c, k, k]);
  },
  // dY im2col, Gemm batched over M: [N, 1, C, HW] x [N, M, K, HW]^T -> [N, M, C, K], no reorder.
  dw_onehot_dy_batched: (b, x, _w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [n, c, h, wd] = x.shape, [m, , k] = cs.w;
    const kk = k * k;
    const e = new Float32Array(m * kk * kk);
    for (let ch = 0; ch < m; ch++) for (let t = 0; t < kk; t++) e[(ch * kk + t) * kk + (kk - 1 - t)] = 1;
    const q = k - 1 - cs.pad;
    const cols = op.conv(dy, b.constant({ dtype: 'float32', shape: [m * kk, 1, k, k], data: e }), null, { pads: [q, q, q, q], group: m });
    const r = op.matmulT(op.reshape(x, [n, 1, c, h * wd]), op.reshape(cols, [n, m, kk, h * wd]), false, true);
    return op.reshape(sumBatch(r), [m, c, k, k]);
  },
  // The rule in src/runtime/autodiff/rules/conv.ts.
  dw_rule: (b, x, _w, dy, cs) => convWeightGrad(x, dy, [...cs.w], geom(cs)),
};

const dxVariants: Record<string, Build> = {
  dx_convT: (b, x, w, dy, cs) => {
    const h = x.shape[2];
    const k = cs.w[2];
    const op_ = h - ((dy.shape[2] - 1) * cs.stride + k - 2 * cs.pad);
    return op.convTranspose(dy, w, null, { strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad], outputPadding: [op_, op_] });
  },
  // Stride 1: Conv of dY with the kernel transposed [C, M, k, k] and flipped, pads k-1-p.
  dx_conv_flip: (b, x, w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const k = cs.w[2];
    const wf = op.slice(op.transpose(w, [1, 0, 2, 3]), [-1, -1], [-k - 1, -k - 1], [2, 3], [-1, -1]);
    const q = k - 1 - cs.pad;
    return op.conv(dy, wf, null, { pads: [q, q, q, q] });
  },
  // Stride s: zeros inserted between dY samples (Concat with zeros + Reshape), then the flipped-kernel Conv.
  dx_zero_insert_conv: (b, x, w, dy, cs) => {
    if (cs.stride === 1) return undefined;
    const s = cs.stride, k = cs.w[2];
    const [n, m, ho, wo] = dy.shape;
    const z = (shape: number[]) => b.constant({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, c) => a * c, 1)) });
    let d = op.reshape(op.concat([op.unsqueeze(dy, [4]), z([n, m, ho, wo, s - 1])], 4), [n, m, ho, wo * s]);
    d = op.reshape(op.concat([op.unsqueeze(d, [3]), z([n, m, ho, s - 1, wo * s])], 3), [n, m, ho * s, wo * s]);
    const wf = op.slice(op.transpose(w, [1, 0, 2, 3]), [-1, -1], [-k - 1, -k - 1], [2, 3], [-1, -1]);
    const q = k - 1 - cs.pad;
    const h = x.shape[2];
    const end = h - (ho * s - (s - 1)) - 2 * q + k - 1 + q; // pad at the end so the output has H rows
    const out = op.conv(op.slice(d, [0, 0], [ho * s - (s - 1), wo * s - (s - 1)], [2, 3]), wf, null, { pads: [q, q, end, end] });
    return out;
  },
  // 1x1: MatMul with W^T.
  dx_matmul_1x1: (b, x, w, dy, cs) => {
    if (cs.w[2] !== 1 || cs.stride !== 1) return undefined;
    const [n, m, ho, wo] = dy.shape;
    const w2 = op.reshape(w, [cs.w[0], cs.w[1]]);
    return op.reshape(op.matmulT(w2, op.reshape(dy, [n, m, ho * wo]), true, false), [...x.shape]);
  },
  // Stride 1: flipped, transposed kernel built by one Gather on the flattened weight, then Conv.
  dx_conv_flip_gather: (b, x, w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [m, c, k] = cs.w;
    const idx = new BigInt64Array(m * c * k * k);
    let q = 0;
    for (let ci = 0; ci < c; ci++) for (let mi = 0; mi < m; mi++) for (let t = 0; t < k * k; t++) idx[q++] = BigInt((mi * c + ci) * k * k + (k * k - 1 - t));
    const wf = op.reshape(op.gather(op.reshape(w, [m * c * k * k]), b.constant({ dtype: 'int64', shape: [idx.length], data: idx }), 0), [c, m, k, k]);
    const q0 = k - 1 - cs.pad;
    return op.conv(dy, wf, null, { pads: [q0, q0, q0, q0] });
  },
  // Stride 1: Transpose to [C, M, k*k], flip by MatMul with the k*k reversal matrix, then Conv.
  dx_conv_flip_mm: (b, x, w, dy, cs) => {
    if (cs.stride !== 1) return undefined;
    const [m, c, k] = cs.w;
    const kk = k * k;
    const rev = new Float32Array(kk * kk);
    for (let t = 0; t < kk; t++) rev[t * kk + (kk - 1 - t)] = 1;
    const wt = op.transpose(op.reshape(w, [m, c, kk]), [1, 0, 2]);
    const wf = op.reshape(op.matmul(wt, b.constant({ dtype: 'float32', shape: [kk, kk], data: rev })), [c, m, k, k]);
    const q0 = k - 1 - cs.pad;
    return op.conv(dy, wf, null, { pads: [q0, q0, q0, q0] });
  },
  dx_rule: (b, x, w, dy, cs) => convDataGrad(dy, w, [...x.shape], geom(cs)),
};

const total: Record<string, Build> = {
  // Everything the Conv rule emits for one conv with bias: dX, dW and dB (what a training step pays per conv).
  bwd_rule_total: (b, x, w, dy, cs) => [convDataGrad(dy, w, [...x.shape], geom(cs)), convWeightGrad(x, dy, [...cs.w], geom(cs)), op.reduceSum(dy, [0, 2, 3], false)],
};

// Timing only (not adopted: no faster than the rule). Stride 1: one im2col of dY (flipped one-hot Conv) serves both dX (= W^T-as-[C, M*K] x cols, a batched MatMul) and
// dW (cols x X^T), instead of a Conv for dX plus an im2col for dW.
total.bwd_shared_dy = (b, x, w, dy, cs) => {
  if (cs.stride !== 1 || cs.w[2] === 1) return undefined;
  const [n, c, h, wd] = x.shape, [m, , k] = cs.w;
  const kk = k * k;
  const e = new Float32Array(m * kk * kk);
  for (let ch = 0; ch < m; ch++) for (let t = 0; t < kk; t++) e[(ch * kk + t) * kk + (kk - 1 - t)] = 1;
  const q = k - 1 - cs.pad;
  const cols = op.reshape(op.conv(dy, b.constant({ dtype: 'float32', shape: [m * kk, 1, k, k], data: e }), null, { pads: [q, q, q, q], group: m }), [n, m * kk, h * wd]);
  const eye = new Float32Array(kk * kk);
  for (let t = 0; t < kk; t++) eye[t * kk + t] = 1;
  // W [M, C, K] read as [C, M, K] (transBatchA) times the identity: [C, M*K].
  const wt = op.reshape(b.op1('FusedMatMul', [op.reshape(w, [m, c, kk]), b.constant({ dtype: 'float32', shape: [1, kk, kk], data: eye })], { transBatchA: A.i(1) }, 'com.microsoft'), [c, m * kk]);
  const dx = op.reshape(op.matmul(wt, cols), [...x.shape]);
  const r = sumBatch(op.matmulT(cols, op.reshape(x, [n, c, h * wd]), false, true));
  const dw = op.reshape(op.matmulT(op.reshape(r, [m, kk, c]), b.constant({ dtype: 'float32', shape: [kk, kk], data: eye }), true, false), [m, c, k, k]);
  return [dx, dw, op.reduceSum(dy, [0, 2, 3], false)];
};

const fwd: Record<string, Build> = {
  forward_conv: (b, x, w, _dy, cs) => op.conv(x, w, b.constant({ dtype: 'float32', shape: [cs.w[0]], data: new Float32Array(cs.w[0]) }), {
    strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad],
  }),
};

/** Busy jiffies of the whole machine (/proc/stat), this process's CPU microseconds, and wall milliseconds. */
function load(): { busy: number; own: number; wall: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  const u = process.cpuUsage();
  return { busy, own: u.user + u.system, wall: performance.now() };
}

interface Prepared {
  name: string;
  run: () => Promise<unknown>;
  release: () => Promise<void>;
  times: number[];
}

async function prepare(cs: Case, name: string, build: Build): Promise<Prepared | undefined> {
  const b = new GraphBuilder();
  const [n, , h, wd] = cs.x, [m, , k] = cs.w;
  const ho = outSize(h, k, cs.stride, cs.pad), wo = outSize(wd, k, cs.stride, cs.pad);
  const x = b.input('x', cs.x), w = b.input('w', cs.w), dy = b.input('dy', [n, m, ho, wo]);
  const out = build(b, x, w, dy, cs);
  if (!out) return undefined;
  (Array.isArray(out) ? out : [out]).forEach((o, i) => b.output(o, `out${i}`));
  const s = await Session.fromGraph(b.graph, { threads: 2, optimization: 'all' });
  const rng = new Rng(3);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [nm, shape] of [['x', cs.x], ['w', cs.w], ['dy', [n, m, ho, wo]]] as const)
    if (s.inputNames.includes(nm)) feeds[nm] = new ort.Tensor('float32', rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))), [...shape]);
  for (let i = 0; i < 5; i++) await s.ort.run(feeds);
  return { name, run: () => s.ort.run(feeds), release: () => s.release(), times: [] };
}

/**
 * The machine is shared (other processes come and go), so variants of one case are interleaved: `rounds` rounds, in
 * each every variant runs `per` times in a shuffled order. Reported: the minimum (the
 * least-disturbed run: the host is shared and contention only adds time) and the median over all runs.
 */
async function measure(cs: Case, builds: [string, Build][], rounds: number, per: number): Promise<Map<string, { med: number; min: number }>> {
  const prepared: Prepared[] = [];
  for (const [name, build] of builds) {
    try {
      const p = await prepare(cs, name, build);
      if (p) prepared.push(p);
    } catch (e) {
      console.error(name, cs.name, (e as Error).message.split('\n')[0]);
    }
  }
  const rng = new Rng(7);
  let clean = 0;
  for (let attempt = 0; clean < rounds && attempt < rounds * 6; attempt++) {
    const order = [...prepared];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const before = load();
    const got = new Map<Prepared, number[]>();
    for (const p of order) {
      const ts: number[] = [];
      for (let i = 0; i < per; i++) {
        const t0 = performance.now();
        await p.run();
        ts.push(performance.now() - t0);
      }
      got.set(p, ts);
    }
    const after = load();
    // CPU time used by other processes during the round, in cores: keep the round only if the machine was quiet.
    const foreign = (after.busy - before.busy) / 100 - (after.own - before.own) / 1e6;
    const wall = (after.wall - before.wall) / 1000;
    if (foreign / wall > 0.1) continue;
    clean++;
    for (const [p, ts] of got) p.times.push(...ts);
  }
  if (clean < rounds) console.error(`${cs.name}: only ${clean} quiet rounds of ${rounds}`);
  const res = new Map<string, { med: number; min: number }>();
  for (const p of prepared) {
    p.times.sort((a, b) => a - b);
    res.set(p.name, { med: p.times[Math.floor(p.times.length / 2)], min: p.times[0] });
    await p.release();
  }
  return res;
}

/** onnxruntime's profiler: per-node kernel time (minimum over runs, microseconds) for one variant on one case. */
async function profile(cs: Case, name: string, build: Build, runs: number, print = true): Promise<{ nodeMinSum: number; runMin: number } | undefined> {
  const b = new GraphBuilder();
  const [n, , h, wd] = cs.x, [m, , k] = cs.w;
  const ho = outSize(h, k, cs.stride, cs.pad), wo = outSize(wd, k, cs.stride, cs.pad);
  const x = b.input('x', cs.x), w = b.input('w', cs.w), dy = b.input('dy', [n, m, ho, wo]);
  const out = build(b, x, w, dy, cs);
  if (!out) return undefined;
  (Array.isArray(out) ? out : [out]).forEach((o, i) => b.output(o, `out${i}`));
  const prefix = `/tmp/convgrad-prof-${process.pid}`;
  const s = await ort.InferenceSession.create(encodeModel(toModelProto(b.graph)), {
    executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: prefix,
  });
  const rng = new Rng(3);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [nm, shape] of [['x', cs.x], ['w', cs.w], ['dy', [n, m, ho, wo]]] as const)
    if (s.inputNames.includes(nm)) feeds[nm] = new ort.Tensor('float32', rng.fillNormal(new Float32Array(shape.reduce((a, c) => a * c, 1))), [...shape]);
  for (let i = 0; i < runs; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  const file = fs.readdirSync('/tmp').filter((f) => f.startsWith(`convgrad-prof-${process.pid}`)).map((f) => `/tmp/${f}`)[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } }[];
  fs.rmSync(file);
  const per = new Map<string, number[]>();
  const runs_ = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => ({ ts: e.ts, end: e.ts + e.dur, sum: 0 }));
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const key = `${e.args?.op_name} ${e.name.replace(/_kernel_time$/, '')}`;
    per.set(key, [...(per.get(key) ?? []), e.dur]);
    const r = runs_.find((q) => e.ts >= q.ts && e.ts <= q.end);
    if (r) r.sum += e.dur;
  }
  let total = 0;
  const lines: [number, string][] = [];
  for (const [key, ds] of per) {
    const mn = Math.min(...ds);
    total += mn;
    lines.push([mn, key]);
  }
  // Skip the warm-up runs when taking the best whole run.
  const runMin = Math.min(...runs_.slice(3).map((q) => q.sum));
  if (print) {
    lines.sort((a, b) => b[0] - a[0]);
    console.log(`${name} on ${cs.name}: sum of per-node minima ${total} us, best run ${runMin} us`);
    for (const [mn, key] of lines.slice(0, 14)) console.log(`  ${String(mn).padStart(6)} us  ${key}`);
  }
  return { nodeMinSum: total / 1000, runMin: runMin / 1000 };
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (k: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
  if (arg('--profile')) {
    const all: Record<string, Build> = { ...fwd, ...dwVariants, ...dxVariants, ...total };
    const which = arg('--case') ? CASES.filter((c) => c.name.includes(arg('--case')!)) : CASES;
    for (const cs of which) for (const nm of arg('--profile')!.split(',')) await profile(cs, nm, all[nm], Number(arg('--runs') ?? 30));
    return;
  }
  if (args.includes('--wall')) return wallTable(args, arg);
  // Default: onnxruntime's profiler, per kernel. The host is shared and wall-clock times swing 2-5x with other
  // load; the sum over nodes of each node's fastest run (and the best whole run) is stable to about 10%.
  const all: Record<string, Build> = { ...fwd, ...dwVariants, ...dxVariants, ...total };
  const onlyArg = arg('--only')?.split(',');
  const names = Object.keys(all).filter((k) => !onlyArg || onlyArg.includes(k) || k === 'forward_conv');
  const runs = Number(arg('--runs') ?? 25);
  const passes = Number(arg('--passes') ?? 4);
  const cases = arg('--case') ? CASES.filter((c) => c.name.includes(arg('--case')!)) : CASES;
  // Several passes over the whole table, minutes apart, and the best of each cell: contention comes in bursts of
  // seconds, a single pass can sit inside one.
  const best = new Map<string, { nodeMinSum: number; runMin: number } | undefined>();
  for (let pass = 0; pass < passes; pass++) {
    for (const name of names)
      for (const cs of cases) {
        const key = `${name}|${cs.name}`;
        try {
          const r = await profile(cs, name, all[name], runs, false);
          const prev = best.get(key);
          best.set(key, r && prev ? { nodeMinSum: Math.min(r.nodeMinSum, prev.nodeMinSum), runMin: Math.min(r.runMin, prev.runMin) } : r);
        } catch (e) {
          if (pass === 0) console.error(name, cs.name, (e as Error).message.split('\n')[0]);
        }
      }
    console.error(`pass ${pass + 1}/${passes} done`);
  }
  const rows: string[][] = [['kernel ms: node-min sum / best run', ...cases.map((c) => c.name)]];
  for (const name of names)
    rows.push([name, ...cases.map((cs) => {
      const r = best.get(`${name}|${cs.name}`);
      return r ? `${r.nodeMinSum.toFixed(2)} / ${r.runMin.toFixed(2)}` : '-';
    })]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join(' | ')).join('\n'));
}

async function wallTable(args: string[], arg: (k: string) => string | undefined) {
  const rounds = Number(arg('--rounds') ?? 10);
  const per = Number(arg('--per') ?? 5);
  const onlyArg = arg('--only')?.split(',');
  const all: Record<string, Build> = { ...fwd, ...dwVariants, ...dxVariants, ...total };
  const names = Object.keys(all).filter((k) => !onlyArg || onlyArg.includes(k) || k === 'forward_conv');
  const results = new Map<string, Map<string, { med: number; min: number }>>();
  for (const cs of CASES) {
    results.set(cs.name, await measure(cs, names.map((nm) => [nm, all[nm]]), rounds, per));
    console.error(`done: ${cs.name}`);
  }
  const rows: string[][] = [['ms: min / median', ...CASES.map((c) => c.name)]];
  for (const name of names)
    rows.push([name, ...CASES.map((cs) => {
      const r = results.get(cs.name)!.get(name);
      return r ? `${r.min.toFixed(2)} / ${r.med.toFixed(2)}` : '-';
    })]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join(' | ')).join('\n'));
}

await main();
