import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostTensor } from '../../../src/runtime/onnx/tensor.js';
import { interpolateWeights } from '../../../src/runtime/models/weights/interpolate.js';

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const tuned = new Map([['a.weight', f32([2, 2], [1, 2, 3, 4])], ['a.bias', f32([2], [10, -10])]]);
const base = new Map([['a.weight', f32([2, 2], [5, 2, -1, 0])], ['a.bias', f32([2], [0, 0])]]);

test('interpolateWeights: t = 0 and 1 give the endpoints, 0.25 a quarter of the way, inputs untouched', () => {
  assert.deepEqual([...interpolateWeights(tuned, base, 0).get('a.weight')!.data], [1, 2, 3, 4]);
  assert.deepEqual([...interpolateWeights(tuned, base, 1).get('a.weight')!.data], [5, 2, -1, 0]);
  const q = interpolateWeights(tuned, base, 0.25);
  assert.deepEqual([...q.get('a.weight')!.data], [2, 2, 2, 3]);
  assert.deepEqual([...q.get('a.bias')!.data], [7.5, -7.5]);
  assert.deepEqual(q.get('a.bias')!.shape, [2]);
  assert.deepEqual([...tuned.get('a.weight')!.data], [1, 2, 3, 4]);
});

test('interpolateWeights: `only` picks the tensors to move; the others stay the same objects', () => {
  const out = interpolateWeights(tuned, base, 1, (n) => n.endsWith('.bias'));
  assert.deepEqual([...out.get('a.bias')!.data], [0, 0]);
  assert.equal(out.get('a.weight'), tuned.get('a.weight'));
});

test('interpolateWeights: reads float16 tensors as float32', () => {
  const half: HostTensor = { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0x4000]) }; // 1, 2
  const out = interpolateWeights(new Map([['b', half]]), new Map([['b', f32([2], [3, 4])]]), 0.5).get('b')!;
  assert.equal(out.dtype, 'float32');
  assert.deepEqual([...out.data], [2, 3]);
});

test('interpolateWeights: names, shapes and the factor are checked', () => {
  assert.throws(() => interpolateWeights(tuned, new Map([['a.weight', base.get('a.weight')!]]), 0.5), /differ in names: a\.bias/);
  assert.throws(() => interpolateWeights(tuned, new Map([...base, ['a.bias', f32([1, 2], [0, 0])]]), 0.5), /'a\.bias': shapes \[2\] and \[1,2\]/);
  assert.throws(() => interpolateWeights(tuned, base, Number.NaN), /finite number/);
});
