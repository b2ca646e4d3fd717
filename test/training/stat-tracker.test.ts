// Advantage normalization (ddpo-pytorch's PerPromptStatTracker): batch statistics until a prompt has minCount rewards,
// its own recent rewards after; the buffer rolls; global mode; clipping; state round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatTracker } from '../../src/runtime/training/stat-tracker.js';

const stats = (xs: number[]) => {
  const m = xs.reduce((a, x) => a + x, 0) / xs.length;
  return { m, s: Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length) };
};
const close = (a: number[], b: number[], what: string) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-9, `${what}[${i}]: ${x} vs ${b[i]}`));

test('global mode: (r - mean) / (std + 1e-6) over the batch, population std', () => {
  const t = new StatTracker({ perPrompt: false });
  const r = [1, 2, 4, 7];
  const { m, s } = stats(r);
  close(t.update(['a', 'b', 'a', 'c'], r), r.map((x) => (x - m) / (s + 1e-6)), 'A');
  assert.deepEqual(t.state(), {}, 'global mode buffers nothing');
  // Equal rewards: no signal, no NaN.
  assert.deepEqual(t.update(['a', 'a'], [3, 3]), [0, 0]);
});

test('advantages are clipped to [-clip, clip]', () => {
  // One outlier among 39 equal rewards sits sqrt(39) ~ 6.2 std above the mean.
  const r = [...new Array(39).fill(0), 1];
  const p = r.map(() => 'x');
  const a = new StatTracker({ perPrompt: false }).update(p, r);
  assert.equal(a[39], 5);
  assert.ok(Math.abs(a[0] + 1 / Math.sqrt(39)) < 1e-5);
  assert.equal(new StatTracker({ perPrompt: false, clip: 2 }).update(p, r)[39], 2);
});

test('per prompt: batch statistics below minCount, the prompt buffer from minCount on; the buffer keeps the newest', () => {
  const t = new StatTracker({ bufferSize: 4, minCount: 3 });
  // Epoch 1: 'a' has 2 rewards (< 3), 'b' has 3 (= minCount: its own stats, this batch's rewards included).
  const r1 = [1, 3, 10, 20, 30];
  const p1 = ['a', 'a', 'b', 'b', 'b'];
  const all = stats(r1), b1 = stats([10, 20, 30]);
  close(t.update(p1, r1), [(1 - all.m) / (all.s + 1e-6), (3 - all.m) / (all.s + 1e-6), ...[10, 20, 30].map((x) => (x - b1.m) / (b1.s + 1e-6))], 'epoch 1');
  assert.deepEqual(t.buffer('a'), [1, 3]);
  // Epoch 2: 'a' reaches 3; 'b' overflows its buffer of 4 and keeps the newest.
  const a2 = stats([1, 3, 5]), b2 = stats([20, 30, 40, 50]);
  close(t.update(['a', 'b', 'b'], [5, 40, 50]), [(5 - a2.m) / (a2.s + 1e-6), (40 - b2.m) / (b2.s + 1e-6), (50 - b2.m) / (b2.s + 1e-6)], 'epoch 2');
  assert.deepEqual(t.buffer('b'), [20, 30, 40, 50]);
  // A prompt seen for the first time falls back to its batch.
  const r3 = [0, 1, 5];
  const s3 = stats(r3);
  const a3 = t.update(['new', 'new', 'a'], r3);
  close(a3.slice(0, 2), [(0 - s3.m) / (s3.s + 1e-6), (1 - s3.m) / (s3.s + 1e-6)], 'new prompt');
});

test('state round trip: a restored tracker continues exactly', () => {
  const t = new StatTracker({ bufferSize: 5, minCount: 2 });
  t.update(['a', 'b', 'a'], [0.1, 0.7, 0.35]);
  const copy = new StatTracker({ bufferSize: 5, minCount: 2 });
  copy.load(JSON.parse(JSON.stringify(t.state())));
  const next = [['a', 'b', 'b'], [0.2, 0.9, 0.4]] as const;
  assert.deepEqual(copy.update([...next[0]], [...next[1]]), t.update([...next[0]], [...next[1]]));
  assert.deepEqual(copy.state(), t.state());
});

test('bad settings and inputs are errors', () => {
  assert.throws(() => new StatTracker({ bufferSize: 8, minCount: 16 }), /minCount 16 exceeds bufferSize 8/);
  assert.throws(() => new StatTracker({ bufferSize: 0 }), /bufferSize/);
  assert.throws(() => new StatTracker({ clip: 0 }), /clip/);
  assert.throws(() => new StatTracker().update(['a'], [1, 2]), /1 prompts for 2 rewards/);
  assert.throws(() => new StatTracker().update(['a', 'b'], [1, NaN]), /reward 1 \(prompt 'b'\) is NaN/);
});
