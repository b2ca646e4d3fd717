// Graphs for onnxruntime's WebGPU provider: the ops it has no kernel for are rewritten into ones it has, so that a
// session does not run them on the CPU with a copy from the GPU and back around each (a verbose session log of the
// embedded UNet's training graph showed 180 FusedMatMul and 90 Sum nodes on the CPU and 1414 copies; see
// docs/webgpu.md). The CPU provider keeps the fused forms: its optimizer would fuse them back anyway, and its
// FusedMatMul kernels are what the gradient rules were tuned on.
//   FusedMatMul(A, B; transBatchA/B, transA/B, alpha) -> [Transpose] [Transpose] MatMul [Mul alpha]
//   Sum(x1, ..., xn) -> Add(...Add(x1, x2)..., xn)
import { float32ToFloat16 } from './half.js';
import { tensor } from './tensor.js';
import { type Attrs, attrFloat, attrInt, Graph, type IRNode } from './ir.js';

export function lowerForWebGpu(graph: Graph): Graph {
  if (!graph.nodes.some((n) => (n.op === 'FusedMatMul' && n.domain === 'com.microsoft') || n.op === 'Sum')) return graph;
  const out = new Graph();
  Object.assign(out, {
    ...graph,
    nodes: [],
    values: new Map(graph.values),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    initializers: new Map(graph.initializers),
    constants: new Map(graph.constants),
  });
  let fresh = 0;
  const name = (base: string) => {
    let n: string;
    do n = `${base}/webgpu_${fresh++}`;
    while (out.values.has(n));
    return n;
  };
  const add = (op: string, node: IRNode, inputs: string[], shape: number[], attrs: Attrs = {}, output = name(node.name)): string => {
    out.nodes.push({ op, domain: '', name: name(node.name), inputs, outputs: [output], attrs });
    if (!out.values.has(output)) out.values.set(output, { dtype: out.info(inputs[0]).dtype, shape });
    return output;
  };
  const perm = (n: number, move: 'batch' | 'last2') =>
    move === 'last2' ? [...Array(n - 2).keys(), n - 1, n - 2] : [...Array.from({ length: n - 2 }, (_, i) => i + 1), 0, n - 1];
  const transposed = (node: IRNode, input: string, batch: boolean, last2: boolean): string => {
    let v = input;
    for (const [on, move] of [[batch, 'batch'], [last2, 'last2']] as const) {
      if (!on) continue;
      const s = out.info(v).shape;
      const p = perm(s.length, move);
      v = add('Transpose', node, [v], p.map((i) => s[i]), { perm: { kind: 'ints', v: p } });
    }
    return v;
  };

  for (const node of graph.nodes) {
    if (node.op === 'FusedMatMul' && node.domain === 'com.microsoft') {
      const a = transposed(node, node.inputs[0], attrInt(node, 'transBatchA', 0) === 1, attrInt(node, 'transA', 0) === 1);
      const b = transposed(node, node.inputs[1], attrInt(node, 'transBatchB', 0) === 1, attrInt(node, 'transB', 0) === 1);
      const alpha = attrFloat(node, 'alpha', 1);
      const y = node.outputs[0];
      const shape = out.info(y).shape;
      if (alpha === 1) add('MatMul', node, [a, b], shape, {}, y);
      else {
        // In the graph's float type (float16 after toFloat16).
        const scale = name(`${node.name}/alpha`);
        const dtype = out.info(y).dtype;
        const t = dtype === 'float16' ? tensor('float16', [], Uint16Array.of(float32ToFloat16(alpha))) : tensor('float32', [], Float32Array.of(alpha));
        out.initializers.set(scale, t);
        out.constants.set(scale, t);
        out.values.set(scale, { dtype, shape: [] });
        add('Mul', node, [add('MatMul', node, [a, b], shape), scale], shape, {}, y);
      }
    } else if (node.op === 'Sum') {
      const ins = node.inputs.filter(Boolean);
      const y = node.outputs[0];
      const shape = out.info(y).shape;
      if (ins.length === 1) add('Identity', node, ins, shape, {}, y);
      else {
        let acc = ins[0];
        for (let i = 1; i < ins.length; i++) {
          const last = i === ins.length - 1;
          acc = add('Add', node, [acc, ins[i]], last ? shape : broadcast(out.info(acc).shape, out.info(ins[i]).shape), {}, last ? y : undefined);
        }
      }
    } else out.nodes.push(node);
  }
  return out;
}

/** Numpy broadcasting of two shapes (the graph was checked when built, so they do broadcast). */
function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}
