import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { InterruptedError } from '../../src/runtime/graph/node-api.js';
import { LoadSubjectImages } from '../../src/nodes/load-subject-images.js';
import { fakeContext, makeFolders, type TestFolders } from './fake-context.js';
import { gray, halfTransparent, solid, stripes, write } from './test-images.js';

const centre = (img: ImageBatch, n: number) => {
  const o = ((n * img.height + (img.height >> 1)) * img.width + (img.width >> 1)) * img.channels;
  return Array.from(img.data.subarray(o, o + 3), (v) => Math.round(v * 10) / 10);
};

// subject/: five formats, written out of name order, plus files a folder scan must skip.
async function subjectFolder(f: TestFolders): Promise<string> {
  const dir = path.join(f.input, 'subject');
  await mkdir(dir);
  await write(path.join(dir, 'e_rgba.png'), halfTransparent(40, 40, [0, 0, 0]).png());
  await write(path.join(dir, 'c.webp'), solid(50, 30, [0, 0, 255]).webp({ lossless: true }));
  await write(path.join(dir, 'a.png'), stripes(90, 30, [[255, 0, 0], [0, 255, 0], [0, 0, 255]]).png());
  await write(path.join(dir, 'd_gray.png'), gray(20, 20, 255).png());
  await write(path.join(dir, 'b.jpg'), solid(30, 60, [255, 0, 0]).jpeg({ quality: 100 }));
  await write(path.join(dir, 'captions.txt'), 'a sks cat\n');
  await write(path.join(dir, '.hidden.png'), 'junk');
  return dir;
}

test('loads a folder in name order, resized and centre-cropped, with a count and progress per image', async () => {
  const f = await makeFolders();
  try {
    await subjectFolder(f);
    const ctx = fakeContext(f);
    const { outputs } = await LoadSubjectImages.run({ source: 'subject', resolution: 32 }, ctx);
    const [images, count] = outputs as [ImageBatch, number];
    assert.equal(count, 5);
    assert.deepEqual([images.count, images.height, images.width, images.channels], [5, 32, 32, 3]);
    // a.png's centre square is its green stripe; e_rgba's transparent left half turns white, so its centre column straddles.
    assert.deepEqual(centre(images, 0), [0, 1, 0], 'a.png (centre of red|green|blue)');
    assert.deepEqual(centre(images, 1), [1, 0, 0], 'b.jpg');
    assert.deepEqual(centre(images, 2), [0, 0, 1], 'c.webp');
    assert.deepEqual(centre(images, 3), [1, 1, 1], 'd_gray.png');
    const o = (4 * 32 + 16) * 32 * 3;
    assert.deepEqual(Array.from(images.data.subarray(o, o + 3)), [1, 1, 1], 'transparent pixels become white');
    assert.deepEqual(ctx.calls.progress.map((p) => [p.value, p.max, p.text]), [
      [1, 5, 'a.png'], [2, 5, 'b.jpg'], [3, 5, 'c.webp'], [4, 5, 'd_gray.png'], [5, 5, 'e_rgba.png'],
    ]);
  } finally {
    await f.cleanup();
  }
});

test('a list of files (newlines or commas, relative or absolute inside the folders) keeps the given order', async () => {
  const f = await makeFolders();
  try {
    const dir = await subjectFolder(f);
    await write(path.join(f.output, 'green.png'), solid(10, 10, [0, 255, 0]).png());
    const source = `subject/c.webp\n  ${path.join(f.output, 'green.png')} , subject/b.jpg\n\n`;
    const { outputs } = await LoadSubjectImages.run({ source, resolution: 16 }, fakeContext(f));
    const [images, count] = outputs as [ImageBatch, number];
    assert.equal(count, 3);
    assert.deepEqual([0, 1, 2].map((n) => centre(images, n)), [[0, 0, 1], [0, 1, 0], [1, 0, 0]]);
    // An absolute folder inside the input folder works too.
    const all = await LoadSubjectImages.run({ source: dir, resolution: 8 }, fakeContext(f));
    assert.equal(all.outputs[1], 5);
  } finally {
    await f.cleanup();
  }
});

test('errors name the bad file: corrupt, truncated, not an image, missing', async () => {
  const f = await makeFolders();
  try {
    await subjectFolder(f);
    const png = await solid(64, 64, [1, 2, 3]).png().toBuffer();
    await write(path.join(f.input, 'subject', 'b2_truncated.png'), png.subarray(0, png.length - 30));
    await assert.rejects(LoadSubjectImages.run({ source: 'subject', resolution: 16 }, fakeContext(f)), /Cannot read image subject\/b2_truncated\.png: corrupt or truncated/);
    await write(path.join(f.input, 'garbage.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]));
    await assert.rejects(LoadSubjectImages.run({ source: 'subject/a.png\ngarbage.jpg', resolution: 16 }, fakeContext(f)), /Cannot read image garbage\.jpg:/);
    await assert.rejects(LoadSubjectImages.run({ source: 'subject/captions.txt', resolution: 16 }, fakeContext(f)), /Cannot read image subject\/captions\.txt: not an image/);
    const missing = { source: 'subject/a.png, subject/nope.png', resolution: 16 };
    assert.equal(LoadSubjectImages.validate!(missing, f), 'subject image not found: subject/nope.png');
    await assert.rejects(LoadSubjectImages.run(missing, fakeContext(f)), /subject image not found: subject\/nope\.png/);
  } finally {
    await f.cleanup();
  }
});

test('an empty folder, an empty source, and paths outside the folders are errors', async () => {
  const f = await makeFolders();
  try {
    await mkdir(path.join(f.input, 'empty'));
    await write(path.join(f.input, 'empty', 'readme.txt'), 'no images here');
    assert.equal(LoadSubjectImages.validate!({ source: 'empty', resolution: 512 }, f), 'folder empty has no image files');
    await assert.rejects(LoadSubjectImages.run({ source: 'empty', resolution: 512 }, fakeContext(f)), /folder empty has no image files/);
    assert.match(LoadSubjectImages.validate!({ source: '  ', resolution: 512 }, f)!, /no subject images given/);
    assert.equal(LoadSubjectImages.validate!({ source: '../models', resolution: 512 }, f), '../models is outside the input folder');
    assert.match(LoadSubjectImages.validate!({ source: f.models, resolution: 512 }, f)!, /is outside the input, output and temp folders/);
    await assert.rejects(LoadSubjectImages.run({ source: 'empty', resolution: 7 }, fakeContext(f)), /resolution must be an integer in 8\.\.2048/);
  } finally {
    await f.cleanup();
  }
});

test('isChanged follows names, mtimes and sizes', async () => {
  const f = await makeFolders();
  try {
    await subjectFolder(f);
    const inputs = { source: 'subject', resolution: 512 };
    const before = LoadSubjectImages.isChanged!(inputs, f);
    assert.equal(LoadSubjectImages.isChanged!(inputs, f), before);
    await write(path.join(f.input, 'subject', 'f.png'), solid(4, 4, [0, 0, 0]).png());
    const added = LoadSubjectImages.isChanged!(inputs, f);
    assert.notEqual(added, before);
    await write(path.join(f.input, 'subject', 'f.png'), solid(40, 40, [9, 0, 0]).png());
    assert.notEqual(LoadSubjectImages.isChanged!(inputs, f), added);
  } finally {
    await f.cleanup();
  }
});

test('stops when the run is cancelled', async () => {
  const f = await makeFolders();
  try {
    await subjectFolder(f);
    const ctx = fakeContext(f);
    ctx.abort();
    await assert.rejects(LoadSubjectImages.run({ source: 'subject', resolution: 16 }, ctx), InterruptedError);
  } finally {
    await f.cleanup();
  }
});
