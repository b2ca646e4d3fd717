// Reverse-mode differentiation over a Graph: appends gradient nodes for d(loss)/d(wrt) and returns their names.
import { GraphBuilder, type Sym } from '../onnx/builder.js';
import type { Graph, IRNode } from '../onnx/ir.js';
import * as op from '../onnx/ops/index.js';
import { GraphIndex } from './fused.js';
import { GRAD_RULES, matchFused, NON_DIFFERENTIABLE } from './rules/table.js';

const FLOAT = new Set(['float32', 'float16', 'bfloat16', 'float64']);

export interface BackwardOptions {
  /** Name of a scalar input fed with dL/dL (1 unless scaling the loss); created when absent. */
  seedName?: string;
}

export interface BackwardResult {
  /** wrt name -> gradient value name (zeros when the loss does not depend on it). */
  grads: Map<string, string>;
  seed: string;
}

export function backward(graph: Graph, loss: string, wrt: string[], o: BackwardOptions = {}): BackwardResult {
  const b = new GraphBuilder(graph);
  const lossInfo = graph.info(loss);
  if (lossInfo.shape.length !== 0 && !(lossInfo.shape.length === 1 && lossInfo.shape[0] === 1))
    throw new Error(`loss '${loss}' must be a scalar, its shape is [${lossInfo.shape.join(', ')}]`);
  for (const w of wrt) graph.info(w);

  // Forward pass over the node list (topologically sorted): which values depend on a wrt value.
  const requires = new Set(wrt);
  for (const n of graph.nodes) {
    if (NON_DIFFERENTIABLE.has(n.op) || !n.inputs.some((i) => requires.has(i))) continue;
    for (const out of n.outputs) if (out && FLOAT.has(graph.info(out).dtype)) requires.add(out);
  }
  if (!requires.has(loss)) throw new Error(`loss '${loss}' does not depend on any of: ${wrt.join(', ')}`);

  const seedName = o.seedName ?? 'loss_grad_seed';
  const seed = graph.values.has(seedName) ? b.sym(seedName) : b.input(seedName, [...lossInfo.shape], lossInfo.dtype);
  const pending = new Map<string, Sym[]>([[loss, [seed]]]);
  const take = (name: string): Sym | undefined => {
    const parts = pending.get(name);
    if (!parts) return undefined;
    pending.delete(name);
    // Two parts as Add, which onnxruntime folds into the Conv that made one of them (FusedConv's sum input).
    return parts.length === 2 ? op.add(parts[0], parts[1]) : op.sum(parts);
  };

  const forwardNodes = [...graph.nodes];
  const index = new GraphIndex(graph);
  for (let k = forwardNodes.length - 1; k >= 0; k--) {
    const node = forwardNodes[k];
    if (!node.outputs.some((out) => pending.has(out))) continue;
    const dy = node.outputs.map((out) => (out && requires.has(out) ? take(out) : undefined));
    if (dy.every((d) => d === undefined)) continue;
    const fused = node.outputs.length === 1 ? matchFused(node, index) : undefined;
    const inputs = fused ? fused.inputs : node.inputs;
    const needs = inputs.map((i) => i !== '' && requires.has(i));
    const grads = fused ? b.scope(`grad/${node.name}`, () => fused.grads(b, dy[0]!, needs)) : applyRule(b, node, dy, needs);
    inputs.forEach((name, i) => {
      const g = grads[i];
      if (!needs[i] || !g) return;
      const want = graph.info(name).shape;
      if (g.shape.length !== want.length || g.shape.some((d, j) => d !== want[j]))
        throw new Error(`gradient rule for ${node.op} '${node.name}' gave [${g.shape}] for ${fused ? 'subgraph ' : ''}input ${i} '${name}' of shape [${want}]`);
      const list = pending.get(name) ?? [];
      list.push(g);
      pending.set(name, list);
    });
  }

  const grads = new Map<string, string>();
  for (const w of wrt) {
    const g = take(w);
    if (g) grads.set(w, g.name);
    else {
      const info = graph.info(w);
      grads.set(w, b.constant({ dtype: info.dtype, shape: [...info.shape], data: new Float32Array(info.shape.reduce((a, c) => a * c, 1)) }).name);
    }
  }
  return { grads, seed: seedName };
}

function applyRule(b: GraphBuilder, node: IRNode, dy: (Sym | undefined)[], needs: boolean[]): (Sym | undefined)[] {
  const rule = GRAD_RULES.get(node.op);
  if (!rule) throw new Error(`no gradient rule for op ${node.op} (node '${node.name}')`);
  const g = b.graph;
  return b.scope(`grad/${node.name}`, () =>
    rule({
      b,
      node,
      x: node.inputs.map((i) => (i ? b.sym(i) : undefined)),
      y: node.outputs.map((o) => (o ? b.sym(o) : undefined)),
      dy,
      needs,
      constInts: (i) => {
        const t = g.constants.get(node.inputs[i] ?? '');
        return t ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined;
      },
    }),
  );
}
