// End to end: a small network built, differentiated and trained on onnxruntime learns a synthetic regression task.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../../src/runtime/autodiff/trainer.js';
import { AdamW } from '../../src/runtime/engine/optim/adamw.js';
import { makeSchedule } from '../../src/runtime/engine/optim/schedule.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { layerNorm, linear, silu } from '../../src/runtime/onnx/layers.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../../src/runtime/onnx/params.js';

test('a 3-layer MLP fits y = sin(3 x0) * x1 + x2^2: loss falls at least 10x', async () => {
  const batch = 64;
  const b = new GraphBuilder();
  const m = { b, params: new RandomInit(3) };
  const x = b.input('x', [batch, 3]);
  const y = b.input('y', [batch, 1]);
  let h = silu(linear(m, 'l1', x, 64));
  h = silu(layerNorm(m, 'n1', linear(m, 'l2', h, 64)));
  const pred = linear(m, 'l3', h, 1);
  const d = op.sub(pred, y);
  const loss = b.output(op.mean(op.mul(d, d)), 'loss');
  const steps = 400;
  const lr = makeSchedule({ kind: 'cosine', baseLr: 1e-2, warmupSteps: 20, totalSteps: steps });
  const trainer = await Trainer.create(makeTrainingGraph(b.graph, loss.name), new AdamW({ lr: 1e-2, weightDecay: 1e-4 }), { maxGradNorm: 1 });

  const rng = new Rng(7);
  const sample = () => {
    const xs = rng.fillUniform(new Float32Array(batch * 3), -1, 1);
    const ys = new Float32Array(batch);
    for (let i = 0; i < batch; i++) ys[i] = Math.sin(3 * xs[3 * i]) * xs[3 * i + 1] + xs[3 * i + 2] ** 2;
    return { x: { dtype: 'float32' as const, shape: [batch, 3], data: xs }, y: { dtype: 'float32' as const, shape: [batch, 1], data: ys } };
  };
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push((await trainer.step(sample(), lr(s))).loss);
  const avg = (a: number[]) => a.reduce((p, c) => p + c, 0) / a.length;
  const start = avg(losses.slice(0, 10)), end = avg(losses.slice(-20));
  assert.ok(start / end >= 10, `loss went from ${start.toFixed(4)} to ${end.toFixed(4)} (${(start / end).toFixed(1)}x)`);
  await trainer.release();
});
