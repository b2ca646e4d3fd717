// The decoder passes' detail weights: flat areas weigh 1, a pixel that stands out from its neighbourhood weighs more,
// by its difference from the 3x3 mean (the largest over channels), times the strength.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detailWeights } from '../../scripts/world-training/detail-weights.js';
import { f32 } from '../../src/runtime/onnx/tensor.js';

test('detail weights: 1 on flat images, 1 + strength x |x - 3x3 mean| around a lone bright pixel, the largest channel', () => {
  const [H, W] = [5, 6];
  const x = new Float32Array(2 * 2 * H * W).fill(-0.5);
  // Image 1, channel 1: one pixel at (2, 3) brighter by 1.5; image 0 stays flat.
  x[(1 * 2 + 1) * H * W + 2 * W + 3] = 1;
  const w = detailWeights(f32([2, 2, H, W], x), 4);
  assert.deepEqual(w.shape, [2, 1, H, W]);
  const at = (b: number, i: number, j: number) => (w.data as Float32Array)[b * H * W + i * W + j];
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) assert.equal(at(0, i, j), 1);
  // The pixel itself: 1.5 above a mean that holds 1.5 / 9 of it; a neighbour: 1.5 / 9 below its mean.
  assert.ok(Math.abs(at(1, 2, 3) - (1 + 4 * 1.5 * (8 / 9))) < 1e-5);
  assert.ok(Math.abs(at(1, 1, 2) - (1 + (4 * 1.5) / 9)) < 1e-5);
  // Two away: its neighbourhood does not reach the bright pixel.
  assert.equal(at(1, 0, 0), 1);
  assert.equal(at(1, 2, 5), 1);
});
