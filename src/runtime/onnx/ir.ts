// The in-memory graph every part of the engine works on: builder output, imported ONNX models and training graphs
// alike. It mirrors ONNX's GraphProto but keeps shapes for every value, which autodiff needs and ONNX leaves optional.
import type { DType, HostTensor } from './tensor.js';

export type AttrValue =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'string'; v: string }
  | { kind: 'tensor'; v: HostTensor };

export type Attrs = Record<string, AttrValue>;

/** Attribute constructors, so that an integer 1 and a float 1.0 stay distinct as ONNX requires. */
export const A = {
  i: (v: number): AttrValue => ({ kind: 'int', v }),
  f: (v: number): AttrValue => ({ kind: 'float', v }),
  is: (v: number[]): AttrValue => ({ kind: 'ints', v }),
  fs: (v: number[]): AttrValue => ({ kind: 'floats', v }),
  s: (v: string): AttrValue => ({ kind: 'string', v }),
  t: (v: HostTensor): AttrValue => ({ kind: 'tensor', v }),
};

export interface IRNode {
  op: string;
  domain: string;
  name: string;
  /** '' marks an omitted optional input, as in ONNX. */
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

export interface ValueInfo {
  dtype: DType;
  shape: number[];
}

export class Graph {
  nodes: IRNode[] = [];
  values = new Map<string, ValueInfo>();
  inputs: string[] = [];
  outputs: string[] = [];
  initializers = new Map<string, HostTensor>();
  /** Values known at build time (initializers and Constant outputs): shape inference reads axes, shapes, pads here. */
  constants = new Map<string, HostTensor>();
  opset = 17;
  name = 'graph';

  info(name: string): ValueInfo {
    const v = this.values.get(name);
    if (!v) throw new Error(`graph has no value named '${name}'`);
    return v;
  }

  /** Map from value name to the node producing it. */
  producers(): Map<string, IRNode> {
    const m = new Map<string, IRNode>();
    for (const n of this.nodes) for (const o of n.outputs) if (o) m.set(o, n);
    return m;
  }
}

export function attrInt(node: IRNode, name: string, dflt?: number): number {
  const a = node.attrs[name];
  if (a === undefined) {
    if (dflt === undefined) throw new Error(`${node.op} node '${node.name}' lacks attribute '${name}'`);
    return dflt;
  }
  if (a.kind !== 'int') throw new Error(`${node.op} node '${node.name}': attribute '${name}' is ${a.kind}, expected int`);
  return a.v;
}

export function attrFloat(node: IRNode, name: string, dflt: number): number {
  const a = node.attrs[name];
  if (a === undefined) return dflt;
  if (a.kind !== 'float' && a.kind !== 'int') throw new Error(`${node.op} node '${node.name}': attribute '${name}' is ${a.kind}, expected float`);
  return a.v;
}

export function attrInts(node: IRNode, name: string, dflt?: number[]): number[] {
  const a = node.attrs[name];
  if (a === undefined) {
    if (dflt === undefined) throw new Error(`${node.op} node '${node.name}' lacks attribute '${name}'`);
    return dflt;
  }
  if (a.kind !== 'ints') throw new Error(`${node.op} node '${node.name}': attribute '${name}' is ${a.kind}, expected ints`);
  return a.v;
}

export function attrString(node: IRNode, name: string, dflt: string): string {
  const a = node.attrs[name];
  if (a === undefined) return dflt;
  if (a.kind !== 'string') throw new Error(`${node.op} node '${node.name}': attribute '${name}' is ${a.kind}, expected string`);
  return a.v;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
