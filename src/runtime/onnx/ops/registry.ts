// One shape-inference rule per ONNX op type. The builder runs these as it adds nodes, so a shape error surfaces at
// build time, naming the op and both shapes, instead of as an opaque onnxruntime failure at run time.
import type { HostTensor } from '../tensor.js';
import type { IRNode, ValueInfo } from '../ir.js';

export interface InferContext {
  node: IRNode;
  /** Input infos in order; undefined for omitted optional inputs. */
  inputs: (ValueInfo | undefined)[];
  /** The build-time value of input i, if it is a constant. */
  constant(i: number): HostTensor | undefined;
}

export type InferFn = (c: InferContext) => ValueInfo[];

/** The rules of one file of ops (math.ts, nn.ts, shape.ts); `table.ts` puts them together. */
export class ShapeRules {
  readonly rules = new Map<string, InferFn>();

  define(op: string | string[], infer: InferFn): void {
    for (const o of Array.isArray(op) ? op : [op]) {
      if (this.rules.has(o)) throw new Error(`shape rule for ${o} defined twice`);
      this.rules.set(o, infer);
    }
  }
}

export class ShapeError extends Error {}

export function fail(c: InferContext, message: string): never {
  throw new ShapeError(`${c.node.op} '${c.node.name}': ${message}`);
}

export function need(c: InferContext, i: number): ValueInfo {
  const v = c.inputs[i];
  if (!v) fail(c, `input ${i} is required`);
  return v;
}

/** Reads a constant int64/int32 input as numbers, failing if the value is not known at build time. */
export function constInts(c: InferContext, i: number): number[] | undefined {
  if (!c.inputs[i]) return undefined;
  const t = c.constant(i);
  if (!t) fail(c, `input ${i} must be a build-time constant for shape inference`);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

export function constFloats(c: InferContext, i: number): number[] | undefined {
  if (!c.inputs[i]) return undefined;
  const t = c.constant(i);
  if (!t) fail(c, `input ${i} must be a build-time constant for shape inference`);
  return Array.from(t.data as ArrayLike<number>, Number);
}

export function normAxis(c: InferContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(c, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcasting of several shapes; the error names every shape. */
export function broadcastShapes(c: InferContext, shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const e = k < 0 ? 1 : s[k];
      if (e === 1) continue;
      if (d !== 1 && d !== e) fail(c, `shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(' and ')} do not broadcast`);
      d = e;
    }
    out.push(d);
  }
  return out;
}
