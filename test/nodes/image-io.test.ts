import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import {
  DEFAULT_MAX_PIXELS, ImageReadError, asciiJson, decodeImage, decodeImageWithMask, encodeJpeg, encodePng, encodeWebp,
  insertPngText, readPngText, resizeToSquare, tableCrc32,
} from '../../src/runtime/engine/image-io.js';
import { type ImageBatch, imageBatch } from '../../src/runtime/engine/image.js';
import { makeFolders } from './fake-context.js';
import { gray, halfTransparent, solid, stripes, write } from './test-images.js';

const px = (img: ImageBatch, x: number, y: number, n = 0) => {
  const o = ((n * img.height + y) * img.width + x) * img.channels;
  return Array.from(img.data.subarray(o, o + img.channels));
};
const close = (a: number[], b: number[], tol = 0.02) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

test('decodes PNG, JPEG, WebP and grayscale to RGB floats in [0, 1]', async () => {
  const f = await makeFolders();
  try {
    await write(path.join(f.input, 'a.png'), solid(5, 4, [255, 0, 0]).png());
    await write(path.join(f.input, 'b.jpg'), solid(5, 4, [0, 255, 0]).jpeg({ quality: 100 }));
    await write(path.join(f.input, 'c.webp'), solid(5, 4, [0, 0, 255]).webp({ lossless: true }));
    await write(path.join(f.input, 'd.png'), gray(5, 4, 128).png());
    const expect: [string, number[]][] = [['a.png', [1, 0, 0]], ['b.jpg', [0, 1, 0]], ['c.webp', [0, 0, 1]], ['d.png', [128 / 255, 128 / 255, 128 / 255]]];
    for (const [name, rgb] of expect) {
      const img = await decodeImage(path.join(f.input, name));
      assert.deepEqual([img.count, img.height, img.width, img.channels], [1, 4, 5, 3], name);
      assert.ok(close(px(img, 2, 2), rgb, 0.02), `${name}: ${px(img, 2, 2)}`);
      assert.ok(img.data.every((v) => v >= 0 && v <= 1));
    }
    const rgba = await decodeImage(path.join(f.input, 'd.png'), { alpha: true });
    assert.equal(rgba.channels, 4);
    assert.equal(px(rgba, 0, 0)[3], 1, 'an added alpha channel is opaque');
  } finally {
    await f.cleanup();
  }
});

test('resize covers the square and crops the centre', async () => {
  // 300x100: red | green | blue. The centre square is the green third.
  const wide = await stripes(300, 100, [[255, 0, 0], [0, 255, 0], [0, 0, 255]]).png().toBuffer();
  const img = await decodeImage(wide, { size: 64 });
  assert.deepEqual([img.height, img.width], [64, 64]);
  for (const x of [4, 32, 59]) assert.ok(close(px(img, x, 32), [0, 1, 0], 0.05), `x=${x}: ${px(img, x, 32)}`);
  // Tall works the same way, and the ImageBatch version agrees with the decode-time one.
  const tall = await decodeImage(await stripes(100, 300, [[0, 255, 0]]).png().toBuffer());
  const sq = await resizeToSquare(tall, 32);
  assert.deepEqual([sq.count, sq.height, sq.width, sq.channels], [1, 32, 32, 3]);
  assert.ok(close(px(sq, 16, 16), [0, 1, 0]));
});

test('EXIF orientation is applied', async () => {
  const j = await solid(8, 4, [200, 10, 10]).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImage(j);
  assert.deepEqual([img.width, img.height], [4, 8]);
});

test('alpha becomes an inverted mask; opaque images give a zero mask of the image size', async () => {
  const { image, mask, hasAlpha } = await decodeImageWithMask(await halfTransparent(8, 2, [0, 0, 255]).png().toBuffer());
  assert.ok(hasAlpha);
  assert.equal(image.channels, 3);
  assert.deepEqual(Array.from(mask.data.subarray(0, 8)), [1, 1, 1, 1, 0, 0, 0, 0]);
  const opaque = await decodeImageWithMask(await solid(3, 2, [1, 2, 3]).png().toBuffer());
  assert.equal(opaque.hasAlpha, false);
  assert.deepEqual([opaque.mask.count, opaque.mask.height, opaque.mask.width], [1, 2, 3]);
  assert.ok(opaque.mask.data.every((v) => v === 0));
});

test('transparent pixels flatten onto a background when asked', async () => {
  const img = await decodeImage(await halfTransparent(8, 2, [0, 0, 255]).png().toBuffer(), { background: [255, 255, 255] });
  assert.deepEqual(px(img, 0, 0), [1, 1, 1]);
  assert.deepEqual(px(img, 7, 0), [0, 0, 1]);
});

test('every frame of an animated GIF', async () => {
  const a = await solid(8, 6, [255, 0, 0]).png().toBuffer();
  const b = await solid(8, 6, [0, 0, 255]).png().toBuffer();
  const gif = await sharp([a, b], { join: { animated: true } }).gif().toBuffer();
  const all = await decodeImage(gif, { allFrames: true });
  assert.deepEqual([all.count, all.height, all.width], [2, 6, 8]);
  assert.ok(close(px(all, 1, 1, 0), [1, 0, 0], 0.05) && close(px(all, 1, 1, 1), [0, 0, 1], 0.05));
  assert.equal((await decodeImage(gif)).count, 1);
});

test('errors name the file: truncated, corrupt, not an image, missing', async () => {
  const f = await makeFolders();
  try {
    const png = await solid(64, 64, [9, 9, 9]).png().toBuffer();
    const jpg = await stripes(64, 64, [[1, 2, 3], [200, 100, 50]]).jpeg().toBuffer();
    await write(path.join(f.input, 'cut.png'), png.subarray(0, png.length - 20));
    await write(path.join(f.input, 'cut.jpg'), jpg.subarray(0, jpg.length >> 1));
    await write(path.join(f.input, 'notes.txt'), 'not an image\n');
    for (const name of ['cut.png', 'cut.jpg', 'notes.txt', 'missing.png']) {
      await assert.rejects(decodeImage(path.join(f.input, name), { name }), (e: Error) => {
        assert.ok(e instanceof ImageReadError, String(e));
        assert.equal(e.file, name);
        assert.match(e.message, new RegExp(`^Cannot read image ${name.replace('.', '\\.')}: `));
        return true;
      });
    }
  } finally {
    await f.cleanup();
  }
});

test('decompression-bomb guard refuses huge images before decoding', async () => {
  const small = await solid(4, 4, [0, 0, 0]).png().toBuffer();
  await assert.rejects(decodeImage(small, { maxPixels: 15, name: 'tiny.png' }), /tiny\.png: 4x4 is 16 pixels, over the limit of 15/);
  // A PNG whose header claims 100000x100000: the default limit rejects it from the header alone.
  const bomb = Buffer.from(small);
  bomb.writeUInt32BE(100000, 16);
  bomb.writeUInt32BE(100000, 20);
  bomb.writeUInt32BE(tableCrc32(bomb.subarray(12, 29)), 29);
  await assert.rejects(decodeImage(bomb, { name: 'bomb.png' }), new RegExp(`bomb\\.png: 100000x100000 is 10000000000 pixels, over the limit of ${DEFAULT_MAX_PIXELS}`));
});

test('PNG text chunks: inserted after IHDR with valid CRCs, read back, libpng accepts them', async () => {
  const img = imageBatch(1, 2, 3, 3, new Float32Array(18).map((_, i) => i / 17));
  const prompt = { '1': { class_type: 'PromptTemplate', inputs: { class_noun: 'café ☕' } } };
  const png = await encodePng(img, { text: { prompt: asciiJson(prompt), workflow: '{"nodes":[]}', note: 'naïve ☕' } });
  // Chunk order and CRCs.
  const types: string[] = [];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    types.push(png.toString('latin1', off + 4, off + 8));
    const crc = png.readUInt32BE(off + 8 + len);
    assert.equal(crc, tableCrc32(png.subarray(off + 4, off + 8 + len)), `CRC of ${types.at(-1)}`);
    if (typeof zlib.crc32 === 'function') assert.equal(crc, zlib.crc32(png.subarray(off + 4, off + 8 + len)));
    off += 12 + len;
  }
  assert.deepEqual(types.slice(0, 4), ['IHDR', 'tEXt', 'tEXt', 'iTXt']);
  assert.equal(types.at(-1), 'IEND');
  const text = readPngText(png);
  assert.deepEqual(JSON.parse(text.prompt), prompt);
  assert.match(text.prompt, /caf\\u00e9 \\u2615/, 'JSON is ASCII as Python writes it');
  assert.equal(text.workflow, '{"nodes":[]}');
  assert.equal(text.note, 'naïve ☕');
  // Pixels survive and the file still decodes under the strictest setting.
  const back = await sharp(png, { failOn: 'warning' }).raw().toBuffer();
  assert.deepEqual(Array.from(back), Array.from(img.data, (v) => Math.round(v * 255)));
  assert.throws(() => insertPngText(png, { '': 'x' }), /invalid PNG text keyword/);
  assert.throws(() => readPngText(Buffer.from('GIF89a')), /not a PNG/);
});

test('readPngText reads zTXt and compressed iTXt too', async () => {
  const png = await encodePng(imageBatch(1, 1, 1, 3));
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(tableCrc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const z = chunk('zTXt', Buffer.concat([Buffer.from('k1\0\0', 'latin1'), zlib.deflateSync(Buffer.from('v1', 'latin1'))]));
  const i = chunk('iTXt', Buffer.concat([Buffer.from('k2\0\x01\0en\0\0', 'latin1'), zlib.deflateSync(Buffer.from('v2 ☕'))]));
  const withChunks = Buffer.concat([png.subarray(0, 33), z, i, png.subarray(33)]);
  assert.deepEqual(readPngText(withChunks), { k1: 'v1', k2: 'v2 ☕' });
});

test('JPEG and WebP previews', async () => {
  const img = imageBatch(2, 4, 4, 4, new Float32Array(128).fill(0.5));
  assert.equal((await sharp(await encodeJpeg(img, { index: 1 })).metadata()).format, 'jpeg');
  assert.equal((await sharp(await encodeWebp(img)).metadata()).format, 'webp');
  await assert.rejects(encodePng(img, { index: 2 }), /out of range/);
});

test('encoded PNG decodes to the same values (8-bit rounding)', async () => {
  const f = await makeFolders();
  try {
    const img = imageBatch(1, 3, 2, 3, new Float32Array(18).map((_, i) => (i * 37 % 256) / 255));
    const file = path.join(f.output, 'x.png');
    await write(file, await encodePng(img));
    const back = await decodeImage(await readFile(file));
    assert.deepEqual(Array.from(back.data), Array.from(img.data));
  } finally {
    await f.cleanup();
  }
});
