import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Session } from '../../src/runtime/engine/session.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { attention, conv2d, groupNorm, linear } from '../../src/runtime/onnx/layers.js';
import { loadModel, saveModel } from '../../src/runtime/onnx/model-file.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../../src/runtime/onnx/params.js';

test('shape errors are raised at build time and name both shapes', () => {
  const b = new GraphBuilder();
  const a = b.input('a', [2, 3]);
  const c = b.input('c', [4, 5]);
  assert.throws(() => op.matmul(a, c), /\[2, 3\] @ \[4, 5\]/);
  assert.throws(() => op.add(a, b.input('d', [3, 2])), /\[2, 3\] and \[3, 2\] do not broadcast/);
  assert.throws(() => op.reshape(a, [4, 2]), /cannot reshape \[2, 3\].*\[4, 2\]/);
  const x = b.input('x', [1, 8, 5, 5]);
  const w = b.param('w', { dtype: 'float32', shape: [4, 3, 3, 3], data: new Float32Array(108) });
  assert.throws(() => op.conv(x, w, null), /input \[1, 8, 5, 5\] has 8 channels, weight \[4, 3, 3, 3\]/);
});

test('inferred shapes match what onnxruntime computes', async () => {
  const b = new GraphBuilder();
  const m = { b, params: new RandomInit(1) };
  const x = b.input('x', [2, 8, 9, 7]);
  const h = conv2d(m, 'c', groupNorm(m, 'gn', x, 4), 6, 3, { stride: 2, padding: 1 });
  const up = op.resize(h, [1, 1, 2, 2]);
  const t = op.reshape(op.transpose(up, [0, 2, 3, 1]), [2, -1, 6]);
  const a = attention(linear(m, 'q', t, 8), linear(m, 'k', t, 8), linear(m, 'v', t, 8), 2);
  const outs = [h, up, t, a, ...op.split(a, [3, 5], -1), op.slice(a, [1, -1], [7, -9], [1, 2], [2, -2])];
  outs.forEach((o, i) => b.output(o, `o${i}`));
  const s = await Session.fromGraph(b.graph);
  const r = await s.run({ x: { dtype: 'float32', shape: [2, 8, 9, 7], data: new Float32Array(2 * 8 * 9 * 7).fill(0.5) } });
  outs.forEach((o, i) => assert.deepEqual(r[`o${i}`].shape, [...o.shape], `output ${i}`));
});

test('models save and load, with weights as external data', async () => {
  const b = new GraphBuilder();
  const x = b.input('x', [3, 16]);
  b.output(linear({ b, params: new RandomInit(2) }, 'fc', x, 32), 'y');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-model-'));
  const feeds = { x: { dtype: 'float32' as const, shape: [3, 16], data: Float32Array.from({ length: 48 }, (_, i) => i / 48) } };
  const want = (await (await Session.fromGraph(b.graph)).run(feeds)).y.data;
  for (const externalData of [false, true]) {
    const file = path.join(dir, `m${externalData}.onnx`);
    const { dataFile } = saveModel(b.graph, file, { externalData });
    assert.equal(!!dataFile && fs.existsSync(dataFile), externalData);
    const g = loadModel(file);
    assert.deepEqual([...g.initializers.get('fc.weight')!.data], [...b.graph.initializers.get('fc.weight')!.data]);
    assert.deepEqual((await (await Session.fromFile(file)).run(feeds)).y.data, want);
    assert.deepEqual((await (await Session.fromGraph(g)).run(feeds)).y.data, want);
  }
  fs.rmSync(path.join(dir, 'mtrue.onnx.data'));
  assert.throws(() => loadModel(path.join(dir, 'mtrue.onnx')), /external data file 'mtrue.onnx.data' is missing/);
});

test('absent optional inputs are empty names, never trailing ones (WebGPU Conv crashes on a trailing empty bias)', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 2, 4, 4]);
  const w = b.input('w', [3, 2, 3, 3]);
  op.conv(x, w, null);
  op.conv(x, w, b.input('bias', [3]));
  const convs = b.graph.nodes.filter((n) => n.op === 'Conv');
  assert.deepEqual(convs.map((n) => n.inputs), [['x', 'w'], ['x', 'w', 'bias']]);
  // One in the middle stays: Resize(X, roi='', scales='', sizes).
  const r = b.op1('Resize', [x, null, null, b.ints([1, 2, 8, 8])], {});
  assert.deepEqual(b.graph.nodes.at(-1)!.inputs.slice(1, 3), ['', '']);
  assert.deepEqual(r.shape, [1, 2, 8, 8]);
});
