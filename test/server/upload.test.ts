// POST /upload/image: saved where asked, renamed on a clash ("name (1).png"), reused when the bytes are the same;
// traversal, unknown folder types, non-images, decompression bombs and oversized files refused with JSON 4xx.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { tableCrc32 } from '../../src/runtime/engine/image-io.js';
import { type TestServer, getJson, historyOf, postJson, startServer } from './helpers.js';

let t: TestServer;
before(async () => {
  t = await startServer();
});
after(async () => {
  await t.close();
});

const png = (r: number, size = 4) => sharp({ create: { width: size, height: size, channels: 3, background: { r, g: 0, b: 0 } } }).png().toBuffer();

async function upload(url: string, data: Buffer, name: string, fields: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(data)], { type: 'image/png' }), name);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${url}/upload/image`, { method: 'POST', body: form });
  return { status: res.status, body: await res.json() };
}

/** A PNG header claiming a huge canvas, with almost no data: what a decompression bomb looks like to a reader. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(tableCrc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

test('upload, clash renaming, same-bytes reuse, overwrite, subfolders and types; the image can then be used', async () => {
  const red = await png(255);
  const blue = await png(10);
  const green = await png(100);
  assert.deepEqual((await upload(t.url, red, 'cat.png')).body, { name: 'cat.png', subfolder: '', type: 'input' });
  assert.ok(fs.readFileSync(path.join(t.dir, 'input', 'cat.png')).equals(red));
  assert.deepEqual((await upload(t.url, red, 'cat.png')).body.name, 'cat.png', 'same bytes: reused');
  assert.deepEqual((await upload(t.url, blue, 'cat.png')).body.name, 'cat (1).png');
  assert.deepEqual((await upload(t.url, green, 'cat.png')).body.name, 'cat (2).png');
  assert.deepEqual((await upload(t.url, blue, 'cat.png', { overwrite: 'true' })).body.name, 'cat.png');
  assert.ok(fs.readFileSync(path.join(t.dir, 'input', 'cat.png')).equals(blue));
  assert.deepEqual((await upload(t.url, red, 'dog.png', { subfolder: 'pets/dogs' })).body, { name: 'dog.png', subfolder: 'pets/dogs', type: 'input' });
  assert.ok(fs.existsSync(path.join(t.dir, 'input', 'pets', 'dogs', 'dog.png')));
  assert.deepEqual((await upload(t.url, red, 'tmp.png', { type: 'temp' })).body, { name: 'tmp.png', subfolder: '', type: 'temp' });
  assert.ok(fs.existsSync(path.join(t.dir, 'temp', 'tmp.png')));

  const view = await fetch(`${t.url}/view?filename=cat%20(1).png&type=input`);
  assert.ok(Buffer.from(await view.arrayBuffer()).equals(blue));
  const info = (await getJson(`${t.url}/object_info/LoadImage`)).body.LoadImage;
  assert.deepEqual(info.input.required.image[0], ['cat (1).png', 'cat (2).png', 'cat.png']);
  assert.equal(info.input.required.image[1].image_upload, true);

  const res = await postJson(`${t.url}/prompt`, { prompt: { 1: { class_type: 'LoadImage', inputs: { image: 'cat (2).png' } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const entry = await historyOf(t.url, res.body.prompt_id);
  assert.equal(entry.status.status_str, 'success');
});

test('refused: traversal, absolute paths, unknown types, non-images, bombs, missing file field', async () => {
  const red = await png(200);
  const refusals: [Buffer, string, Record<string, string>, string][] = [
    [red, '../evil.png', {}, 'invalid_filename'],
    [red, '..\\evil.png', {}, 'invalid_filename'],
    [red, '/etc/evil.png', {}, 'invalid_filename'],
    [red, 'ok.png', { subfolder: '../..' }, 'invalid_subfolder'],
    [red, 'ok.png', { subfolder: '/tmp' }, 'invalid_subfolder'],
    [red, 'ok.png', { type: 'models' }, 'invalid_folder_type'],
    [red, 'ok.txt', {}, 'invalid_filename'],
    [Buffer.from('just some text, not an image'), 'text.png', {}, 'invalid_image'],
    [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'), 'vector.png', {}, 'invalid_image'],
    [bombPng(30000, 30000), 'bomb.png', {}, 'image_too_large'],
  ];
  for (const [data, name, fields, type] of refusals) {
    const res = await upload(t.url, data, name, fields);
    assert.equal(res.status, 400, `${name} ${JSON.stringify(fields)}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.type, type, `${name} ${JSON.stringify(fields)}: ${JSON.stringify(res.body)}`);
  }
  assert.ok(!fs.existsSync(path.join(t.dir, 'evil.png')));
  assert.ok(!fs.existsSync(path.join(t.dir, 'input', 'bomb.png')));
  assert.ok(!fs.existsSync(path.join(t.dir, 'input', 'text.png')));

  const form = new FormData();
  form.append('type', 'input');
  const none = await fetch(`${t.url}/upload/image`, { method: 'POST', body: form });
  assert.equal(none.status, 400);
  assert.equal((await none.json()).error.type, 'invalid_upload');

  // /view refuses the same ways (400 for names, 403 for subfolders leading out, as ComfyUI).
  for (const [q, status] of [
    ['filename=../secret.png&type=input', 400],
    ['filename=/etc/passwd', 400],
    ['filename=x.png&type=models', 400],
    ['filename=x.png&subfolder=../..', 403],
    ['filename=x.png&subfolder=/etc', 403],
  ] as const) {
    const res = await fetch(`${t.url}/view?${q}`);
    assert.equal(res.status, status, q);
    assert.equal(typeof (await res.json()).error.message, 'string');
  }
  // A symlink inside a folder that leads out of it is not followed.
  fs.symlinkSync('/etc/hostname', path.join(t.dir, 'output', 'link.png'));
  assert.equal((await fetch(`${t.url}/view?filename=link.png`)).status, 403);
});

test('the upload size limit (max_upload_size): 413', async () => {
  const small = await startServer({ maxUploadBytes: 2000 });
  try {
    assert.equal((await getJson(`${small.url}/features`)).body.max_upload_size, 2000);
    // Padding after IEND: the size alone decides.
    const data = Buffer.concat([await png(1, 64), Buffer.alloc(4000)]);
    const res = await upload(small.url, data, 'big.png');
    assert.equal(res.status, 413);
    assert.equal(res.body.error.type, 'payload_too_large');
    // A JSON body over the limit is refused too.
    const json = await postJson(`${small.url}/prompt`, { prompt: { 1: { class_type: 'Picky', inputs: { word: 'x'.repeat(5000) } } } });
    assert.equal(json.status, 413);
  } finally {
    await small.close();
  }
});

test('symlinks leading out of the folder are refused (403), never written through or hashed', async () => {
  const outside = fs.mkdtempSync(path.join(path.dirname(t.dir), 'ib-outside-'));
  try {
    const red = await png(30);
    const secret = Buffer.from('not yours');
    fs.writeFileSync(path.join(outside, 'victim.png'), secret);
    fs.symlinkSync(outside, path.join(t.dir, 'output', 'linkdir'));
    fs.symlinkSync(path.join(outside, 'victim.png'), path.join(t.dir, 'output', 'link-out.png'));
    fs.symlinkSync(path.join(outside, 'made.png'), path.join(t.dir, 'output', 'dangling.png'));
    const refused: [string, Record<string, string>][] = [
      ['cat.png', { type: 'output', subfolder: 'linkdir' }],
      ['cat.png', { type: 'output', subfolder: 'linkdir/deeper' }],
      ['link-out.png', { type: 'output', overwrite: 'true' }],
      ['link-out.png', { type: 'output' }],
      ['dangling.png', { type: 'output', overwrite: 'true' }],
      ['dangling.png', { type: 'output' }],
    ];
    for (const [name, fields] of refused) {
      const res = await upload(t.url, red, name, fields);
      assert.equal(res.status, 403, `${name} ${JSON.stringify(fields)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.type, 'forbidden');
    }
    assert.deepEqual(fs.readdirSync(outside), ['victim.png'], 'nothing written outside');
    assert.ok(fs.readFileSync(path.join(outside, 'victim.png')).equals(secret), 'the file outside is untouched');
    // /view refuses the same paths.
    assert.equal((await fetch(`${t.url}/view?filename=victim.png&subfolder=linkdir`)).status, 403);
    assert.equal((await fetch(`${t.url}/view?filename=link-out.png`)).status, 403);

    // Symlinks that stay inside the folder are followed, as /view follows them.
    fs.mkdirSync(path.join(t.dir, 'output', 'real'));
    fs.symlinkSync(path.join(t.dir, 'output', 'real'), path.join(t.dir, 'output', 'alias'));
    const ok = await upload(t.url, red, 'in.png', { type: 'output', subfolder: 'alias' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { name: 'in.png', subfolder: 'alias', type: 'output' });
    assert.ok(fs.readFileSync(path.join(t.dir, 'output', 'real', 'in.png')).equals(red));
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
  }
});
