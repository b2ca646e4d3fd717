// The editor's pure pieces, in Node: PNG text chunks (how a dropped PNG gives back its workflow), binary preview
// frames, search ranking, seed control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { readPngText } from '../../web/src/png.js';
import { parsePreviewFrame } from '../../web/src/ws.js';
import { searchNodes, type SearchItem } from '../../web/src/node-search.js';
import { nextSeed } from '../../web/src/seed-control.js';
import { encodePng } from './png-encode.js';

const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** Inserts a raw chunk before IEND (CRC left zero: the reader does not check it). */
function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), head, data, Buffer.alloc(4), png.subarray(iend)]);
}

test('PNG text chunks: tEXt, zTXt and iTXt (plain and compressed)', async () => {
  const workflow = JSON.stringify({ nodes: [], links: [], version: 0.4, note: 'ünïcode ✓' });
  let png = encodePng(1, 1, new Uint8Array([1, 2, 3, 255]), { workflow, prompt: '{"1":{}}' });
  png = withChunk(png, 'zTXt', Buffer.concat([Buffer.from('ztext\0\0', 'latin1'), deflateSync(Buffer.from('zipped'))]));
  png = withChunk(png, 'iTXt', Buffer.concat([Buffer.from('itext\0\0\0en\0\0', 'latin1'), Buffer.from('plain ✓')]));
  png = withChunk(png, 'iTXt', Buffer.concat([Buffer.from('izip\0\x01\0\0\0', 'latin1'), deflateSync(Buffer.from('zipped ✓'))]));
  const text = await readPngText(ab(png));
  assert.deepEqual(text, { workflow, prompt: '{"1":{}}', ztext: 'zipped', itext: 'plain ✓', izip: 'zipped ✓' });
  assert.deepEqual(await readPngText(ab(Buffer.from('not a png at all'))), {});
});

test('binary preview frames: type 1 (image type + bytes) and type 4 (metadata + bytes); others ignored', async () => {
  const png = encodePng(1, 1, new Uint8Array([0, 0, 0, 255]));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(1, 0);
  head.writeUInt32BE(2, 4);
  const f1 = parsePreviewFrame(ab(Buffer.concat([head, png])))!;
  assert.equal(f1.mime, 'image/png');
  assert.deepEqual(Buffer.from(await f1.blob.arrayBuffer()), png);
  const jpegHead = Buffer.from(head);
  jpegHead.writeUInt32BE(1, 4);
  assert.equal(parsePreviewFrame(ab(Buffer.concat([jpegHead, png])))!.mime, 'image/jpeg');

  const meta = Buffer.from(JSON.stringify({ node_id: '7', image_type: 'image/png' }));
  const h4 = Buffer.alloc(8);
  h4.writeUInt32BE(4, 0);
  h4.writeUInt32BE(meta.length, 4);
  const f4 = parsePreviewFrame(ab(Buffer.concat([h4, meta, png])))!;
  assert.equal(f4.metadata?.node_id, '7');
  assert.deepEqual(Buffer.from(await f4.blob.arrayBuffer()), png);

  const text = Buffer.alloc(12);
  text.writeUInt32BE(3, 0);
  assert.equal(parsePreviewFrame(ab(text)), undefined);
  assert.equal(parsePreviewFrame(new ArrayBuffer(3)), undefined);
});

test('node search: every word must match; title prefix first; socket-type filters', () => {
  const item = (type: string, title: string, category: string, inputTypes: string[], outputTypes: string[]): SearchItem => ({ type, title, category, description: '', inputTypes, outputTypes });
  const items = [
    item('Sample', 'Sample', 'sampling', ['MODEL'], ['IMAGE']),
    item('KSampler', 'KSampler', 'sampling', ['MODEL', 'LATENT'], ['LATENT']),
    item('SaveImage', 'Save Image', 'image', ['IMAGE'], []),
    item('Reroute', 'Reroute', 'utils', ['*'], ['*']),
  ];
  assert.deepEqual(searchNodes(items, 'sampl').map((i) => i.type), ['Sample', 'KSampler']);
  assert.deepEqual(searchNodes(items, 'save image').map((i) => i.type), ['SaveImage']);
  assert.deepEqual(searchNodes(items, '', { input: 'IMAGE' }).map((i) => i.type), ['Reroute', 'SaveImage']);
  assert.deepEqual(searchNodes(items, 'latent', { output: 'LATENT' }).map((i) => i.type), ['KSampler']);
});

test('seed control after a queued run', () => {
  assert.equal(nextSeed('fixed', 5), 5);
  assert.equal(nextSeed('increment', 5), 6);
  assert.equal(nextSeed('increment', 10, 0, 10), 10);
  assert.equal(nextSeed('decrement', 0, 0), 0);
  for (let i = 0; i < 20; i++) {
    const s = nextSeed('randomize', 5, 3, 9);
    assert.ok(Number.isInteger(s) && s >= 3 && s <= 9, String(s));
  }
});
