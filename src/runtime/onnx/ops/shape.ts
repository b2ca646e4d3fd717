// Ops that move, select or reshape data without arithmetic.
import { numel } from '../tensor.js';
import type { Sym } from '../builder.js';
import { A, attrInt, attrInts, attrString } from '../ir.js';
import { ShapeRules, broadcastShapes, constInts, fail, need, normAxis } from './registry.js';

/** Shape inference for the ops of this file (ops/table.ts holds every file's). */
export const shapeRules = new ShapeRules();

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

shapeRules.define('Reshape', (c) => {
  const x = need(c, 0);
  const target = constInts(c, 1)!;
  const allowzero = attrInt(c.node, 'allowzero', 0);
  const shape = target.map((d, i) => (d === 0 && !allowzero ? x.shape[i] : d));
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const n = numel(x.shape);
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) fail(c, `target shape ${fmt(target)} has more than one -1`);
  if (holes === 1) {
    if (known === 0 || n % known !== 0) fail(c, `cannot reshape ${fmt(x.shape)} to ${fmt(target)}`);
    shape[shape.indexOf(-1)] = n / known;
  } else if (known !== n) fail(c, `cannot reshape ${fmt(x.shape)} (${n} elements) to ${fmt(target)}`);
  return [{ dtype: x.dtype, shape }];
});
shapeRules.define('Flatten', (c) => {
  const x = need(c, 0);
  const axis = attrInt(c.node, 'axis', 1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  return [{ dtype: x.dtype, shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))] }];
});
shapeRules.define('Transpose', (c) => {
  const x = need(c, 0);
  const perm = attrInts(c.node, 'perm', [...x.shape.keys()].reverse());
  if (perm.length !== x.shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
    fail(c, `perm ${fmt(perm)} is not a permutation of rank ${x.shape.length}`);
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
});
shapeRules.define('Concat', (c) => {
  const xs = c.inputs.map((_, i) => need(c, i));
  const rank = xs[0].shape.length;
  const axis = normAxis(c, attrInt(c.node, 'axis'), rank);
  const shape = [...xs[0].shape];
  for (const x of xs.slice(1)) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== axis && d !== shape[i]))
      fail(c, `cannot concatenate ${fmt(xs[0].shape)} and ${fmt(x.shape)} on axis ${axis}`);
    shape[axis] += x.shape[axis];
  }
  return [{ dtype: xs[0].dtype, shape }];
});
shapeRules.define('Split', (c) => {
  const x = need(c, 0);
  const axis = normAxis(c, attrInt(c.node, 'axis', 0), x.shape.length);
  let sizes = (c.inputs.length > 1 ? constInts(c, 1) : undefined) ?? attrInts(c.node, 'split', []);
  if (sizes.length === 0) {
    const parts = attrInt(c.node, 'num_outputs', c.node.outputs.length || 2);
    sizes = Array(parts).fill(Math.ceil(x.shape[axis] / parts));
    sizes[parts - 1] = x.shape[axis] - sizes[0] * (parts - 1);
  }
  if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) fail(c, `split sizes ${fmt(sizes)} do not add up to ${x.shape[axis]}`);
  return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) }));
});

/** Resolves Slice's starts/ends/axes/steps to one [start, end, step] per axis, clamped as ONNX specifies. */
export function sliceRanges(shape: readonly number[], starts: number[], ends: number[], axes?: number[], steps?: number[]) {
  const r = shape.map((d) => ({ start: 0, end: d, step: 1 }));
  (axes ?? starts.map((_, i) => i)).forEach((ax, i) => {
    const a = ax < 0 ? ax + shape.length : ax;
    const d = shape[a];
    const step = steps?.[i] ?? 1;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    if (step > 0) { s = clamp(s, 0, d); e = clamp(e, 0, d); } else { s = clamp(s, 0, d - 1); e = clamp(e, -1, d - 1); }
    r[a] = { start: s, end: e, step };
  });
  return r;
}
shapeRules.define('Slice', (c) => {
  const x = need(c, 0);
  const r = sliceRanges(x.shape, constInts(c, 1)!, constInts(c, 2)!, constInts(c, 3), constInts(c, 4));
  const shape = r.map(({ start, end, step }) => Math.max(0, Math.ceil((end - start) / step)));
  return [{ dtype: x.dtype, shape }];
});
shapeRules.define('Squeeze', (c) => {
  const x = need(c, 0);
  const raw = (c.inputs.length > 1 ? constInts(c, 1) : undefined) ?? attrInts(c.node, 'axes', []);
  const axes = raw.length ? raw.map((a) => normAxis(c, a, x.shape.length)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.shape[a] !== 1) fail(c, `cannot squeeze axis ${a} of ${fmt(x.shape)}`);
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
});
shapeRules.define('Unsqueeze', (c) => {
  const x = need(c, 0);
  const raw = (c.inputs.length > 1 ? constInts(c, 1) : undefined) ?? attrInts(c.node, 'axes');
  const rank = x.shape.length + raw.length;
  const axes = raw.map((a) => normAxis(c, a, rank));
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]);
  return [{ dtype: x.dtype, shape }];
});
shapeRules.define('Expand', (c) => {
  const x = need(c, 0);
  return [{ dtype: x.dtype, shape: broadcastShapes(c, [x.shape, constInts(c, 1)!]) }];
});
shapeRules.define('Tile', (c) => {
  const x = need(c, 0);
  const reps = constInts(c, 1)!;
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d * reps[i]) }];
});
shapeRules.define('Gather', (c) => {
  const x = need(c, 0), idx = need(c, 1);
  const axis = normAxis(c, attrInt(c.node, 'axis', 0), x.shape.length);
  return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
});
shapeRules.define('GatherElements', (c) => [{ dtype: need(c, 0).dtype, shape: need(c, 1).shape }]);
shapeRules.define(['ScatterND', 'ScatterElements'], (c) => [need(c, 0)]);
shapeRules.define('Shape', (c) => {
  const r = need(c, 0).shape.length;
  const s = attrInt(c.node, 'start', 0), e = attrInt(c.node, 'end', r);
  const n = Math.max(0, (e < 0 ? e + r : Math.min(e, r)) - (s < 0 ? s + r : s));
  return [{ dtype: 'int64', shape: [n] }];
});
shapeRules.define('Size', () => [{ dtype: 'int64', shape: [] }]);
shapeRules.define('ConstantOfShape', (c) => {
  const v = c.node.attrs.value;
  return [{ dtype: v?.kind === 'tensor' ? v.v.dtype : 'float32', shape: constInts(c, 0)! }];
});
shapeRules.define('Constant', (c) => {
  const v = c.node.attrs.value;
  if (v?.kind !== 'tensor') fail(c, 'only tensor-valued Constant nodes are supported');
  return [{ dtype: v.v.dtype, shape: [...v.v.shape] }];
});
shapeRules.define('Pad', (c) => {
  const x = need(c, 0);
  const pads = constInts(c, 1)!;
  const axes = c.inputs.length > 3 ? constInts(c, 3) : undefined;
  const r = x.shape.length;
  const ax = axes ? axes.map((a) => normAxis(c, a, r)) : [...Array(r).keys()];
  const shape = [...x.shape];
  ax.forEach((a, i) => { shape[a] += pads[i] + pads[i + ax.length]; });
  attrString(c.node, 'mode', 'constant');
  return [{ dtype: x.dtype, shape }];
});
shapeRules.define('Trilu', (c) => [need(c, 0)]);

// ---- typed functions -------------------------------------------------------------------------------------------

export function reshape(x: Sym, shape: number[]): Sym {
  if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return x;
  return x.b.op1('Reshape', [x, x.b.ints(shape)]);
}
export function transpose(x: Sym, perm: number[]): Sym {
  if (perm.every((p, i) => p === i)) return x;
  return x.b.op1('Transpose', [x], { perm: A.is(perm) });
}
export function concat(xs: Sym[], axis: number): Sym {
  return xs.length === 1 ? xs[0] : xs[0].b.op1('Concat', xs, { axis: A.i(axis) });
}
export function split(x: Sym, sizes: number[], axis: number): Sym[] {
  return x.b.op('Split', [x, x.b.ints(sizes)], { axis: A.i(axis) }, sizes.length);
}
export function slice(x: Sym, starts: number[], ends: number[], axes: number[], steps?: number[]): Sym {
  return x.b.op1('Slice', [x, x.b.ints(starts), x.b.ints(ends), x.b.ints(axes), steps ? x.b.ints(steps) : null]);
}
export function squeeze(x: Sym, axes: number[]): Sym {
  return x.b.op1('Squeeze', [x, x.b.ints(axes)]);
}
export function unsqueeze(x: Sym, axes: number[]): Sym {
  return x.b.op1('Unsqueeze', [x, x.b.ints(axes)]);
}
export function expand(x: Sym, shape: number[]): Sym {
  if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return x;
  return x.b.op1('Expand', [x, x.b.ints(shape)]);
}
export function gather(x: Sym, indices: Sym, axis = 0): Sym {
  return x.b.op1('Gather', [x, indices], { axis: A.i(axis) });
}
export function pad(x: Sym, pads: number[], mode: 'constant' | 'reflect' | 'edge' = 'constant'): Sym {
  if (pads.every((p) => p === 0)) return x;
  return x.b.op1('Pad', [x, x.b.ints(pads)], { mode: A.s(mode) });
}
