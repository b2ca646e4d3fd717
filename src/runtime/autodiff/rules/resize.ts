// Gradient of Resize (nearest, linear, cubic; every coordinate transformation mode but tf_crop_and_resize).
//
// ONNX Resize is separable: along each resized axis, output position j is a fixed weighted sum of input positions
// (one tap for nearest, two for linear, four for cubic), the weights depending only on the sizes and attributes. The
// gradient is therefore the transposed per-axis map applied to dY, computed exactly:
// - nearest with an integer factor s where j reads j div s (asymmetric/floor, half_pixel/round_prefer_floor at x2,
//   ...): Reshape dY to [.., H, s, W, s, ..] and ReduceSum over the s axes, or, for spatial axes and a power-of-two
//   total factor (x2), the same sum as AveragePool(kernel = stride = s) times s*s: exact, and twice as fast;
// - anything else: one MatMul per resized axis with a constant [in, out] matrix holding the transposed taps.
import { float32ArrayToBfloat16, float32ArrayToFloat16 } from '../../onnx/half.js';
import type { Sym } from '../../onnx/builder.js';
import { A, attrFloat, attrInt, attrInts, attrString } from '../../onnx/ir.js';
import * as op from '../../onnx/ops/index.js';
import type { GradRule, GradRules } from '../rule.js';

/** A constant with `like`'s float dtype (the rules' one-hot, reversal and identity matrices). */
export function floatConst(like: Sym, shape: number[], data: Float32Array): Sym {
  switch (like.dtype) {
    case 'float64': return like.b.constant({ dtype: 'float64', shape, data: Float64Array.from(data) });
    case 'float16': return like.b.constant({ dtype: 'float16', shape, data: float32ArrayToFloat16(data) });
    case 'bfloat16': return like.b.constant({ dtype: 'bfloat16', shape, data: float32ArrayToBfloat16(data) });
    default: return like.b.constant({ dtype: 'float32', shape, data });
  }
}

/** Along `axis`, forward output position j = sum over taps[j] of weight * input[index]; the input has `size` positions. */
export interface AxisMap {
  axis: number;
  size: number;
  taps: [index: number, weight: number][][];
}

/** A 0/1 map: output position j copies input position index[j]. */
export function indexMap(axis: number, size: number, index: readonly number[]): AxisMap {
  return { axis, size, taps: index.map((i) => [[i, 1]]) };
}

/** Applies the transpose of each axis map to g (the backward of the separable forward map), one MatMul per axis. */
export function applyAxisMaps(g: Sym, maps: AxisMap[]): Sym {
  let t = g;
  for (const m of maps) {
    const len = t.shape[m.axis];
    if (m.taps.length !== len) throw new Error(`axis map for axis ${m.axis} has ${m.taps.length} rows, the gradient has ${len}`);
    const pre = t.shape.slice(0, m.axis).reduce((a, b) => a * b, 1);
    const post = t.shape.slice(m.axis + 1).reduce((a, b) => a * b, 1);
    const outShape = t.shape.map((d, i) => (i === m.axis ? m.size : d));
    if (post === 1) {
      // Last (effective) axis: [pre, len] @ M [len, size].
      const mat = new Float32Array(len * m.size);
      m.taps.forEach((row, j) => row.forEach(([i, w]) => (mat[j * m.size + i] += w)));
      const r = op.matmul(op.reshape(t, [pre, len]), floatConst(g, [len, m.size], mat));
      t = op.reshape(r, outShape);
    } else {
      // M^T [size, len] @ [pre, len, post], broadcast over pre.
      const mat = new Float32Array(m.size * len);
      m.taps.forEach((row, j) => row.forEach(([i, w]) => (mat[i * len + j] += w)));
      const t3 = op.reshape(t, pre === 1 ? [len, post] : [pre, len, post]);
      t = op.reshape(op.matmul(floatConst(g, [m.size, len], mat), t3), outShape);
    }
  }
  return t;
}

const f = Math.fround;

/** Input coordinate of output position j, as onnxruntime computes it (in float32). */
function originalCoord(mode: string, j: number, inLen: number, outLen: number, scale: number, name: string): number {
  switch (mode) {
    case 'half_pixel':
      return f(f(f(j + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(j + 0.5) / scale) - 0.5) : 0;
    case 'half_pixel_symmetric': {
      const adjustment = f(outLen / f(scale * inLen));
      const center = inLen / 2;
      const offset = f(center * f(1 - adjustment));
      return f(offset + f(f(f(j + 0.5) / scale) - 0.5));
    }
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(j * (inLen - 1)) / (outLen - 1));
    case 'asymmetric':
      return f(j / scale);
    default:
      throw new Error(`Resize '${name}': coordinate_transformation_mode '${mode}' has no gradient rule`);
  }
}

function nearestIndex(mode: string, x: number, inLen: number): number {
  let i: number;
  switch (mode) {
    case 'floor': i = Math.floor(x); break;
    case 'ceil': i = Math.ceil(x); break;
    case 'round_prefer_ceil': i = Math.round(x); break;
    default: i = x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x); // round_prefer_floor
  }
  return Math.min(Math.max(i, 0), inLen - 1);
}

/** Cubic convolution coefficients for the fractional offset s (onnxruntime's GetCubicCoeffs). */
function cubicCoeffs(s: number, a: number): number[] {
  return [s + 1, s, 1 - s, 2 - s].map((v) => {
    const x = Math.abs(v);
    return x <= 1 ? (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1 : x < 2 ? a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a : 0;
  });
}

/** The forward taps of Resize along one axis. */
export function resizeTaps(o: { mode: string; coord: string; nearest: string; cubicA: number; excludeOutside: boolean; name: string }, inLen: number, outLen: number, scale: number): [number, number][][] {
  const rows: [number, number][][] = [];
  for (let j = 0; j < outLen; j++) {
    const x = originalCoord(o.coord, j, inLen, outLen, scale, o.name);
    if (o.mode === 'nearest') rows.push([[nearestIndex(o.nearest, x, inLen), 1]]);
    else if (o.mode === 'linear') {
      const xc = Math.min(Math.max(x, 0), inLen - 1);
      const i1 = Math.min(Math.floor(xc), inLen - 1);
      const i2 = Math.min(i1 + 1, inLen - 1);
      const w2 = f(xc - i1);
      rows.push(i1 === i2 ? [[i1, 1]] : [[i1, f(1 - w2)], [i2, w2]]);
    } else if (o.mode === 'cubic') {
      const base = Math.floor(x);
      const coeffs = cubicCoeffs(x - base, o.cubicA);
      const taps: [number, number][] = [];
      let total = 0;
      for (let k = 0; k < 4; k++) {
        const idx = base - 1 + k;
        const inside = idx >= 0 && idx < inLen;
        if (o.excludeOutside && !inside) continue;
        taps.push([Math.min(Math.max(idx, 0), inLen - 1), coeffs[k]]);
        total += coeffs[k];
      }
      rows.push(o.excludeOutside ? taps.map(([i, w]) => [i, w / total]) : taps);
    } else throw new Error(`Resize '${o.name}': mode '${o.mode}' has no gradient rule`);
  }
  return rows;
}

const resizeGrad: GradRule = (c) => {
  const x = c.x[0]!;
  const dy = c.dy[0]!;
  const node = c.node;
  const name = node.name;
  const coord = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (coord === 'tf_crop_and_resize') throw new Error(`Resize '${name}': tf_crop_and_resize has no gradient rule`);
  if (attrInt(node, 'antialias', 0)) throw new Error(`Resize '${name}': antialias has no gradient rule`);
  if (node.attrs.axes) throw new Error(`Resize '${name}': the axes attribute has no gradient rule`);
  const o = {
    mode: attrString(node, 'mode', 'nearest'),
    coord,
    nearest: attrString(node, 'nearest_mode', 'round_prefer_floor'),
    cubicA: attrFloat(node, 'cubic_coeff_a', -0.75),
    excludeOutside: !!attrInt(node, 'exclude_outside', 0),
    name,
  };
  const g = node.inputs;
  const scalesIn = g[2] ? c.constInts(2) : undefined; // float constants read as numbers
  const sizesIn = g[3] ? c.constInts(3) : undefined;
  const useSizes = !!sizesIn?.length;
  if (!useSizes && !scalesIn?.length) throw new Error(`Resize '${name}': scales or sizes must be build-time constants for its gradient`);
  const scales = x.shape.map((d, i) => (useSizes ? f(dy.shape[i] / d) : f(scalesIn![i])));

  const maps: AxisMap[] = [];
  let integerNearest = o.mode === 'nearest';
  const factors: number[] = [];
  for (let a = 0; a < x.rank; a++) {
    const inLen = x.shape[a], outLen = dy.shape[a];
    const taps = resizeTaps(o, inLen, outLen, scales[a]);
    const identity = inLen === outLen && taps.every((row, j) => row.length === 1 && row[0][0] === j && row[0][1] === 1);
    factors.push(outLen / inLen);
    if (identity) continue;
    // Integer-factor nearest where output j reads j div s: a Reshape + ReduceSum suffices.
    const s = outLen / inLen;
    if (!(Number.isInteger(s) && taps.every((row, j) => row.length === 1 && row[0][0] === Math.floor(j / s)))) integerNearest = false;
    maps.push({ axis: a, size: inLen, taps });
  }
  if (maps.length === 0) return [dy];
  if (integerNearest) {
    // Resized axes all spatial, power-of-two total factor: AveragePool (kernel = stride = factor) times the factor is
    // the exact sum and 2x faster than ReduceSum over the interleaved axes (onnxruntime pools in NCHWc).
    const count = factors.reduce((a, v) => a * v, 1);
    if (x.rank >= 3 && x.rank <= 5 && factors[0] === 1 && factors[1] === 1 && Number.isInteger(Math.log2(count))) {
      const k = factors.slice(2);
      return [op.mul(x.b.op1('AveragePool', [dy], { kernel_shape: A.is(k), strides: A.is(k) }), count)];
    }
    const inter = x.shape.flatMap((d, a) => (maps.some((m) => m.axis === a) ? [d, factors[a]] : [d]));
    const sumAxes: number[] = [];
    let k = 0;
    x.shape.forEach((_, a) => {
      if (maps.some((m) => m.axis === a)) { sumAxes.push(k + 1); k += 2; } else k += 1;
    });
    return [op.reshape(op.reduceSum(op.reshape(dy, inter), sumAxes, false), [...x.shape])];
  }
  return [applyAxisMaps(dy, maps)];
};

/** Resize's rule (rules/table.ts assembles every file's rules). */
export const resizeRules: GradRules = {
  Resize: resizeGrad,
};
