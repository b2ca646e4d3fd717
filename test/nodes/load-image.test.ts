import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import type { MaskBatch } from '../../src/runtime/engine/image-io.js';
import { LoadImage } from '../../src/nodes/load-image.js';
import { createRegistry } from '../../src/nodes/index.js';
import { fakeContext, makeFolders } from './fake-context.js';
import { halfTransparent, solid, write } from './test-images.js';

test('LoadImage: IMAGE and the inverted alpha as MASK', async () => {
  const f = await makeFolders();
  try {
    await write(path.join(f.input, 'cut.png'), halfTransparent(4, 2, [255, 0, 0]).png());
    const { outputs } = await LoadImage.run({ image: 'cut.png' }, fakeContext(f));
    const [image, mask] = outputs as [ImageBatch, MaskBatch];
    assert.deepEqual([image.count, image.height, image.width, image.channels], [1, 2, 4, 3]);
    assert.deepEqual(Array.from(image.data.subarray(6, 9)), [1, 0, 0]);
    assert.deepEqual([mask.count, mask.height, mask.width], [1, 2, 4]);
    assert.deepEqual(Array.from(mask.data), [1, 1, 0, 0, 1, 1, 0, 0]);
  } finally {
    await f.cleanup();
  }
});

test('LoadImage: an opaque JPEG gives a zero mask; annotated names read other folders', async () => {
  const f = await makeFolders();
  try {
    await write(path.join(f.output, 'result.jpg'), solid(6, 3, [0, 0, 255]).jpeg());
    const { outputs } = await LoadImage.run({ image: 'result.jpg [output]' }, fakeContext(f));
    const [image, mask] = outputs as [ImageBatch, MaskBatch];
    assert.deepEqual([image.width, image.height, mask.width, mask.height], [6, 3, 6, 3]);
    assert.ok(mask.data.every((v) => v === 0));
  } finally {
    await f.cleanup();
  }
});

test('LoadImage: options list the input folder images; validate and isChanged', async () => {
  const f = await makeFolders();
  try {
    await write(path.join(f.input, 'b.webp'), solid(2, 2, [0, 0, 0]).webp());
    await write(path.join(f.input, 'a.png'), solid(2, 2, [0, 0, 0]).png());
    await write(path.join(f.input, 'notes.txt'), 'x');
    await mkdir(path.join(f.input, 'dir.png'));
    const info = createRegistry().objectInfo(f).LoadImage;
    assert.deepEqual(info.input.required.image, [['a.png', 'b.webp'], { tooltip: LoadImage.inputs.image.tooltip, image_upload: true }]);
    assert.equal(LoadImage.validate!({ image: 'a.png' }, f), undefined);
    assert.equal(LoadImage.validate!({ image: 'nope.png' }, f), 'Invalid image file: nope.png');
    assert.equal(LoadImage.validate!({ image: 'dir.png' }, f), 'Invalid image file: dir.png');
    assert.equal(LoadImage.validate!({ image: '../output/x.png' }, f), 'Invalid image file: ../output/x.png');
    const before = LoadImage.isChanged!({ image: 'a.png' }, f);
    await write(path.join(f.input, 'a.png'), solid(20, 20, [9, 9, 9]).png());
    assert.notEqual(LoadImage.isChanged!({ image: 'a.png' }, f), before);
    await assert.rejects(LoadImage.run({ image: 'notes.txt' }, fakeContext(f)), /Cannot read image notes\.txt: not an image/);
  } finally {
    await f.cleanup();
  }
});
