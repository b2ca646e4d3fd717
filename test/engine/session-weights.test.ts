import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/runtime/onnx/random.js';
import { AUTO_SHARE_BYTES, SHARED_WEIGHT_BYTES, Session } from '../../src/runtime/engine/session.js';
import { type HostTensor, tensor } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { toFloat16 } from '../../src/runtime/onnx/float16.js';
import { toModelProto } from '../../src/runtime/onnx/graph-proto.js';
import * as op from '../../src/runtime/onnx/ops/index.js';

const CPU1 = { provider: 'cpu' as const, threads: 1 };

/** y = x @ w + bias, w [n, m] large enough to be shared, bias small enough to be copied. */
function affine(n: number, m: number, seed = 1) {
  const rng = new Rng(seed);
  const w = tensor('float32', [n, m], rng.fillUniform(new Float32Array(n * m), -1, 1));
  const bias = tensor('float32', [m], rng.fillUniform(new Float32Array(m), -1, 1));
  const b = new GraphBuilder();
  b.output(op.add(op.matmul(b.input('x', [2, n]), b.param('w', w)), b.param('bias', bias)), 'y');
  const x = tensor('float32', [2, n], rng.fillUniform(new Float32Array(2 * n), -1, 1));
  const expect = (): number[] => {
    const out: number[] = [];
    for (let r = 0; r < 2; r++)
      for (let j = 0; j < m; j++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += x.data[r * n + k] as number * (w.data[k * m + j] as number);
        out.push(acc + (bias.data[j] as number));
      }
    return out;
  };
  return { graph: b.graph, w, x, expect };
}

function close(got: HostTensor, want: number[], tol = 1e-4): void {
  assert.equal(got.data.length, want.length);
  want.forEach((v, i) => assert.ok(Math.abs((got.data[i] as number) - v) <= tol * (1 + Math.abs(v)), `element ${i}: ${got.data[i]} vs ${v}`));
}

test('a shared session reads the graph\'s weight arrays in place: no copy, callers see only the graph\'s inputs', async () => {
  const { graph, w, x, expect } = affine(128, 160);
  assert.ok(w.data.byteLength >= SHARED_WEIGHT_BYTES);
  const shared = await Session.fromGraph(graph, { ...CPU1, weights: 'shared' });
  const copied = await Session.fromGraph(graph, { ...CPU1, weights: 'copied' });
  assert.deepEqual(shared.sharedWeights, ['w']); // the small bias is copied in
  assert.deepEqual(copied.sharedWeights, []);
  for (const s of [shared, copied]) {
    assert.deepEqual([...s.inputNames], ['x']);
    assert.deepEqual([...s.ort.inputNames], ['x']);
    assert.equal(s.inputInfo('w'), undefined);
    close((await s.run({ x })).y, expect());
  }
  // Running the onnxruntime session directly (as FusedAdamW does) feeds the weights too.
  const direct = await shared.ort.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
  close({ dtype: 'float32', shape: [...direct.y.dims], data: direct.y.data as Float32Array }, expect());

  // The same memory: writing the graph's array changes what the shared session computes; the copy keeps its snapshot.
  const before = expect();
  (w.data as Float32Array).fill(0);
  close((await shared.run({ x })).y, expect());
  close((await copied.run({ x })).y, before);
  await shared.release();
  await copied.release();
});

test('shared and copied weights give the same results through onnxruntime\'s optimizations', async () => {
  const b = new GraphBuilder();
  const rng = new Rng(3);
  const conv = tensor('float32', [64, 32, 3, 3], rng.fillUniform(new Float32Array(64 * 32 * 9), -0.2, 0.2));
  const lin = tensor('float32', [64 * 4 * 4, 64], rng.fillUniform(new Float32Array(1024 * 64), -0.1, 0.1));
  const h = op.conv(b.input('x', [2, 32, 8, 8]), b.param('conv', conv), null, { strides: [2, 2], pads: [1, 1, 1, 1] });
  b.output(op.matmul(op.reshape(op.relu(h), [2, 1024]), b.param('lin', lin)), 'y');
  const x = tensor('float32', [2, 32, 8, 8], rng.fillUniform(new Float32Array(2 * 32 * 64), -1, 1));
  const outs: HostTensor[] = [];
  for (const weights of ['shared', 'copied'] as const) {
    const s = await Session.fromGraph(b.graph, { ...CPU1, weights, optimization: 'all' });
    assert.equal(s.sharedWeights.length, weights === 'shared' ? 2 : 0);
    outs.push((await s.run({ x })).y);
    await s.release();
  }
  close(outs[0], [...outs[1].data as Float32Array], 1e-5);
});

test('half-precision weights are shared as they are (raw 16-bit words)', async () => {
  const { graph, x, expect } = affine(256, 160, 5);
  const g16 = toFloat16(graph);
  const s = await Session.fromGraph(g16, { ...CPU1, weights: 'shared' });
  assert.deepEqual(s.sharedWeights.map((n) => g16.initializers.get(n)!.dtype), ['float16']);
  close((await s.run({ x })).y, expect(), 1e-2);
  await s.release();
});

test('auto shares weights only when they add up to a large model', () => {
  const small = affine(128, 160).graph;
  assert.equal(Session.sharing(small, { provider: 'cpu' }).size, 0);
  assert.deepEqual([...Session.sharing(small, { provider: 'cpu', weights: 'shared' })], ['w']);
  const b = new GraphBuilder();
  const n = AUTO_SHARE_BYTES / 4 / 1024;
  b.output(op.matmul(b.input('x', [1, n]), b.param('big', tensor('float32', [n, 1024]))), 'y');
  assert.deepEqual([...Session.sharing(b.graph, { provider: 'cpu' })], ['big']);
  assert.equal(Session.sharing(b.graph, { provider: 'cpu', weights: 'copied' }).size, 0);
  // An initializer that is also an output, or exposed as an extra output, stays an initializer.
  assert.equal(Session.sharing(b.graph, { provider: 'cpu', weights: 'shared' }, ['big']).size, 0);
});

test('creating a shared session does not grow the process by the weights\' size; a copied one does', async () => {
  const MB = 2 ** 20;
  const n = 4096, m = 8192; // 128 MB of weights
  const w = tensor('float32', [n, m], new Float32Array(n * m).fill(1 / n));
  const b = new GraphBuilder();
  b.output(op.matmul(b.input('x', [1, n]), b.param('w', w)), 'y');
  const x = tensor('float32', [1, n], new Float32Array(n).fill(1));
  const growth = async (weights: 'shared' | 'copied') => {
    const rss0 = process.memoryUsage().rss;
    const s = await Session.fromGraph(b.graph, { ...CPU1, weights });
    const y = (await s.run({ x })).y;
    const grown = (process.memoryUsage().rss - rss0) / MB;
    assert.ok(Math.abs((y.data[0] as number) - 1) < 1e-4);
    await s.release();
    return grown;
  };
  const shared = await growth('shared');
  const copied = await growth('copied');
  assert.ok(shared < 48, `shared session grew the process by ${shared.toFixed(0)} MB`);
  assert.ok(copied > 96, `copied session grew the process by only ${copied.toFixed(0)} MB: the check cannot tell a copy`);
});

test('toModelProto writes chosen initializers as graph inputs, without their data', () => {
  const { graph } = affine(128, 160);
  const m = toModelProto(graph, { asInputs: new Set(['w']) });
  assert.deepEqual(m.graph!.initializer!.map((t) => t.name), ['bias']);
  assert.deepEqual(m.graph!.input!.map((v) => v.name), ['x', 'w']);
  assert.deepEqual(m.graph!.input![1].type!.tensorType!.shape!.dim!.map((d) => d.dimValue), [128, 160]);
});

test('Rng.fillUniform gives the values and leaves the state of drawing them one by one', () => {
  const a = new Rng(42n), c = new Rng(42n);
  const got = a.fillUniform(new Float32Array(1001), -0.25, 0.75);
  const want = new Float32Array(1001);
  for (let i = 0; i < want.length; i++) want[i] = -0.25 + (0.75 - -0.25) * c.uniform();
  assert.deepEqual(got, want);
  assert.equal(a.nextU32(), c.nextU32());
});
