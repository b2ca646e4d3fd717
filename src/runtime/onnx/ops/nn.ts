// Convolution, normalization and resampling ops.
import type { Sym } from '../builder.js';
import { A, attrInt, attrInts, attrString } from '../ir.js';
import { ShapeRules, constFloats, constInts, fail, type InferContext, need, normAxis } from './registry.js';

/** Shape inference for the ops of this file (ops/table.ts holds every file's). */
export const nnRules = new ShapeRules();

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Spatial attributes of Conv/ConvTranspose with ONNX defaults filled in. */
export function convAttrs(c: Pick<InferContext, 'node'>, spatial: number) {
  const ones = Array(spatial).fill(1);
  return {
    strides: attrInts(c.node, 'strides', ones),
    dilations: attrInts(c.node, 'dilations', ones),
    pads: attrInts(c.node, 'pads', Array(2 * spatial).fill(0)),
    group: attrInt(c.node, 'group', 1),
  };
}

nnRules.define('Conv', (c) => {
  const x = need(c, 0), w = need(c, 1);
  if (x.shape.length !== w.shape.length) fail(c, `input ${fmt(x.shape)} and weight ${fmt(w.shape)} differ in rank`);
  const sp = x.shape.length - 2;
  if (attrString(c.node, 'auto_pad', 'NOTSET') !== 'NOTSET') fail(c, 'auto_pad is not supported; give explicit pads');
  const { strides, dilations, pads, group } = convAttrs(c, sp);
  if (x.shape[1] !== w.shape[1] * group)
    fail(c, `input ${fmt(x.shape)} has ${x.shape[1]} channels, weight ${fmt(w.shape)} with group ${group} expects ${w.shape[1] * group}`);
  if (c.inputs[2] && (c.inputs[2].shape.length !== 1 || c.inputs[2].shape[0] !== w.shape[0]))
    fail(c, `bias ${fmt(c.inputs[2].shape)} does not match weight ${fmt(w.shape)}`);
  const spatial = x.shape.slice(2).map((d, i) => {
    const k = (w.shape[2 + i] - 1) * dilations[i] + 1;
    const o = Math.floor((d + pads[i] + pads[i + sp] - k) / strides[i]) + 1;
    if (o < 1) fail(c, `kernel ${fmt(w.shape)} does not fit input ${fmt(x.shape)}`);
    return o;
  });
  return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[0], ...spatial] }];
});

nnRules.define('ConvTranspose', (c) => {
  const x = need(c, 0), w = need(c, 1);
  const sp = x.shape.length - 2;
  const { strides, dilations, pads, group } = convAttrs(c, sp);
  if (x.shape[1] !== w.shape[0]) fail(c, `input ${fmt(x.shape)} has ${x.shape[1]} channels, weight ${fmt(w.shape)} expects ${w.shape[0]}`);
  const outPad = attrInts(c.node, 'output_padding', Array(sp).fill(0));
  const outShape = attrInts(c.node, 'output_shape', []);
  const spatial = x.shape.slice(2).map((d, i) => {
    if (outShape.length) return outShape[outShape.length - sp + i];
    return strides[i] * (d - 1) + outPad[i] + (w.shape[2 + i] - 1) * dilations[i] + 1 - pads[i] - pads[i + sp];
  });
  return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[1] * group, ...spatial] }];
});

nnRules.define('InstanceNormalization', (c) => {
  const x = need(c, 0);
  for (const i of [1, 2]) {
    const s = need(c, i).shape;
    if (s.length !== 1 || s[0] !== x.shape[1]) fail(c, `input ${i} ${fmt(s)} should be [${x.shape[1]}] for input ${fmt(x.shape)}`);
  }
  return [x];
});

nnRules.define('LayerNormalization', (c) => {
  const x = need(c, 0);
  const axis = normAxis(c, attrInt(c.node, 'axis', -1), x.shape.length);
  const norm = x.shape.slice(axis);
  for (const i of [1, 2]) {
    const s = c.inputs[i]?.shape;
    if (s && (s.length > norm.length || s.some((d, k) => d !== 1 && d !== norm[norm.length - s.length + k])))
      fail(c, `input ${i} ${fmt(s)} does not broadcast to the normalized shape ${fmt(norm)}`);
  }
  const stat = { dtype: 'float32' as const, shape: x.shape.map((d, i) => (i < axis ? d : 1)) };
  return [x, stat, stat];
});

nnRules.define('Resize', (c) => {
  const x = need(c, 0);
  const scales = c.inputs[2] ? constFloats(c, 2) : undefined;
  const sizes = c.inputs[3] ? constInts(c, 3) : undefined;
  if (sizes?.length) return [{ dtype: x.dtype, shape: sizes }];
  if (!scales?.length || scales.length !== x.shape.length) fail(c, `needs scales or sizes for every axis of ${fmt(x.shape)}`);
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => Math.floor(d * scales[i])) }];
});

nnRules.define(['GlobalAveragePool', 'GlobalMaxPool'], (c) => {
  const x = need(c, 0);
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }];
});

// Explicit pads, floor or ceil mode (the Resize gradient's block sums use it).
nnRules.define('AveragePool', (c) => {
  const x = need(c, 0);
  const sp = x.shape.length - 2;
  const k = attrInts(c.node, 'kernel_shape');
  const strides = attrInts(c.node, 'strides', Array(sp).fill(1));
  const dil = attrInts(c.node, 'dilations', Array(sp).fill(1));
  const pads = attrInts(c.node, 'pads', Array(2 * sp).fill(0));
  if (attrString(c.node, 'auto_pad', 'NOTSET') !== 'NOTSET') fail(c, 'auto_pad is not supported; give explicit pads');
  const round = attrInt(c.node, 'ceil_mode', 0) ? Math.ceil : Math.floor;
  const out = x.shape.slice(2).map((d, i) => round((d + pads[i] + pads[i + sp] - (k[i] - 1) * dil[i] - 1) / strides[i]) + 1);
  return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...out] }];
});

// ---- typed functions -------------------------------------------------------------------------------------------

export interface ConvOptions {
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
}

function spatialAttrs(o: ConvOptions, sp: number) {
  return {
    strides: A.is(o.strides ?? Array(sp).fill(1)),
    pads: A.is(o.pads ?? Array(2 * sp).fill(0)),
    dilations: A.is(o.dilations ?? Array(sp).fill(1)),
    group: A.i(o.group ?? 1),
  };
}

export function conv(x: Sym, w: Sym, bias: Sym | null, o: ConvOptions = {}): Sym {
  return x.b.op1('Conv', [x, w, bias], spatialAttrs(o, x.rank - 2));
}

export function convTranspose(x: Sym, w: Sym, bias: Sym | null, o: ConvOptions & { outputPadding?: number[] } = {}): Sym {
  const sp = x.rank - 2;
  return x.b.op1('ConvTranspose', [x, w, bias], { ...spatialAttrs(o, sp), output_padding: A.is(o.outputPadding ?? Array(sp).fill(0)) });
}

export function instanceNorm(x: Sym, scale: Sym, bias: Sym, epsilon = 1e-5): Sym {
  return x.b.op1('InstanceNormalization', [x, scale, bias], { epsilon: A.f(epsilon) });
}

export function layerNormOp(x: Sym, scale: Sym, bias: Sym | null, epsilon = 1e-5, axis = -1): Sym {
  return x.b.op1('LayerNormalization', [x, scale, bias], { epsilon: A.f(epsilon), axis: A.i(axis) });
}

export type ResizeMode = 'nearest' | 'linear';

/** Resize by scale factors per axis; 'nearest' uses floor rounding, 'linear' half-pixel centres (torch's defaults). */
export function resize(x: Sym, scales: number[], mode: ResizeMode = 'nearest'): Sym {
  const b = x.b;
  const scalesSym = b.constant({ dtype: 'float32', shape: [scales.length], data: Float32Array.from(scales) });
  return b.op1('Resize', [x, null, scalesSym], {
    mode: A.s(mode),
    coordinate_transformation_mode: A.s(mode === 'nearest' ? 'asymmetric' : 'half_pixel'),
    nearest_mode: A.s('floor'),
  });
}
