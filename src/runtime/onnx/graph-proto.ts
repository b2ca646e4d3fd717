// Graph <-> ONNX ModelProto.
import type { HostTensor } from './tensor.js';
import { type AttrValue, type Attrs, Graph, type IRNode } from './ir.js';
import { DTYPE_CODES, dtypeOfCode } from './ops/math.js';
import { type IAttributeProto, type INodeProto, type ITensorProto, type IValueInfoProto, type ModelProto, onnx } from './proto.js';
import { fromTensorProto, toNumber, toTensorProto } from './tensor-proto.js';

const AT = onnx.AttributeProto.AttributeType;

function attrToProto(name: string, a: AttrValue): IAttributeProto {
  switch (a.kind) {
    case 'int': return { name, type: AT.INT, i: a.v };
    case 'float': return { name, type: AT.FLOAT, f: a.v };
    case 'ints': return { name, type: AT.INTS, ints: a.v };
    case 'floats': return { name, type: AT.FLOATS, floats: a.v };
    case 'string': return { name, type: AT.STRING, s: new TextEncoder().encode(a.v) };
    case 'tensor': return { name, type: AT.TENSOR, t: toTensorProto('', a.v) };
  }
}

function attrFromProto(p: IAttributeProto): AttrValue | undefined {
  switch (p.type) {
    case AT.INT: return { kind: 'int', v: toNumber(p.i ?? 0) };
    case AT.FLOAT: return { kind: 'float', v: p.f ?? 0 };
    case AT.INTS: return { kind: 'ints', v: (p.ints ?? []).map(toNumber) };
    case AT.FLOATS: return { kind: 'floats', v: [...(p.floats ?? [])] };
    case AT.STRING: return { kind: 'string', v: new TextDecoder().decode(p.s ?? new Uint8Array()) };
    case AT.TENSOR: return { kind: 'tensor', v: fromTensorProto(p.t!) };
    default: return undefined; // graphs and sparse tensors: not used by the models we train
  }
}

function valueInfo(graph: Graph, name: string): IValueInfoProto {
  const t = graph.values.has(name) ? undefined : graph.initializers.get(name);
  const v = t ? { dtype: t.dtype, shape: t.shape } : graph.info(name);
  return {
    name,
    type: { tensorType: { elemType: DTYPE_CODES[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

export interface ToProtoOptions {
  /** Returns a proto for initializers stored elsewhere (external data), or undefined to embed the bytes. */
  initializer?: (name: string, t: HostTensor) => ITensorProto | undefined;
  /** Also record the shapes of intermediate values (value_info). */
  intermediateShapes?: boolean;
  /**
   * Initializers written as graph inputs instead (declared with their dtype and shape, no data): whoever runs the
   * model feeds them, e.g. from the graph's own arrays.
   */
  asInputs?: ReadonlySet<string>;
}

export function toModelProto(graph: Graph, o: ToProtoOptions = {}): ModelProto {
  const nodes: INodeProto[] = graph.nodes.map((n) => ({
    opType: n.op,
    domain: n.domain || undefined,
    name: n.name,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)),
  }));
  const asInputs = o.asInputs ?? new Set<string>();
  const initializer = [...graph.initializers].filter(([name]) => !asInputs.has(name)).map(([name, t]) => o.initializer?.(name, t) ?? toTensorProto(name, t));
  const inputs = [...graph.inputs, ...[...asInputs].filter((n) => graph.initializers.has(n) && !graph.inputs.includes(n))];
  const io = new Set([...graph.inputs, ...graph.outputs]);
  const domains = new Set(graph.nodes.map((n) => n.domain).filter((d) => d));
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'instructbooth',
    opsetImport: [{ domain: '', version: graph.opset }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: graph.name,
      node: nodes,
      initializer,
      input: inputs.map((n) => valueInfo(graph, n)),
      output: graph.outputs.map((n) => valueInfo(graph, n)),
      valueInfo: o.intermediateShapes ? [...graph.values.keys()].filter((n) => !io.has(n) && !graph.initializers.has(n)).map((n) => valueInfo(graph, n)) : [],
    },
  });
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/**
 * Imports a model. Shapes come from the model's value_info where they are static; the rest are filled in by
 * `discoverShapes` (one run exposing every intermediate), which autodiff needs for imported graphs.
 */
export function fromModelProto(model: ModelProto, external?: (location: string, offset: number, length: number) => Uint8Array): Graph {
  const g = new Graph();
  const gp = model.graph;
  if (!gp) throw new Error('ONNX model has no graph');
  g.name = gp.name || 'graph';
  g.opset = Number(model.opsetImport?.find((o) => !o.domain)?.version ?? 17);
  for (const t of gp.initializer ?? []) {
    const ht = fromTensorProto(t, external);
    g.initializers.set(t.name!, ht);
    g.constants.set(t.name!, ht);
    g.values.set(t.name!, { dtype: ht.dtype, shape: ht.shape });
  }
  const addInfo = (vi: IValueInfoProto) => {
    const tt = vi.type?.tensorType;
    if (!tt || !vi.name) return;
    const dims = tt.shape?.dim ?? [];
    const shape = dims.map((d) => (d.dimValue === undefined || d.dimValue === null ? -1 : toNumber(d.dimValue)));
    if (shape.some((d) => d <= 0)) return; // symbolic dimension: left to discoverShapes
    g.values.set(vi.name, { dtype: dtypeOfCode(tt.elemType ?? 1), shape });
  };
  for (const vi of [...(gp.input ?? []), ...(gp.output ?? []), ...(gp.valueInfo ?? [])]) addInfo(vi);
  const inits = new Set(g.initializers.keys());
  g.inputs = (gp.input ?? []).map((v) => v.name!).filter((n) => !inits.has(n));
  g.outputs = (gp.output ?? []).map((v) => v.name!);
  gp.node?.forEach((np, i) => {
    const attrs: Attrs = {};
    for (const a of np.attribute ?? []) {
      const v = attrFromProto(a);
      if (v) attrs[a.name!] = v;
    }
    const node: IRNode = {
      op: np.opType!, domain: np.domain ?? '', name: np.name || `${np.opType}_${i}`, inputs: [...(np.input ?? [])], outputs: [...(np.output ?? [])], attrs,
    };
    if (node.op === 'Constant' && attrs.value?.kind === 'tensor') {
      g.constants.set(node.outputs[0], attrs.value.v);
      g.values.set(node.outputs[0], { dtype: attrs.value.v.dtype, shape: attrs.value.v.shape });
    }
    g.nodes.push(node);
  });
  return g;
}
