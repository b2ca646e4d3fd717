import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeSafetensors, encodeSafetensors, openSafetensors, writeSafetensors } from '../../src/runtime/engine/safetensors.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmp = (name = 'x') => path.join(dir, `${fileNo++}-${name}.safetensors`);

// One tensor of every dtype, with extreme values, a scalar, an empty tensor and names JS objects like to reorder.
function everyDtype(): Record<string, HostTensor> {
  return {
    f32: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([0, -0, 1.5, -3.25, 3.4e38, 1e-45]) },
    f16: { dtype: 'float16', shape: [4], data: Uint16Array.from([0x3c00, 0x7bff, 0x0001, 0xfc00]) },
    bf16: { dtype: 'bfloat16', shape: [2, 1], data: Uint16Array.from([0x3f80, 0xc049]) },
    f64: { dtype: 'float64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
    i64: { dtype: 'int64', shape: [3], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 42n]) },
    i32: { dtype: 'int32', shape: [2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]) },
    i8: { dtype: 'int8', shape: [3], data: Int8Array.from([-128, 0, 127]) },
    u8: { dtype: 'uint8', shape: [2], data: Uint8Array.from([0, 255]) },
    bool: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    scalar: { dtype: 'float32', shape: [], data: Float32Array.of(7) },
    empty: { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
    '0': { dtype: 'int32', shape: [1], data: Int32Array.of(9) },
    'unet.down_blocks.0.weight': { dtype: 'float16', shape: [1, 1], data: Uint16Array.of(0x4000) },
  };
}

function assertSameTensors(got: Record<string, HostTensor>, want: Record<string, HostTensor>) {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [name, t] of Object.entries(want)) {
    const g = got[name]!;
    assert.equal(g.dtype, t.dtype, name);
    assert.deepEqual(g.shape, t.shape, name);
    assert.equal(g.data.constructor, t.data.constructor, name);
    assert.deepEqual([...g.data], [...t.data], name);
  }
}

test('every dtype round-trips through a file, read tensor by tensor', () => {
  const file = tmp();
  const want = everyDtype();
  const meta = { format: 'pt', note: 'ünïcødé "quoted" \n line' };
  writeSafetensors(file, want, meta);
  const st = openSafetensors(file);
  try {
    assert.deepEqual(st.metadata, meta);
    const got: Record<string, HostTensor> = {};
    for (const name of st.names()) got[name] = st.read(name);
    assertSameTensors(got, want);
    assert.equal(st.has('f32'), true);
    assert.equal(st.has('nope'), false);
  } finally {
    st.close();
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
});

test('every dtype round-trips in memory, and the file and buffer encodings are identical', () => {
  const want = everyDtype();
  const buf = encodeSafetensors(want, { a: 'b' });
  const { tensors, metadata } = decodeSafetensors(buf);
  assertSameTensors(tensors, want);
  assert.deepEqual(metadata, { a: 'b' });
  const file = tmp();
  writeSafetensors(file, want, { a: 'b' });
  assert.ok(fs.readFileSync(file).equals(buf));
  // Works on a Uint8Array view that does not start at offset 0 of its buffer.
  const shifted = new Uint8Array(buf.length + 3);
  shifted.set(buf, 3);
  assertSameTensors(decodeSafetensors(shifted.subarray(3)).tensors, want);
});

test('a single F32 tensor is laid out byte for byte as the format specifies', () => {
  // Format: u64 LE header length N, N bytes of JSON padded with spaces to a multiple of 8, raw LE data.
  const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  assert.equal(json.length, 65); // -> padded with 7 spaces to 72
  const expected = Buffer.concat([
    Buffer.from([72, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from(json + ' '.repeat(7), 'ascii'),
    Buffer.from('00000000' + '0000803f' + '00000040' + '00004040' + '00008040' + '0000a040', 'hex'), // 0..5 as f32 LE
  ]);
  const tensors: Record<string, HostTensor> = { attn0: { dtype: 'float32', shape: [1, 1, 2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) } };
  assert.ok(encodeSafetensors(tensors).equals(expected), encodeSafetensors(tensors).toString('latin1'));
  const file = tmp();
  writeSafetensors(file, tensors);
  assert.ok(fs.readFileSync(file).equals(expected));
  // An empty file: "{}" plus 6 spaces.
  assert.ok(encodeSafetensors({}).equals(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32])));
});

test('layout follows the reference writer: __metadata__ first, tensors by descending dtype alignment then name', () => {
  const tensors: Record<string, HostTensor> = {
    b: { dtype: 'uint8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
    a: { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0x4000]) },
    c: { dtype: 'int64', shape: [1], data: BigInt64Array.of(-2n) },
    '10': { dtype: 'float16', shape: [1], data: Uint16Array.of(0xbc00) },
  };
  const json = '{"__metadata__":{"k":"v"},'
    + '"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},'
    + '"10":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},'
    + '"a":{"dtype":"F16","shape":[2],"data_offsets":[10,14]},'
    + '"b":{"dtype":"U8","shape":[3],"data_offsets":[14,17]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeUInt32LE(padded.length, 0);
  const expected = Buffer.concat([
    len, Buffer.from(padded, 'ascii'),
    Buffer.from('feffffffffffffff' + '00bc' + '003c0040' + '010203', 'hex'),
  ]);
  assert.ok(encodeSafetensors(tensors, { k: 'v' }).equals(expected), encodeSafetensors(tensors, { k: 'v' }).toString('latin1'));
  // The 8-byte tensor starts 8-aligned in the file.
  const file = tmp();
  writeSafetensors(file, tensors, { k: 'v' });
  const st = openSafetensors(file);
  assert.deepEqual(st.names(), ['c', '10', 'a', 'b']);
  assert.equal(st.info('c').byteOffset % 8, 0);
  st.close();
});

test('reads hand-built files the writer would not produce: unpadded header, any key order', () => {
  const json = '{"y":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"__metadata__":{},"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
  const len = Buffer.alloc(8);
  len.writeUInt32LE(json.length, 0);
  const file = tmp();
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), Buffer.from('0100000002000000', 'hex')]));
  const st = openSafetensors(file);
  assert.deepEqual(st.names(), ['x', 'y']);
  assert.deepEqual(st.info('y'), { dtype: 'int32', shape: [1], byteOffset: 8 + json.length + 4, byteLength: 4 });
  assert.deepEqual([...st.read('x').data], [1]);
  assert.deepEqual([...st.read('y').data], [2]);
  st.close();
});

test('info() gives the absolute byte range of each tensor', () => {
  const file = tmp();
  const want = everyDtype();
  writeSafetensors(file, want);
  const bytes = fs.readFileSync(file);
  const st = openSafetensors(file);
  for (const name of st.names()) {
    const { byteOffset, byteLength, dtype, shape } = st.info(name);
    const t = want[name]!;
    assert.equal(dtype, t.dtype);
    assert.deepEqual(shape, t.shape);
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    assert.ok(bytes.subarray(byteOffset, byteOffset + byteLength).equals(raw), name);
  }
  st.close();
});

test('read({as: "float32"}) converts half, bfloat16 and float64', () => {
  const file = tmp();
  writeSafetensors(file, {
    h: { dtype: 'float16', shape: [3], data: Uint16Array.from([0x3c00, 0x7bff, 0xfc00]) },
    b: { dtype: 'bfloat16', shape: [2], data: Uint16Array.from([0x3f80, 0xc049]) },
    d: { dtype: 'float64', shape: [2], data: Float64Array.from([0.1, 1e300]) },
    f: { dtype: 'float32', shape: [1, 1], data: Float32Array.of(2.5) },
    i: { dtype: 'int32', shape: [1], data: Int32Array.of(1) },
  });
  const st = openSafetensors(file);
  const h = st.read('h', { as: 'float32' });
  assert.equal(h.dtype, 'float32');
  assert.deepEqual([...h.data], [1, 65504, -Infinity]);
  assert.deepEqual([...st.read('b', { as: 'float32' }).data], [1, -3.140625]);
  assert.deepEqual([...st.read('d', { as: 'float32' }).data], [Math.fround(0.1), Infinity]);
  assert.deepEqual(st.read('f', { as: 'float32' }), { dtype: 'float32', shape: [1, 1], data: Float32Array.of(2.5) });
  assert.throws(() => st.read('i', { as: 'float32' }), (e: Error) => e.message.includes(file) && e.message.includes('"i"') && /int32/.test(e.message));
  assert.throws(() => st.read('missing'), (e: Error) => e.message.includes(file) && e.message.includes('"missing"'));
  assert.throws(() => st.info('missing'), /no tensor named "missing"/);
  st.close();
  st.close(); // idempotent
  assert.throws(() => st.read('h'), /after close/);
});

test('large multi-tensor files read back exactly, from views into shared buffers', () => {
  const backing = new Float32Array(3_000_001);
  for (let i = 0; i < backing.length; i++) backing[i] = Math.sin(i);
  const tensors: Record<string, HostTensor> = {
    a: { dtype: 'float32', shape: [1000, 1000], data: backing.subarray(1, 1_000_001) },
    b: { dtype: 'float32', shape: [2_000_000], data: backing.subarray(1_000_001) },
  };
  const file = tmp();
  writeSafetensors(file, tensors);
  const st = openSafetensors(file);
  assert.deepEqual(st.read('a').data, backing.slice(1, 1_000_001));
  assert.deepEqual(st.read('b').data, backing.slice(1_000_001));
  st.close();
});

test('writer rejects inconsistent tensors', () => {
  const file = tmp();
  assert.throws(() => writeSafetensors(file, { w: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }), /"w" has 2 elements but shape \[3\] needs 3/);
  assert.throws(() => writeSafetensors(file, { w: { dtype: 'int64', shape: [1], data: new Float64Array(1) } }), /"w" is int64 but its data is a Float64Array/);
  assert.throws(() => writeSafetensors(file, { __metadata__: { dtype: 'uint8', shape: [0], data: new Uint8Array(0) } }), /__metadata__/);
  assert.throws(() => writeSafetensors(file, {}, { n: 1 as unknown as string }), /metadata value "n"/);
  assert.equal(fs.existsSync(file), false);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('overwriting a file replaces it whole', () => {
  const file = tmp();
  writeSafetensors(file, { a: { dtype: 'uint8', shape: [100], data: new Uint8Array(100) } });
  writeSafetensors(file, { b: { dtype: 'uint8', shape: [1], data: Uint8Array.of(5) } });
  const st = openSafetensors(file);
  assert.deepEqual(st.names(), ['b']);
  st.close();
});

// Builds a file from a raw header string and data size, without any of the writer's checks.
function rawFile(header: string, dataBytes: number, declaredLength?: bigint): Buffer {
  const h = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLength ?? BigInt(h.length), 0);
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

const f32 = (name: string, shape: number[], begin: number, end: number) =>
  `"${name}":{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[${begin},${end}]}`;

test('corrupt headers are rejected with the file and tensor named', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['too short', Buffer.from([1, 2, 3]), /too short/],
    ['header past end', rawFile('{}', 0, 1000n), /header length 1000 runs past the end/],
    ['huge header', rawFile('{}', 0, 2n ** 62n), /exceeds the 100000000-byte limit/],
    ['bad JSON', rawFile('{"a":{"dtype":"F32",', 0), /not valid JSON/],
    ['not an object', rawFile('[1, 2]', 0), /does not start with "\{"/],
    ['invalid UTF-8', Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22, 0xff, 0xfe]), /not valid UTF-8/],
    ['unknown dtype', rawFile('{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}', 4), /tensor "w": unknown dtype "F12"/],
    ['bad shape', rawFile('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4), /tensor "w": shape/],
    ['missing offsets', rawFile('{"w":{"dtype":"F32","shape":[1]}}', 4), /tensor "w": data_offsets is not/],
    ['offsets out of range', rawFile(`{${f32('w', [25], 0, 100)}}`, 8), /tensor "w": data_offsets \[0, 100\] run past the end/],
    ['end before begin', rawFile(`{${f32('w', [0], 8, 4)}}`, 8), /tensor "w": data_offsets \[8, 4\] end before begin/],
    ['overlap', rawFile(`{${f32('a', [2], 0, 8)},${f32('b', [2], 4, 12)}}`, 12), /tensor "b": data_offsets \[4, 12\] overlap/],
    ['gap', rawFile(`{${f32('a', [2], 0, 8)},${f32('b', [2], 12, 20)}}`, 20), /tensor "b": data_offsets \[12, 20\] leave a gap after byte 8/],
    ['not from 0', rawFile(`{${f32('a', [2], 4, 12)}}`, 12), /tensor "a": .* leave a gap after byte 0/],
    ['length mismatch', rawFile(`{${f32('w', [3], 0, 8)}}`, 8), /tensor "w": holds 8 bytes but F32 shape \[3\] needs 12/],
    ['trailing bytes', rawFile(`{${f32('w', [2], 0, 8)}}`, 12), /tensors cover 8 bytes but the data section is 12 bytes/],
    ['metadata not strings', rawFile('{"__metadata__":{"n":1}}', 0), /__metadata__ value "n" is not a string/],
  ];
  for (const [what, bytes, pattern] of cases) {
    const file = tmp(what.replace(/ /g, '-'));
    fs.writeFileSync(file, bytes);
    assert.throws(() => openSafetensors(file), (e: Error) => {
      assert.match(e.message, pattern, what);
      assert.ok(e.message.includes(file), `${what}: message names the file: ${e.message}`);
      return true;
    }, what);
    assert.throws(() => decodeSafetensors(bytes, 'mem.safetensors'), (e: Error) => pattern.test(e.message) && e.message.includes('mem.safetensors'), what);
  }
});

test('dtypes we cannot hold still validate; reading them fails clearly', () => {
  const file = tmp();
  fs.writeFileSync(file, rawFile(`{"u":{"dtype":"U16","shape":[2],"data_offsets":[0,4]},${f32('w', [1], 4, 8)}}`, 8));
  const st = openSafetensors(file);
  assert.deepEqual(st.names(), ['u', 'w']);
  assert.deepEqual([...st.read('w').data], [0]);
  assert.throws(() => st.read('u'), /tensor "u" has dtype U16, which this reader does not support/);
  st.close();
});
