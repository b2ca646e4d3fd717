// Gradient checkpointing as a rewrite of the training graph: the forward pass is cut into segments, only the values
// that cross a cut are kept for the backward pass, and each segment's inner values are recomputed from them when the
// backward pass reaches that segment. Memory for activations drops from all of them to the kept values plus one
// segment's worth, for about one extra forward pass of compute. docs/checkpointing.md explains the choices.
import { GraphBuilder, type Sym } from '../onnx/builder.js';
import type { Graph, IRNode } from '../onnx/ir.js';
import * as op from '../onnx/ops/index.js';
import { BYTES_PER_ELEMENT, type DType, numel } from '../onnx/tensor.js';

export interface CheckpointPlan {
  /** Forward nodes by segment, in graph order. The last segment is not recomputed: its values are fresh anyway. */
  segments: IRNode[][];
  /** Values the backward pass recomputes: produced and consumed inside one segment (not the last). */
  recomputed: Set<string>;
  /** Constants, free inputs and values computed from them alone: read as they are, never kept or recomputed. */
  static: Set<string>;
  /** Estimated bytes of saved values: kept at the cuts, in the largest segment, and all (without checkpointing). */
  estimate: { kept: number; largest: number; none: number };
}

export interface PlanOptions {
  /** Values that cost nothing to keep (graph inputs that are parameters): never kept, never recomputed. */
  free?: (name: string) => boolean;
  /**
   * About this many segments: each at most 1/segments of the saved bytes (the cuts may need one more). Default: the
   * bound with the lowest estimated peak.
   */
  segments?: number;
}

/**
 * Chooses the cuts, given a training graph whose first `forwardCount` nodes are the forward pass. A cut between two
 * forward nodes keeps every value live across it; the segments between cuts are recomputed, so the backward pass holds
 * one segment's saved values at a time (the values its gradient rules read). The estimated peak is (bytes kept at
 * the cuts) + (the largest segment's saved bytes): for each bound B on a segment's saved bytes a dynamic program picks
 * the cuts that keep the fewest bytes (cheap cuts are where the rest of the graph reaches the past through few
 * tensors, e.g. between UNet blocks), and the B with the lowest estimate wins. On a chain of n equal layers that is
 * about sqrt(n) segments of sqrt(n) layers: the sublinear-memory schedule.
 */
export function planCheckpoints(graph: Graph, forwardCount: number, o: PlanOptions = {}): CheckpointPlan {
  const nodes = graph.nodes.slice(0, forwardCount);
  const n = nodes.length;
  const outputs = new Set(graph.outputs); // the loss and what the caller fetches: kept in any case
  const fixed = (v: string) => graph.initializers.has(v) || graph.constants.has(v) || (graph.inputs.includes(v) && !!o.free?.(v));
  // Static values: nothing a step feeds but parameters reaches them (weights, reshaped weights); small, kept as they are.
  const stat = new Set<string>();
  const pos = new Map<string, number>();
  const last = new Map<string, number>();
  for (const v of graph.initializers.keys()) stat.add(v);
  for (const v of graph.inputs) if (fixed(v)) stat.add(v);
  nodes.forEach((node, i) => {
    const isStatic = node.inputs.every((v) => v === '' || stat.has(v));
    for (const v of node.inputs) if (v && pos.has(v) && last.get(v) !== n) last.set(v, i);
    for (const v of node.outputs) {
      if (!v) continue;
      if (isStatic) stat.add(v);
      else {
        pos.set(v, i);
        last.set(v, outputs.has(v) ? n : i);
      }
    }
  });
  // Saved values: forward values the backward pass reads.
  const saved = new Set<string>();
  for (const node of graph.nodes.slice(forwardCount)) for (const v of node.inputs) if (pos.has(v)) saved.add(v);
  const bytes = (v: string) => {
    const info = graph.info(v);
    return numel(info.shape) * BYTES_PER_ELEMENT[info.dtype];
  };
  const prefix = new Float64Array(n + 1);
  nodes.forEach((node, i) => (prefix[i + 1] = prefix[i] + node.outputs.reduce((a, v) => a + (saved.has(v) && pos.get(v) === i ? bytes(v) : 0), 0)));
  const total = prefix[n];

  // crossing[j]: values live across the cut after node j (graph outputs excluded: kept in any case), by producer.
  const crossing: { at: number; bytes: number }[][] = [];
  let live: { v: string; at: number; bytes: number }[] = [];
  for (let j = 0; j < n; j++) {
    for (const v of nodes[j].outputs) if (pos.get(v) === j && last.get(v)! > j && !outputs.has(v)) live.push({ v, at: j, bytes: bytes(v) });
    live = live.filter((x) => last.get(x.v)! > j);
    crossing.push(live.map(({ at, bytes }) => ({ at, bytes })));
  }

  // Cuts after nodes `ends` (the last is n - 1) with segments of at most `bound` bytes, keeping the fewest bytes. A
  // value crossing several chosen cuts is counted at the first: those it crosses are consecutive.
  const solve = (bound: number) => {
    const cost = new Float64Array(n).fill(Infinity);
    const from = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const cross = j === n - 1 ? [] : crossing[j];
      let k = cross.length - 1;
      let acc = 0;
      for (let i = j - 1; i >= -1; i--) {
        while (k >= 0 && cross[k].at > i) acc += cross[k--].bytes;
        const c = (i < 0 ? 0 : cost[i]) + acc;
        if (c < cost[j]) {
          cost[j] = c;
          from[j] = i;
        }
        if (prefix[j + 1] - prefix[i] > bound) break;
      }
    }
    const ends: number[] = [];
    for (let j = n - 1; j >= 0; j = from[j]) ends.unshift(j);
    let largest = 0;
    ends.forEach((e, s) => (largest = Math.max(largest, prefix[e + 1] - prefix[s === 0 ? 0 : ends[s - 1] + 1])));
    return { ends, kept: cost[n - 1], largest };
  };

  let best = { ends: [n - 1], kept: 0, largest: total };
  if (o.segments !== undefined) best = solve(total / o.segments);
  else {
    // Bounds total/k for k up to 2 sqrt(n), in steps of about 1.25x (the optimum is flat).
    for (let k = 2; k <= 2 * Math.sqrt(n); k = Math.max(k + 1, Math.round(k * 1.25))) {
      const s = solve(total / k);
      if (s.kept + s.largest < best.kept + best.largest) best = s;
    }
  }

  const segments = best.ends.map((e, s) => nodes.slice(s === 0 ? 0 : best.ends[s - 1] + 1, e + 1));
  const recomputed = new Set<string>();
  let start = 0;
  for (const e of best.ends.slice(0, -1)) {
    for (let i = start; i <= e; i++) for (const v of nodes[i].outputs) if (pos.get(v) === i && last.get(v)! <= e) recomputed.add(v);
    start = e + 1;
  }
  return { segments, recomputed, static: stat, estimate: { kept: best.kept, largest: best.largest, none: total } };
}

/**
 * Rewrites a finished training graph (forward nodes first, then the backward pass) so that every backward node reading
 * a value the plan recomputes reads a copy instead, built from the kept values just before the first backward node
 * that needs the segment. Works after the fact, so whatever the gradient rules read is covered. Returns the nodes
 * added.
 *
 * Every copy depends on a gradient of the segment through a zero added to the segment's inputs: onnxruntime orders
 * nodes by its own depth-first walk back from the outputs and would otherwise run copies whose inputs are ready right
 * after the forward pass and keep them as long as the originals. The zero also keeps onnxruntime from merging a copy
 * with its original as a common subexpression.
 */
export function recomputeSegments(graph: Graph, forwardCount: number, plan: CheckpointPlan, seed: string): number {
  const rc = plan.recomputed;
  const nodes = graph.nodes;
  const segmentOf = new Map<string, number>();
  plan.segments.forEach((seg, s) => seg.forEach((node) => node.outputs.forEach((v) => v && segmentOf.set(v, s))));
  const producer = graph.producers();
  const index = new Map<IRNode, number>(nodes.map((n, i) => [n, i]));

  // Backward values that depend on the loss gradient (the rest is forward arithmetic the rules do on the side).
  const gradDep = new Set([seed]);
  for (let i = forwardCount; i < nodes.length; i++)
    if (nodes[i].inputs.some((v) => gradDep.has(v))) nodes[i].outputs.forEach((v) => v && gradDep.add(v));

  // Per segment: where its copies go (before its first backward reader), which values, and the gradient to wait for.
  const need = new Map<number, { at: number; values: Set<string>; readers: IRNode[] }>();
  for (let i = forwardCount; i < nodes.length; i++)
    for (const v of nodes[i].inputs) {
      if (!rc.has(v)) continue;
      const s = segmentOf.get(v)!;
      const e = need.get(s) ?? { at: i, values: new Set<string>(), readers: [] };
      e.values.add(v);
      if (e.readers.at(-1) !== nodes[i]) e.readers.push(nodes[i]);
      need.set(s, e);
    }

  // onnxruntime emits a node when its depth-first walk back from the outputs first reaches it, so a parameter's
  // gradient (read by nothing) waits until the walk starts from it, after the whole backward chain, keeping its inputs
  // (copies included) alive until then. So a segment's copies also wait for the parameter gradients that read only
  // later segments' copies: the lowest segment whose copies a value reads decides which gate may wait for it without
  // a cycle (a gate feeds only its own segment's copies).
  const lowest = new Map<string, number>();
  for (let i = forwardCount; i < nodes.length; i++) {
    let l = Infinity;
    for (const v of nodes[i].inputs) l = Math.min(l, rc.has(v) ? segmentOf.get(v)! : lowest.get(v) ?? Infinity);
    for (const v of nodes[i].outputs) if (v) lowest.set(v, l);
  }
  const gatedDesc = [...need.keys()].sort((x, y) => y - x);
  const forced = new Map<number, string[]>();
  for (const g of graph.outputs) {
    const p = producer.get(g);
    const at = p ? index.get(p)! : -1;
    if (at < forwardCount || numel(graph.info(g).shape) === 0) continue;
    // The first gate to run (highest segment) below it whose copies come after it in the node list.
    const s = gatedDesc.find((s) => s < lowest.get(g)! && need.get(s)!.at > at);
    if (s !== undefined) forced.set(s, [...(forced.get(s) ?? []), g]);
  }

  const b = new GraphBuilder(graph);
  const inserts = new Map<number, IRNode[]>();
  const rename = new Map<string, string>();
  // A name prefix of its own: this builder's counter may repeat names the backward pass's builder gave nodes.
  b.scope('recompute', () => {
    for (const [s, e] of need) {
      const waits = [gradientBefore(e, nodes, gradDep, producer, index, forwardCount), ...(forced.get(s) ?? [])];
      const before = nodes.length;
      // The copies: every producer of a needed value within the segment, in forward order.
      const todo = new Set<IRNode>();
      const stack = [...e.values];
      while (stack.length) {
        const p = producer.get(stack.pop()!)!;
        if (todo.has(p)) continue;
        todo.add(p);
        for (const i of p.inputs) if (rc.has(i)) stack.push(i);
      }
      const gate = gateWith(b, waits, plan);
      const copy = new Map<string, string>();
      for (const p of [...todo].sort((x, y) => index.get(x)! - index.get(y)!)) {
        const outputs = p.outputs.map((o) => {
          if (!o) return '';
          const name = freshName(graph, `${o}_rc`);
          graph.values.set(name, { ...graph.info(o), shape: [...graph.info(o).shape] });
          copy.set(o, name);
          return name;
        });
        nodes.push({ ...p, name: `${p.name}_rc`, inputs: p.inputs.map((i) => (rc.has(i) ? copy.get(i)! : gate(i))), outputs });
      }
      for (const v of e.values) rename.set(v, copy.get(v)!);
      inserts.set(e.at, nodes.splice(before));
    }
  });

  // Readers switch to the copies; the copies go in just before their segment's first reader.
  const out: IRNode[] = [];
  let added = 0;
  nodes.forEach((node, i) => {
    const ins = inserts.get(i);
    if (ins) {
      out.push(...ins);
      added += ins.length;
    }
    if (i >= forwardCount) node.inputs = node.inputs.map((v) => rename.get(v) ?? v);
    out.push(node);
  });
  graph.nodes = out;
  return added;
}

/**
 * The gradient a segment's copies wait for: among the gradients its readers take, the last one computed before the
 * first reader (the gradient arriving at the segment); failing that, the last gradient computed before it.
 */
function gradientBefore(e: { at: number; readers: IRNode[] }, nodes: IRNode[], gradDep: Set<string>, producer: Map<string, IRNode>, index: Map<IRNode, number>, forwardCount: number): string {
  let best: string | undefined;
  let bestAt = -1;
  for (const r of e.readers)
    for (const v of r.inputs) {
      const p = producer.get(v);
      const at = p ? index.get(p)! : -1;
      if (gradDep.has(v) && at < e.at && at >= bestAt) [best, bestAt] = [v, at];
    }
  if (best) return best;
  for (let i = e.at - 1; i >= forwardCount; i--) {
    const v = nodes[i].outputs.find((o) => o && gradDep.has(o));
    if (v) return v;
  }
  return [...gradDep][0]; // the seed
}

/** `v` + 0 with the zero computed from one element of each of `waits` (static values pass as they are). */
function gateWith(b: GraphBuilder, waits: string[], plan: CheckpointPlan): (v: string) => string {
  let flag: Sym | undefined;
  const zero = new Map<DType, Sym>();
  const gated = new Map<string, string>();
  return (v) => {
    if (!v || plan.static.has(v)) return v;
    const hit = gated.get(v);
    if (hit) return hit;
    // A NaN test of the sum of one element of each: cheap, and values the backward pass must compute first.
    const first = (w: string) => op.cast(op.slice(op.reshape(b.sym(w), [-1]), [0], [1], [0]), 'float32');
    flag ??= op.reshape(b.op1('IsNaN', [op.sum(waits.map(first))]), []);
    const f = flag;
    const x = b.sym(v);
    let out = v; // other dtypes pass ungated (none in this project's graphs)
    if (x.dtype === 'bool') out = b.op1('Or', [x, b.op1('And', [f, b.op1('Not', [f])])]).name;
    else if (['float32', 'float64', 'int32', 'int64'].includes(x.dtype)) {
      let z = zero.get(x.dtype);
      if (!z) zero.set(x.dtype, (z = b.op1('Mul', [op.cast(f, x.dtype), b.scalar(0, x.dtype)])));
      out = b.op1('Add', [x, z]).name;
    }
    gated.set(v, out);
    return out;
  };
}

function freshName(graph: Graph, base: string): string {
  let name = base;
  for (let k = 1; graph.values.has(name); k++) name = `${base}${k}`;
  return name;
}
