import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageBatch, type ImageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import {
  augmentImages,
  chooseAugment,
  cropImages,
  flipHorizontal,
  resizeImages,
  resizeShorterSide,
} from '../../src/runtime/training/augment.js';

function photos(count: number, height: number, width: number, channels = 3): ImageBatch {
  const b = imageBatch(count, height, width, channels);
  for (let i = 0; i < b.data.length; i++) b.data[i] = 0.5 + 0.45 * Math.sin(i * 0.61);
  return b;
}

test('augmentation gives resolution-sized squares, the same for the same seed', () => {
  const x = photos(8, 30, 40);
  const a = augmentImages(x, { resolution: 16, randomFlip: true, seed: 7 });
  const b = augmentImages(x, { resolution: 16, randomFlip: true, seed: 7 });
  const c = augmentImages(x, { resolution: 16, randomFlip: true, seed: 8 });
  assert.deepEqual([a.images.count, a.images.height, a.images.width, a.images.channels], [8, 16, 16, 3]);
  assert.deepEqual(a.choices, b.choices);
  assert.deepEqual(a.images.data, b.images.data);
  assert.notDeepEqual(a.choices, c.choices);
  // 30x40 -> 16x21: crops vary along x only, and flips happen both ways.
  assert.ok(a.choices.every((ch) => ch.top === 0 && ch.left >= 0 && ch.left <= 5));
  assert.ok(new Set(a.choices.map((ch) => ch.left)).size > 1);
  assert.ok(a.choices.some((ch) => ch.flip) && a.choices.some((ch) => !ch.flip));
  // Each output is the resized image cropped (and flipped) as its choice says.
  const resized = resizeShorterSide(x, 16);
  assert.deepEqual([resized.height, resized.width], [16, 21]);
  const per = 16 * 16 * 3;
  a.choices.forEach((ch, i) => {
    const one = { ...resized, count: 1, data: resized.data.subarray(i * 16 * 21 * 3, (i + 1) * 16 * 21 * 3) };
    let want = cropImages(one, ch.top, ch.left, 16, 16);
    if (ch.flip) want = flipHorizontal(want);
    assert.deepEqual(a.images.data.subarray(i * per, (i + 1) * per), want.data, `image ${i}`);
  });
  // Portrait RGBA: 4 channels kept, crops along y.
  const p = augmentImages(photos(3, 40, 20, 4), { resolution: 8, seed: 1 });
  assert.deepEqual([p.images.count, p.images.height, p.images.width, p.images.channels], [3, 8, 8, 4]);
  assert.ok(p.choices.every((ch) => ch.left === 0 && ch.top <= 8));
});

test('without random crop or flip: the centre, unmirrored', () => {
  const x = photos(2, 20, 26);
  const r = augmentImages(x, { resolution: 10, randomCrop: false, seed: 3 });
  assert.deepEqual(r.choices, [{ top: 0, left: 1, flip: false }, { top: 0, left: 1, flip: false }]);
  assert.deepEqual(r.images.data, cropImages(resizeShorterSide(x, 10), 0, 1, 10, 10).data);
  // A choice always consumes the same draws, whatever the options.
  const [g1, g2] = [new Rng(5), new Rng(5)];
  chooseAugment(20, 30, { resolution: 10 }, g1);
  chooseAugment(20, 30, { resolution: 10, randomCrop: false, randomFlip: true }, g2);
  assert.equal(g1.uniform(), g2.uniform());
  assert.throws(() => chooseAugment(8, 30, { resolution: 10 }, g1), /smaller than/);
});

test('resize keeps constants constant and ramps monotonic; flip and crop move pixels', () => {
  const flat = imageBatch(1, 17, 23, 3).data.fill(0.3);
  for (const [h, w] of [[8, 11], [40, 50], [17, 23]]) {
    const r = resizeImages(imageBatch(1, 17, 23, 3, flat), h, w);
    assert.deepEqual([r.height, r.width], [h, w]);
    assert.ok(r.data.every((v) => Math.abs(v - 0.3) < 1e-6));
  }
  const ramp = imageBatch(1, 4, 64, 1);
  ramp.data.forEach((_, i) => (ramp.data[i] = (i % 64) / 63));
  for (const w of [16, 100]) {
    const r = resizeImages(ramp, 4, w);
    for (let x = 1; x < w; x++) assert.ok(r.data[x] > r.data[x - 1], `ramp at ${x} of ${w}`);
    assert.ok(r.data[0] >= 0 && r.data[w - 1] <= 1);
  }
  const x = photos(2, 3, 4);
  const f = flipHorizontal(x);
  assert.deepEqual(Array.from(f.data.subarray(0, 3)), Array.from(x.data.subarray(9, 12)), 'first pixel <- last of the row');
  assert.deepEqual(flipHorizontal(f).data, x.data);
  const c = cropImages(x, 1, 2, 2, 2);
  assert.deepEqual(Array.from(c.data.subarray(0, 3)), Array.from(x.data.subarray((1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3)));
  assert.deepEqual(Array.from(c.data.subarray(12, 15)), Array.from(x.data.subarray(18 * 3, 18 * 3 + 3)), 'second image, same window');
  assert.throws(() => cropImages(x, 2, 0, 2, 2), /does not fit/);
});
