// The metrics' arithmetic: cosine, DINO's mean over all pairs, references' self-similarity, identifier removal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosine, mean, meanPairwiseCosine, meanStd, removeIdentifier, scoreWithoutIdentifier, selfSimilarity, std } from '../../src/runtime/rewards/metrics.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('cosine: scale-invariant, orthogonal 0, opposite -1, zero vectors 0, length mismatch throws', () => {
  close(cosine([1, 2, 3], [2, 4, 6]), 1);
  close(cosine([1, 0], [0, 5]), 0);
  close(cosine(Float32Array.of(1, 1), Float32Array.of(-2, -2)), -1, 1e-7);
  close(cosine([1, 0], [1, 1]), Math.SQRT1_2);
  assert.equal(cosine([0, 0], [1, 1]), 0);
  assert.throws(() => cosine([1], [1, 2]), /lengths 1 and 2/);
});

test('meanPairwiseCosine averages over every (generated, reference) pair', () => {
  const g = [[1, 0], [0, 1]];
  const r = [[1, 0], [1, 1], [-1, 0]];
  const expected = (1 + Math.SQRT1_2 - 1 + 0 + Math.SQRT1_2 + 0) / 6;
  close(meanPairwiseCosine(g, r), expected);
  close(meanPairwiseCosine([[3, 4]], [[3, 4]]), 1);
  assert.throws(() => meanPairwiseCosine([], r), /both sides/);
});

test('selfSimilarity averages over distinct pairs only', () => {
  close(selfSimilarity([[1, 0], [1, 0], [0, 1]]), (1 + 0 + 0) / 3);
  close(selfSimilarity([[1, 2], [2, 4]]), 1);
  assert.throws(() => selfSimilarity([[1, 0]]), /at least 2/);
});

test('removeIdentifier drops the identifier as a whole word', () => {
  assert.equal(removeIdentifier('a sks star wearing a hat', 'sks'), 'a star wearing a hat');
  assert.equal(removeIdentifier('a phr triangle plushie', 'phr'), 'a triangle plushie');
  assert.equal(removeIdentifier('A SKS star', 'sks'), 'A star');
  assert.equal(removeIdentifier('sks star, sks!', 'sks'), 'star,!');
  assert.equal(removeIdentifier('a sksx star with tasks', 'sks'), 'a sksx star with tasks');
  assert.equal(removeIdentifier('a  star   on the beach', 'zwx'), 'a star on the beach');
  assert.equal(removeIdentifier('a my toy robot', 'my toy'), 'a robot');
  assert.equal(removeIdentifier('a star', ''), 'a star');
});

test('scoreWithoutIdentifier hands the judge the prompts without the identifier, and its scores back unchanged', async () => {
  const seen: string[][] = [];
  const judge = { score: async (_images: ImageBatch, prompts: string[]) => (seen.push(prompts), prompts.map((p) => p.length)) };
  const images = { count: 2 } as ImageBatch;
  const scores = await scoreWithoutIdentifier(judge, 'zwx').score(images, ['a zwx square wearing a hat', 'a square bouncing']);
  assert.deepEqual(seen, [['a square wearing a hat', 'a square bouncing']]);
  assert.deepEqual(scores, ['a square wearing a hat'.length, 'a square bouncing'.length]);
});

test('mean and std (population by default, sample on request)', () => {
  close(mean([1, 2, 3, 4]), 2.5);
  close(std([2, 4, 4, 4, 5, 5, 7, 9]), 2);
  close(std([1, 2, 3, 4], { sample: true }), Math.sqrt(5 / 3));
  assert.deepEqual(meanStd([3, 3]), { mean: 3, std: 0 });
  assert.throws(() => mean([]), /no values/);
  assert.throws(() => std([1], { sample: true }), /at least 2/);
});
