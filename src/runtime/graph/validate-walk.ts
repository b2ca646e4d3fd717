// The validation walk over the graph: which nodes the outputs need (each checked once, memoized as ComfyUI's
// validation is), which of them are broken (an error of their own or upstream), who reads from a node, and the
// dependency cycles among them. Iterative and linear in the prompt's size, whatever its shape.
import type { InputError } from './errors.js';
import type { Folders } from './node-api.js';
import { cycleComponents, shortestCycleThrough } from './graph-cycles.js';
import { InputChecker, type NodeCheck } from './validate-inputs.js';
import { cycleText, ref } from './validate-messages.js';
import type { NodeRecord } from './validate-prompt-nodes.js';
import type { CheckedGraph } from './validate-report.js';

/**
 * Work counter: every time validation walks through a node of the graph (taking its links, up or down), `nodeVisits`
 * goes up by one. Tests read it to check that validation stays linear in the prompt's size.
 */
export const validationWork = { nodeVisits: 0 };

export class GraphWalk implements CheckedGraph {
  private memo = new Map<string, NodeCheck>();
  private inputs: InputChecker;

  constructor(private nodes: Map<string, NodeRecord>, folders: Folders) {
    this.inputs = new InputChecker(nodes, folders);
  }

  errorsOf(id: string): InputError[] {
    return this.check(id).errors;
  }

  classOf(id: string): string {
    return this.nodes.get(id)!.cls;
  }

  checked(id: string): NodeCheck | undefined {
    return this.memo.get(id);
  }

  check(id: string): NodeCheck {
    let c = this.memo.get(id);
    if (!c) {
      c = this.inputs.check(this.nodes.get(id)!);
      this.memo.set(id, c);
    }
    return c;
  }

  /**
   * The ids `roots` depend on (themselves included), each checked, in the order found; iterative so long chains
   * cannot overflow. Ids already in `seen` (shared across calls) are neither walked again nor returned.
   */
  upstreamOf(roots: string[], seen = new Set<string>()): string[] {
    const found: string[] = [];
    const stack: string[] = [];
    for (const r of roots)
      if (!seen.has(r)) {
        seen.add(r);
        found.push(r);
        stack.push(r);
      }
    while (stack.length > 0) {
      const id = stack.pop()!;
      validationWork.nodeVisits++;
      for (const u of this.check(id).upstream)
        if (!seen.has(u.source)) {
          seen.add(u.source);
          found.push(u.source);
          stack.push(u.source);
        }
    }
    return found;
  }

  /**
   * The nodes among `ids` (closed upstream, as upstreamOf returns) that have errors or read, directly or through
   * others, from a node that has: one memoized depth-first walk, each node and link taken once. A node on a cycle has
   * a dependency_cycle error itself (markCycles), so reaching a node still on the walk's stack means a broken one.
   */
  brokenNodes(ids: string[]): Set<string> {
    const broken = new Set<string>();
    const done = new Set<string>();
    const onStack = new Set<string>();
    for (const root of ids) {
      if (done.has(root)) continue;
      const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
      onStack.add(root);
      validationWork.nodeVisits++;
      while (work.length > 0) {
        const frame = work[work.length - 1];
        const ups = this.sources(frame.id);
        if (frame.next < ups.length) {
          const u = ups[frame.next++];
          if (done.has(u)) {
            if (broken.has(u)) broken.add(frame.id);
          } else if (onStack.has(u)) broken.add(frame.id);
          else {
            onStack.add(u);
            validationWork.nodeVisits++;
            work.push({ id: u, next: 0 });
          }
          continue;
        }
        work.pop();
        onStack.delete(frame.id);
        done.add(frame.id);
        if (this.check(frame.id).errors.length > 0) broken.add(frame.id);
        if (work.length > 0 && broken.has(frame.id)) broken.add(work[work.length - 1].id);
      }
    }
    return broken;
  }

  private readers?: Map<string, string[]>;
  /** `id` and every node among `within` that reads from it, directly or through others (breadth first). */
  downstreamOf(id: string, within: string[]): string[] {
    if (!this.readers) {
      this.readers = new Map();
      for (const r of within)
        for (const src of new Set(this.sources(r))) {
          const list = this.readers.get(src);
          if (list) list.push(r);
          else this.readers.set(src, [r]);
        }
    }
    const seen = new Set<string>([id]);
    const queue = [id];
    for (let qi = 0; qi < queue.length; qi++) {
      validationWork.nodeVisits++;
      for (const r of this.readers.get(queue[qi]) ?? [])
        if (!seen.has(r)) {
          seen.add(r);
          queue.push(r);
        }
    }
    return queue;
  }

  /** Adds a dependency_cycle error to every node on a cycle among `ids` and their upstream. */
  markCycles(ids: string[]): void {
    for (const members of cycleComponents(ids, this.sources)) this.reportCycle(members);
  }

  private sourceIds = new Map<string, string[]>();
  /** The ids a node reads from (checking it first). */
  private sources = (id: string): string[] => {
    let ids = this.sourceIds.get(id);
    if (!ids) this.sourceIds.set(id, (ids = this.check(id).upstream.map((u) => u.source)));
    return ids;
  };

  private reportCycle(members: Set<string>): void {
    // One shortest cycle per member for small components; a big component shares one cycle (a BFS per member would
    // be quadratic), read from each member's position on it.
    const shared = members.size > 50 ? shortestCycleThrough(members.values().next().value!, members, this.sources) : undefined;
    const len = shared ? shared.length - 1 : 0;
    const position = new Map(shared?.slice(0, -1).map((id, i) => [id, i]));
    // Offsets along the shared cycle to report: all of it, or its first and last 50 steps.
    const offsets = len + 1 > 100 ? [...Array(50).keys(), -1, ...Array.from({ length: 50 }, (_, k) => len - 49 + k)] : [...Array(len + 1).keys()];
    for (const id of members) {
      let cycle: string[];
      if (!shared) cycle = shortestCycleThrough(id, members, this.sources);
      else {
        // Rotated to start at this member when the member is on it.
        const start = position.get(id) ?? 0;
        cycle = offsets.map((j) => (j < 0 ? '...' : shared[(start + j) % len]));
      }
      const length = shared ? shared.length - 1 : cycle.length - 1;
      const n = this.nodes.get(id)!;
      const ups = this.check(id).upstream;
      const via = (cycle[0] === id ? ups.find((u) => u.source === cycle[cycle.length - 2]) : undefined) ?? ups.find((u) => members.has(u.source))!;
      const path = cycleText(cycle, length);
      this.check(id).errors.push({
        type: 'dependency_cycle',
        message: `Dependency cycle: ${ref(n)} input '${via.input}' is fed by node ${via.source}, which needs the result of node ${id} itself (cycle ${path})`,
        details: `${via.input}, cycle ${path}`,
        extra_info: { input_name: via.input, linked_node: [via.source, via.slot], cycle, cycle_length: length },
      });
    }
  }
}
