import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cycleComponents, shortestCycleThrough } from '../../src/runtime/graph/graph-cycles.js';

/** upstream(id) from a table: id -> the ids it reads from. */
const graph = (edges: Record<string, string[]>) => (id: string) => edges[id] ?? [];

test('cycleComponents: every cycle once, self-loops included, acyclic nodes left out', () => {
  // 1 reads 2, 2 reads 3, 3 reads 1 (a cycle); 4 reads itself; 5 reads 1 (upstream of a cycle, not on it); 6 alone.
  const up = graph({ 1: ['2'], 2: ['3'], 3: ['1'], 4: ['4'], 5: ['1', '4'], 6: [] });
  const found = cycleComponents(['5', '6'], up).map((s) => [...s].sort());
  assert.deepEqual(found.sort(), [['1', '2', '3'], ['4']]);
  assert.deepEqual(cycleComponents(['6'], up), []);
});

test('cycleComponents: a 200000-node chain closed into one cycle does not overflow the stack', () => {
  const n = 200_000;
  const up = (id: string) => [String((Number(id) + 1) % n)];
  const found = cycleComponents(['0'], up);
  assert.equal(found.length, 1);
  assert.equal(found[0].size, n);
});

test('shortestCycleThrough: the shortest of two cycles, in data-flow order', () => {
  // Long way: a reads b, b reads c, c reads d, d reads a. Short way: a also reads e, e reads a.
  const up = graph({ a: ['b', 'e'], b: ['c'], c: ['d'], d: ['a'], e: ['a'] });
  const members = new Set(['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(shortestCycleThrough('a', members, up), ['a', 'e', 'a']);
  // Restricted to the long cycle's members: a feeds d, d feeds c, c feeds b, b feeds a.
  assert.deepEqual(shortestCycleThrough('a', new Set(['a', 'b', 'c', 'd']), up), ['a', 'd', 'c', 'b', 'a']);
  assert.deepEqual(shortestCycleThrough('x', new Set(['x']), graph({ x: ['x'] })), ['x', 'x']);
});
