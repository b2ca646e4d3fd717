import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DynamicLossScaler } from '../../src/runtime/engine/optim/loss-scale.js';
import { Session } from '../../src/runtime/engine/session.js';
import { SessionPool } from '../../src/runtime/engine/session-pool.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';

test('the pool creates a session once per key, and forgets failed creations', async () => {
  const b = new GraphBuilder();
  b.output(op.mul(b.input('x', [2]), 3), 'y');
  const pool = new SessionPool();
  let created = 0;
  const make = () => { created++; return Session.fromGraph(b.graph, { provider: 'cpu', threads: 1 }); };
  const [s1, s2] = await Promise.all([pool.get('m', make), pool.get('m', make)]);
  assert.equal(s1, s2);
  assert.equal(created, 1);
  assert.deepEqual([...(await s1.run({ x: { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) } })).y.data], [3, 6]);
  await assert.rejects(pool.get('bad', () => Promise.reject(new Error('corrupt model'))), /corrupt model/);
  await new Promise((r) => setImmediate(r));
  assert.equal(pool.has('bad'), false);
  await pool.releaseAll();
  assert.equal(pool.has('m'), false);
});

test('dynamic loss scaling halves on overflow, unscales clean gradients and grows after a clean run', () => {
  const s = new DynamicLossScaler(8, 2);
  assert.equal(s.unscale(new Map([['w', Float32Array.of(1, Infinity)]])), false);
  assert.equal(s.scale, 4);
  const g = new Map([['w', Float32Array.of(4, 8)]]);
  assert.equal(s.unscale(g), true);
  assert.deepEqual([...g.get('w')!], [1, 2]);
  s.unscale(new Map([['w', Float32Array.of(0)]]));
  assert.equal(s.scale, 8);
});
