// Gradients of data-movement ops: each is the inverse movement applied to the gradient.
import type { Sym } from '../../onnx/builder.js';
import { attrInt, attrInts } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import { sliceRanges } from '../../onnx/ops/shape.js';
import type { GradContext, GradRule, GradRules } from '../rule.js';
import { inversePerm, unbroadcast } from './util.js';

const backToShape = (c: GradContext) => [op.reshape(c.dy[0]!, [...c.x[0]!.shape])];

const transposeGrad: GradRule = (c) => {
  const perm = attrInts(c.node, 'perm', [...Array(c.x[0]!.rank).keys()].reverse());
  return [op.transpose(c.dy[0]!, inversePerm(perm))];
};

const concatGrad: GradRule = (c) => {
  const rank = c.x[0]!.rank;
  const axis = (attrInt(c.node, 'axis') + rank) % rank;
  const parts = op.split(c.dy[0]!, c.x.map((x) => x!.shape[axis]), axis);
  return parts.map((p, i) => (c.needs[i] ? p : undefined));
};

const splitGrad: GradRule = (c) => {
  const x = c.x[0]!;
  const axis = (attrInt(c.node, 'axis', 0) + x.rank) % x.rank;
  // Split outputs are never omitted; outputs that do not reach the loss contribute zeros.
  const parts = c.y.map((y, i) => c.dy[i] ?? x.b.constant({ dtype: y!.dtype, shape: [...y!.shape], data: new Float32Array(y!.size) }));
  return [op.concat(parts, axis)];
};

const sliceGrad: GradRule = (c) => {
  const x = c.x[0]!;
  const [starts, ends, axes, steps] = [1, 2, 3, 4].map((i) => (c.x[i] ? c.constInts(i) : undefined));
  if (!starts || !ends) throw new Error(`Slice '${c.node.name}': starts and ends must be constant`);
  const r = sliceRanges(x.shape, starts, ends, axes, steps);
  if (r.some((s) => s.step !== 1)) return [stridedSliceGrad(c.dy[0]!, x, r)];
  // Step 1: the gradient is the slice padded back with zeros (Pad with begins then ends).
  const pads = [...r.map((s) => s.start), ...r.map((s, i) => x.shape[i] - Math.max(s.end, s.start))];
  return [op.pad(c.dy[0]!, pads)];
};

/** Strided slices scatter the gradient into zeros with ScatterND (add), built from the index grid. */
function stridedSliceGrad(dy: Sym, x: Sym, r: { start: number; end: number; step: number }[]): Sym {
  const b = x.b;
  const count = dy.size;
  const idx = new BigInt64Array(count * x.rank);
  const dims = dy.shape;
  for (let flat = 0; flat < count; flat++) {
    let rem = flat;
    for (let a = x.rank - 1; a >= 0; a--) {
      const k = rem % dims[a];
      rem = Math.floor(rem / dims[a]);
      idx[flat * x.rank + a] = BigInt(r[a].start + k * r[a].step);
    }
  }
  const indices = b.constant({ dtype: 'int64', shape: [...dims, x.rank], data: idx });
  const zeros = b.constant({ dtype: x.dtype, shape: [...x.shape], data: new Float32Array(x.size) });
  return b.op1('ScatterND', [zeros, indices, dy], { reduction: { kind: 'string', v: 'add' } });
}

const tileGrad: GradRule = (c) => {
  const x = c.x[0]!;
  const reps = c.constInts(1)!;
  // View dy as [r0, d0, r1, d1, ...] and sum the repeat axes.
  const inter = x.shape.flatMap((d, i) => [reps[i], d]);
  const summed = op.reduceSum(op.reshape(c.dy[0]!, inter), x.shape.map((_, i) => 2 * i), false);
  return [summed];
};

const gatherGrad: GradRule = (c) => {
  const [x, idx] = c.x as Sym[];
  const axis = (attrInt(c.node, 'axis', 0) + x.rank) % x.rank;
  if (!c.needs[0]) return [undefined, undefined];
  // Move the gathered axis first, scatter-add rows into zeros, move it back.
  const dy = c.dy[0]!;
  const b = x.b;
  const perm = [axis, ...[...Array(x.rank).keys()].filter((a) => a !== axis)];
  const xT = perm.map((p) => x.shape[p]);
  // dy has shape x[:axis] + idx.shape + x[axis+1:]; bring idx dims to the front.
  const idxRank = idx.rank;
  const dyPerm = [...Array(idxRank).keys()].map((k) => axis + k);
  const rest = [...Array(dy.rank).keys()].filter((a) => a < axis || a >= axis + idxRank);
  const dyT = op.transpose(dy, [...dyPerm, ...rest]);
  const nIdx = idx.size;
  const updates = op.reshape(dyT, [nIdx, ...xT.slice(1)]);
  let indices = op.reshape(idx, [nIdx, 1]);
  if (idx.dtype !== 'int64') indices = op.cast(indices, 'int64');
  // Negative indices count from the end.
  indices = op.where(op.less(indices, b.scalar(0, 'int64')), op.add(indices, b.scalar(x.shape[axis], 'int64')), indices);
  const zeros = b.constant({ dtype: x.dtype, shape: xT, data: new Float32Array(x.size) });
  const scattered = b.op1('ScatterND', [zeros, indices, updates], { reduction: { kind: 'string', v: 'add' } });
  return [op.transpose(scattered, inversePerm(perm)), undefined];
};

/** The data-movement ops' rules (rules/table.ts assembles every file's rules). */
export const shapeRules: GradRules = {
  Reshape: backToShape,
  Flatten: backToShape,
  Squeeze: backToShape,
  Unsqueeze: backToShape,
  Transpose: transposeGrad,
  Expand: (c) => [unbroadcast(c.dy[0]!, c.x[0]!.shape)],
  Concat: concatGrad,
  Split: splitGrad,
  Slice: sliceGrad,
  Tile: tileGrad,
  Gather: gatherGrad,
};
