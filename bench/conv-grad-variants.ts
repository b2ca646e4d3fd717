// Times candidate formulations of the Conv gradient (dW, dX) in standard ONNX ops on onnxruntime CPU (2 threads,
// optimization 'all'), against the forward Conv.
// Run: node --import tsx bench/conv-grad-variants.ts [--rounds 10] [--per 5] [--only dw_rule,dx_rule,...]
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Sym } from '../src/runtime/onnx/builder.js';
import { A } from '../src/runtime/onnx/ir.js';
import * as op from '../src/runtime/onnx/ops/index.js';
import { Rng } from '../src/runtime/engine/random.js';
import { Session } from '../src/runtime/engine/session.js';
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
];

type Build = (b: GraphBuilder, x: Sym, w: Sym, dy: Sym, k: Case) => Sym | undefined;

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
  dx_rule: (b, x, w, dy, cs) => convDataGrad(dy, w, [...x.shape], geom(cs)),
};

const fwd: Record<string, Build> = {
  forward_conv: (b, x, w, _dy, cs) => op.conv(x, w, b.constant({ dtype: 'float32', shape: [cs.w[0]], data: new Float32Array(cs.w[0]) }), {
    strides: [cs.stride, cs.stride], pads: [cs.pad, cs.pad, cs.pad, cs.pad],
  }),
};

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
  b.output(out, 'out');
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
 * each every variant runs `per` times in a shuffled order. Reported: the median and the 10th percentile over all runs.
 */
async function measure(cs: Case, builds: [string, Build][], rounds: number, per: number): Promise<Map<string, { med: number; p10: number }>> {
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
  for (let r = 0; r < rounds; r++) {
    const order = [...prepared];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const p of order)
      for (let i = 0; i < per; i++) {
        const t0 = performance.now();
        await p.run();
        p.times.push(performance.now() - t0);
      }
  }
  const res = new Map<string, { med: number; p10: number }>();
  for (const p of prepared) {
    p.times.sort((a, b) => a - b);
    res.set(p.name, { med: p.times[Math.floor(p.times.length / 2)], p10: p.times[Math.floor(p.times.length / 10)] });
    await p.release();
  }
  return res;
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (k: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
  const rounds = Number(arg('--rounds') ?? 10);
  const per = Number(arg('--per') ?? 5);
  const onlyArg = arg('--only')?.split(',');
  const all: Record<string, Build> = { ...fwd, ...dwVariants, ...dxVariants };
  const names = Object.keys(all).filter((k) => !onlyArg || onlyArg.includes(k) || k === 'forward_conv');
  const results = new Map<string, Map<string, { med: number; p10: number }>>();
  for (const cs of CASES) {
    results.set(cs.name, await measure(cs, names.map((nm) => [nm, all[nm]]), rounds, per));
    console.error(`done: ${cs.name}`);
  }
  const rows: string[][] = [['ms: median (p10)', ...CASES.map((c) => c.name)]];
  for (const name of names)
    rows.push([name, ...CASES.map((cs) => {
      const r = results.get(cs.name)!.get(name);
      return r ? `${r.med.toFixed(2)} (${r.p10.toFixed(2)})` : '-';
    })]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join(' | ')).join('\n'));
}

await main();
