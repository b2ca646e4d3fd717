import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { readPngText } from '../../src/runtime/engine/image-io.js';
import type { FileRef } from '../../src/runtime/graph/node-api.js';
import { nextCounter } from '../../src/nodes/common/save-images.js';
import { PreviewImage } from '../../src/nodes/preview-image.js';
import { SaveImage } from '../../src/nodes/save-image.js';
import { fakeContext, makeFolders } from './fake-context.js';
import { write } from './test-images.js';

const batch = (count: number) => imageBatch(count, 2, 3, 3, new Float32Array(count * 18).map((_, i) => (i % 18) / 17));
const prompt = { '5': { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'runs/cat' } } };
const workflow = { last_node_id: 5, nodes: [{ id: 5, type: 'SaveImage', title: 'Résultat' }] };

test('SaveImage: numbering continues after existing files, in a subfolder, prompt and workflow embedded', async () => {
  const f = await makeFolders();
  try {
    const dir = path.join(f.output, 'runs');
    await mkdir(dir);
    await write(path.join(dir, 'cat_00007_.png'), 'old');
    await write(path.join(dir, 'cat_notes.txt'), 'counts as 0');
    await write(path.join(dir, 'dog_00099_.png'), 'another prefix');
    await write(path.join(dir, 'catalog_00050_.png'), 'another prefix');
    const ctx = fakeContext(f, { pngInfo: { prompt, extraPngInfo: { workflow } } });
    const { outputs, ui } = await SaveImage.run({ images: batch(2), filename_prefix: 'runs/cat' }, ctx);
    assert.deepEqual(outputs, []);
    assert.deepEqual(ui, {
      images: [
        { filename: 'cat_00008_.png', subfolder: 'runs', type: 'output' },
        { filename: 'cat_00009_.png', subfolder: 'runs', type: 'output' },
      ],
    });
    const png = await readFile(path.join(dir, 'cat_00009_.png'));
    const text = readPngText(png);
    assert.deepEqual(Object.keys(text), ['prompt', 'workflow']);
    assert.deepEqual(JSON.parse(text.prompt), prompt);
    assert.deepEqual(JSON.parse(text.workflow), workflow);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [3, 2, 3]);
    assert.deepEqual(Array.from(data), Array.from({ length: 18 }, (_, i) => Math.round((i / 17) * 255)));
    // A second run continues from 10; a new nested subfolder starts at 1.
    const again = await SaveImage.run({ images: batch(1), filename_prefix: 'runs/cat' }, ctx);
    assert.equal((again.ui!.images[0] as FileRef).filename, 'cat_00010_.png');
    const nested = await SaveImage.run({ images: batch(1), filename_prefix: 'a/b/instructbooth' }, fakeContext(f));
    assert.deepEqual(nested.ui!.images, [{ filename: 'instructbooth_00001_.png', subfolder: 'a/b', type: 'output' }]);
    assert.deepEqual(readPngText(await readFile(path.join(f.output, 'a', 'b', 'instructbooth_00001_.png'))), {}, 'no pngInfo, no text');
  } finally {
    await f.cleanup();
  }
});

test('SaveImage: %width%/%height% in the prefix, and the plain prefix in the output root', async () => {
  const f = await makeFolders();
  try {
    const r = await SaveImage.run({ images: batch(1), filename_prefix: 'img_%width%x%height%' }, fakeContext(f));
    assert.deepEqual(r.ui!.images, [{ filename: 'img_3x2_00001_.png', subfolder: '', type: 'output' }]);
    assert.deepEqual(await readdir(f.output), ['img_3x2_00001_.png']);
  } finally {
    await f.cleanup();
  }
});

test('SaveImage: refuses prefixes that escape the output folder', async () => {
  const f = await makeFolders();
  try {
    for (const prefix of ['../x', 'a/../../x', '..', 'a/..']) {
      assert.match(SaveImage.validate!({ filename_prefix: prefix }, f)!, /would save outside the output folder/, prefix);
      await assert.rejects(SaveImage.run({ images: batch(1), filename_prefix: prefix }, fakeContext(f)), /would save outside the output folder/);
    }
    assert.match(SaveImage.validate!({ filename_prefix: '/tmp/x' }, f)!, /is an absolute path/);
    assert.match(SaveImage.validate!({ filename_prefix: '' }, f)!, /filename_prefix is empty/);
    assert.equal(SaveImage.validate!({ filename_prefix: 'ok/name' }, f), undefined);
    assert.deepEqual(await readdir(f.root), ['input', 'models', 'output', 'temp'], 'nothing written outside');
  } finally {
    await f.cleanup();
  }
});

test('nextCounter follows ComfyUI: any "<name>_" file counts, non-numeric as 0', () => {
  assert.equal(nextCounter([], 'x'), 1);
  assert.equal(nextCounter(['x_00003_.png', 'x_00012_.png', 'xy_00099_.png'], 'x'), 13);
  assert.equal(nextCounter(['x_final.png'], 'x'), 1);
});

test('PreviewImage: temp folder, random-suffixed prefix, type temp, workflow embedded', async () => {
  const f = await makeFolders();
  try {
    const ctx = fakeContext(f, { pngInfo: { prompt, extraPngInfo: { workflow } } });
    const { ui } = await PreviewImage.run({ images: batch(2) }, ctx);
    const refs = ui!.images as FileRef[];
    assert.equal(refs.length, 2);
    assert.match(refs[0].filename, /^instructbooth_temp_[a-z]{5}_00001_\.png$/);
    assert.equal(refs[1].filename, refs[0].filename.replace('00001', '00002'));
    assert.deepEqual(refs.map((r) => [r.subfolder, r.type]), [['', 'temp'], ['', 'temp']]);
    const text = readPngText(await readFile(path.join(f.temp, refs[0].filename)));
    assert.deepEqual(JSON.parse(text.workflow), workflow);
    assert.deepEqual(JSON.parse(text.prompt), prompt);
    assert.deepEqual(await readdir(f.output), []);
  } finally {
    await f.cleanup();
  }
});
