// Builds graphs from TypeScript: symbolic tensors with static shapes, ops that infer their output shapes as they are
// added, named parameters, and constants deduplicated by value.
import { createHash } from 'node:crypto';
import { type DType, type HostTensor, numel, tensor } from './tensor.js';
import { type Attrs, Graph, type IRNode, shapeStr } from './ir.js';
import { ShapeError } from './ops/registry.js';
import { inferRule } from './ops/table.js';

export class Sym {
  constructor(
    readonly b: GraphBuilder,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly number[],
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return numel(this.shape);
  }
  toString(): string {
    return `${this.name}${shapeStr(this.shape)}`;
  }
}

export type OpInput = Sym | null | undefined;

export class GraphBuilder {
  readonly graph: Graph;
  private counter = 0;
  private constCache = new Map<string, Sym>();
  private prefixes: string[] = [];

  constructor(graph?: Graph) {
    this.graph = graph ?? new Graph();
    // Continue numbering past names an imported graph already uses.
    this.counter = this.graph.nodes.length;
  }

  /** Symbol for a value already in the graph. */
  sym(name: string): Sym {
    const v = this.graph.info(name);
    return new Sym(this, name, v.dtype, v.shape);
  }

  private fresh(base: string): string {
    let name: string;
    // A node's outputs are named after it (`name_out`), so both must be new (a graph extended by another builder,
    // as backward() extends the forward graph, may already use them).
    do name = `${base}_${this.counter++}`;
    while (this.graph.values.has(name) || this.graph.values.has(`${name}_out`));
    return name;
  }

  /** Runs fn with a name prefix for the intermediate values it creates (debugging aid). */
  scope<T>(prefix: string, fn: () => T): T {
    this.prefixes.push(prefix);
    try {
      return fn();
    } finally {
      this.prefixes.pop();
    }
  }

  input(name: string, shape: number[], dtype: DType = 'float32'): Sym {
    if (this.graph.values.has(name)) throw new Error(`graph already has a value named '${name}'`);
    this.graph.values.set(name, { dtype, shape: [...shape] });
    this.graph.inputs.push(name);
    return new Sym(this, name, dtype, shape);
  }

  /** A named weight: an initializer in inference graphs, an input in training graphs. */
  param(name: string, value: HostTensor): Sym {
    if (this.graph.values.has(name)) throw new Error(`graph already has a value named '${name}'`);
    this.graph.values.set(name, { dtype: value.dtype, shape: [...value.shape] });
    this.graph.initializers.set(name, value);
    return new Sym(this, name, value.dtype, value.shape);
  }

  /** A constant, shared with any equal constant already in the graph. */
  constant(value: HostTensor): Sym {
    const bytes = new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength);
    const key = `${value.dtype}|${value.shape.join(',')}|${createHash('sha1').update(bytes).digest('hex')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh('const');
    this.graph.values.set(name, { dtype: value.dtype, shape: [...value.shape] });
    this.graph.initializers.set(name, value);
    this.graph.constants.set(name, value);
    const s = new Sym(this, name, value.dtype, value.shape);
    this.constCache.set(key, s);
    return s;
  }

  scalar(v: number, dtype: DType = 'float32'): Sym {
    if (dtype === 'float32') return this.constant(tensor('float32', [], Float32Array.of(v)));
    if (dtype === 'float64') return this.constant(tensor('float64', [], Float64Array.of(v)));
    if (dtype === 'int64') return this.constant(tensor('int64', [], BigInt64Array.of(BigInt(v))));
    if (dtype === 'int32') return this.constant(tensor('int32', [], Int32Array.of(v)));
    throw new Error(`scalar constants of dtype ${dtype} are not supported`);
  }

  ints(values: readonly number[]): Sym {
    return this.constant(tensor('int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v)))));
  }

  /** Adds a node, infers its outputs and returns their symbols. */
  op(op: string, inputs: OpInput[], attrs: Attrs = {}, nOutputs = 1, domain = ''): Sym[] {
    const rule = inferRule(op);
    if (!rule) throw new ShapeError(`no shape inference for op '${op}'`);
    const base = [...this.prefixes, op].join('/');
    const node: IRNode = {
      op,
      domain,
      name: this.fresh(base),
      inputs: omitTrailingEmpty(inputs.map((s) => (s ? s.name : ''))),
      outputs: [],
      attrs,
    };
    for (const s of inputs) if (s && s.b !== this) throw new Error(`${op}: input ${s.name} belongs to another graph`);
    const infos = rule({
      node,
      inputs: inputs.map((s) => (s ? { dtype: s.dtype, shape: [...s.shape] } : undefined)),
      constant: (i) => {
        const s = inputs[i];
        return s ? this.graph.constants.get(s.name) : undefined;
      },
    });
    if (infos.length < nOutputs) throw new ShapeError(`${op} '${node.name}' gives ${infos.length} outputs, ${nOutputs} asked`);
    const outs: Sym[] = [];
    for (let i = 0; i < nOutputs; i++) {
      const name = `${node.name}_out${i === 0 ? '' : i}`;
      node.outputs.push(name);
      this.graph.values.set(name, infos[i]);
      outs.push(new Sym(this, name, infos[i].dtype, infos[i].shape));
    }
    this.graph.nodes.push(node);
    return outs;
  }

  op1(op: string, inputs: OpInput[], attrs: Attrs = {}, domain = ''): Sym {
    return this.op(op, inputs, attrs, 1, domain)[0];
  }

  /** Marks a value as a graph output under the given name (an Identity renames it when needed). */
  output(s: Sym, name?: string): Sym {
    let out = s;
    if (name && name !== s.name) {
      if (this.graph.values.has(name)) throw new Error(`graph already has a value named '${name}'`);
      this.graph.nodes.push({ op: 'Identity', domain: '', name: this.fresh('Identity'), inputs: [s.name], outputs: [name], attrs: {} });
      this.graph.values.set(name, { dtype: s.dtype, shape: [...s.shape] });
      out = new Sym(this, name, s.dtype, s.shape);
    }
    this.graph.outputs.push(out.name);
    return out;
  }
}

/** Names of a node's inputs, an absent optional one as '' (ONNX's convention) but none at the end: a trailing empty
 * input means the same as a shorter list, and onnxruntime's WebGPU Conv crashes on one (docs/webgpu.md). */
function omitTrailingEmpty(names: string[]): string[] {
  let n = names.length;
  while (n > 0 && names[n - 1] === '') n--;
  return n === names.length ? names : names.slice(0, n);
}
