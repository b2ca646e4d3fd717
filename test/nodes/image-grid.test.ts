import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ImageBatch, imageBatch } from '../../src/runtime/engine/image.js';
import { ImageGrid, gridLayout } from '../../src/nodes/image-grid.js';
import { fakeContext, makeFolders } from './fake-context.js';

test('grid layout: auto columns ~ square, padding around and between, columns clamped to the count', () => {
  const g = gridLayout(5, 4, 3, 0, 2);
  assert.deepEqual([g.columns, g.rows, g.width, g.height], [3, 2, 3 * 4 + 4 * 2, 2 * 3 + 3 * 2]);
  assert.deepEqual([0, 2, 3, 4].map((i) => g.origin(i)), [{ x: 2, y: 2 }, { x: 14, y: 2 }, { x: 2, y: 7 }, { x: 8, y: 7 }]);
  for (const [n, cols] of [[1, 1], [4, 2], [9, 3], [10, 4], [16, 4], [17, 5]]) assert.equal(gridLayout(n, 1, 1, 0, 0).columns, cols, `n=${n}`);
  const wide = gridLayout(5, 4, 3, 10, 0);
  assert.deepEqual([wide.columns, wide.rows, wide.width, wide.height], [5, 1, 20, 3]);
  const one = gridLayout(5, 4, 3, 1, 1);
  assert.deepEqual([one.columns, one.rows, one.width, one.height], [1, 5, 6, 5 * 3 + 6]);
});

test('ImageGrid places each image and fills padding with the background gray', async () => {
  const f = await makeFolders();
  try {
    // Image i is filled with (i + 1) / 10.
    const images = imageBatch(5, 3, 4, 3, new Float32Array(5 * 36).map((_, k) => (Math.floor(k / 36) + 1) / 10));
    const { outputs } = await ImageGrid.run({ images, columns: 0, padding: 2, background: 0.5 }, fakeContext(f));
    const [grid] = outputs as [ImageBatch];
    assert.deepEqual([grid.count, grid.height, grid.width, grid.channels], [1, 12, 20, 3]);
    const at = (x: number, y: number) => grid.data[(y * grid.width + x) * 3];
    assert.equal(at(0, 0), 0.5);
    assert.equal(at(1, 1), 0.5);
    assert.equal(Math.fround(at(2, 2)), Math.fround(0.1));
    assert.equal(Math.fround(at(5, 4)), Math.fround(0.1), 'bottom-right pixel of image 0');
    assert.equal(at(6, 2), 0.5, 'padding between columns');
    assert.equal(Math.fround(at(14, 2)), Math.fround(0.3));
    assert.equal(Math.fround(at(8, 7)), Math.fround(0.5), 'image 4 (value 0.5)');
    assert.equal(at(14, 7), 0.5, 'empty last cell is background');
    // The defaults: white padding of 2.
    const def = (await ImageGrid.run({ images, columns: 5, padding: 2, background: 1 }, fakeContext(f))).outputs[0] as ImageBatch;
    assert.deepEqual([def.width, def.height, def.data[0]], [5 * 4 + 6 * 2, 3 + 4, 1]);
  } finally {
    await f.cleanup();
  }
});

test('ImageGrid keeps RGBA and makes the padding opaque', async () => {
  const images = imageBatch(2, 1, 1, 4, new Float32Array([1, 0, 0, 0, 0, 1, 0, 1]));
  const f = await makeFolders();
  const [grid] = (await ImageGrid.run({ images, columns: 0, padding: 1, background: 0 }, fakeContext(f))).outputs as [ImageBatch];
  await f.cleanup();
  assert.deepEqual([grid.width, grid.height, grid.channels], [5, 3, 4]);
  const px = (x: number, y: number) => Array.from(grid.data.subarray((y * 5 + x) * 4, (y * 5 + x) * 4 + 4));
  assert.deepEqual([px(0, 0), px(1, 1), px(3, 1)], [[0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 1]]);
});
