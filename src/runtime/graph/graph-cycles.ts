// Cycles in a dependency graph given as upstream(id) -> the ids it reads from: which nodes sit on one (Tarjan's
// strongly connected components, iterative so that long chains cannot overflow the stack), and a shortest cycle
// through a node, for the message that names it.

/** The strongly connected components reachable upstream from `roots` that hold a cycle (two or more nodes, or one
 * that feeds itself), in the order Tarjan's algorithm closes them. */
export function cycleComponents(roots: readonly string[], upstream: (id: string) => readonly string[]): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: Set<string>[] = [];
  let counter = 0;
  for (const root of roots) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const ups = upstream(frame.id);
      if (frame.next < ups.length) {
        const w = ups[frame.next++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ id: w, next: 0 });
        } else if (onStack.has(w)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].id;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.id)!));
      }
      if (low.get(frame.id) === index.get(frame.id)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== frame.id);
        if (scc.length > 1 || upstream(frame.id).includes(frame.id)) found.push(new Set(scc));
      }
    }
  }
  return found;
}

/** A shortest cycle start -> ... -> start in data-flow order (source before consumer), within `members`. */
export function shortestCycleThrough(start: string, members: ReadonlySet<string>, upstream: (id: string) => readonly string[]): string[] {
  // BFS upstream from start until start is reached again.
  const prev = new Map<string, string>();
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi];
    for (const source of upstream(id)) {
      if (!members.has(source)) continue;
      if (source === start) {
        const path = [start];
        for (let x = id; x !== start; x = prev.get(x)!) path.push(x);
        path.push(start);
        // start feeds id, id feeds prev(id), ... back to start: already in data-flow order.
        return path;
      }
      if (!prev.has(source)) {
        prev.set(source, id);
        queue.push(source);
      }
    }
  }
  return [start, start];
}
