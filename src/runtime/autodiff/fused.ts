// Gradient rules for small subgraphs that differentiate better as a whole than node by node. A matcher looks at the
// node where such a subgraph ends and, when the pattern is there (and its inner values feed nothing outside it),
// names the subgraph's inputs and gives their gradients from the gradient of its output. The inner nodes then get no
// gradient of their own, so backward() skips them: fewer passes over the activations than the chain rule node by
// node (SiLU: 4 instead of 6; GroupNorm: 7 instead of 11). The matchers are in rules/fused-*.ts, listed in
// rules/table.ts.
import type { GraphBuilder, Sym } from '../onnx/builder.js';
import type { Graph, IRNode } from '../onnx/ir.js';

/** Lookups a matcher needs on the forward graph, computed once per backward pass. */
export class GraphIndex {
  private producer = new Map<string, IRNode>();
  private uses = new Map<string, number>();

  constructor(readonly graph: Graph) {
    for (const n of graph.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const i of n.inputs) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    }
    for (const o of graph.outputs) this.uses.set(o, (this.uses.get(o) ?? 0) + 1);
  }

  /** The node producing `name`, when it is `op`. */
  producedBy(name: string, op: string): IRNode | undefined {
    const n = this.producer.get(name);
    return n && n.op === op && n.domain === '' ? n : undefined;
  }

  /** Readers of `name` (graph outputs count as readers). */
  useCount(name: string): number {
    return this.uses.get(name) ?? 0;
  }

  /** A build-time constant whose elements all equal v. */
  isConstantAll(name: string, v: number): boolean {
    const t = this.graph.constants.get(name);
    return !!t && Array.from(t.data as ArrayLike<number>).every((e) => Number(e) === v);
  }
}

export interface FusedMatch {
  /** The subgraph's inputs, whose gradients `grads` gives. */
  inputs: string[];
  /** Gradients of the inputs from the gradient of the matched node's (single) output; only those in `needs`. */
  grads: (b: GraphBuilder, dy: Sym, needs: boolean[]) => (Sym | undefined)[];
}

export type FusedMatcher = (node: IRNode, g: GraphIndex) => FusedMatch | undefined;

/** A fused rules file's export: the op type of the node where the subgraph ends -> its matcher. */
export type FusedRules = Readonly<Record<string, FusedMatcher>>;
