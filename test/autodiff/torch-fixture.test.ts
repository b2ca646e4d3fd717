// The engine against PyTorch (float64 reference, scripts/torch/make-mini-unet-fixture.py): the mini UNet built with
// the project's graph builder reproduces torch's loss, every parameter gradient, and the parameters after 3 AdamW steps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../../src/runtime/autodiff/trainer.js';
import { AdamW } from '../../src/runtime/engine/optim/adamw.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { WeightsSource } from '../../src/runtime/onnx/params.js';
import { miniUNet } from '../../src/runtime/models/mini-unet.js';
import { readTensors, relErr } from '../fixture-utils.js';
import { webgpuForTests } from '../webgpu-available.js';

const dir = path.join(import.meta.dirname, '../fixtures/mini-unet');
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));

const readAll = (file: string) => readTensors(path.join(dir, file));


export function buildFixtureTrainer(weights: Map<string, HostTensor>, inputs: Map<string, HostTensor>) {
  const b = new GraphBuilder();
  const sample = b.input('sample', inputs.get('sample')!.shape);
  const t = b.input('timestep', inputs.get('timestep')!.shape, 'int64');
  const ctx = b.input('encoder_hidden_states', inputs.get('encoder_hidden_states')!.shape);
  const noise = b.input('noise', inputs.get('noise')!.shape);
  const eps = miniUNet({ b, params: new WeightsSource(weights) }, meta.config, sample, t, ctx);
  const pred = b.output(eps, 'out_sample');
  const diff = op.sub(pred, noise);
  const loss = b.output(op.mean(op.mul(diff, diff)), 'loss');
  return makeTrainingGraph(b.graph, loss.name, { extraOutputs: [pred.name] });
}

/** The first step's loss, output and every parameter gradient against torch's; returns the step. */
async function matchesTorch(trainer: Trainer, feeds: Record<string, HostTensor>, inputs: Map<string, HostTensor>, grads: Map<string, HostTensor>) {
  const first = await trainer.gradients(feeds);
  assert.ok(Math.abs(first.loss - meta.loss) / meta.loss < 1e-5, `loss ${first.loss} vs torch ${meta.loss}`);
  assert.ok(relErr(first.extras.out_sample.data as Float32Array, inputs.get('out_sample')!.data as Float32Array) < 1e-5);
  let worst = ['', 0] as [string, number];
  for (const [name, g] of first.grads) {
    const e = relErr(g, grads.get(name)!.data as Float32Array);
    if (e > worst[1]) worst = [name, e];
  }
  assert.ok(worst[1] <= 1e-4, `worst gradient ${worst[0]}: relative error ${worst[1].toExponential(2)}`);
  return first;
}

test('mini UNet: loss, output and every gradient match PyTorch; 3 AdamW steps match', async () => {
  const weights = readAll('weights.safetensors');
  const inputs = readAll('inputs.safetensors');
  const grads = readAll('grads.safetensors');
  const after3 = readAll('after3.safetensors');
  const tg = buildFixtureTrainer(weights, inputs);
  assert.deepEqual(new Set(tg.params), new Set(weights.keys()), 'the graph has exactly the fixture parameters');

  const opt = new AdamW({ lr: meta.adamw.lr, beta1: meta.adamw.betas[0], beta2: meta.adamw.betas[1], eps: meta.adamw.eps, weightDecay: meta.adamw.weight_decay });
  const trainer = await Trainer.create(tg, opt, { session: { threads: 2 } });
  const feeds = Object.fromEntries(['sample', 'timestep', 'encoder_hidden_states', 'noise'].map((k) => [k, inputs.get(k)!]));

  const first = await matchesTorch(trainer, feeds, inputs, grads);

  const losses = [first.loss];
  await trainer.apply(first.grads);
  for (let s = 1; s < 3; s++) {
    const r = await trainer.step(feeds);
    losses.push(r.loss);
  }
  losses.forEach((l, i) => assert.ok(Math.abs(l - meta.step_losses[i]) / meta.step_losses[i] < 1e-4, `step ${i} loss ${l} vs ${meta.step_losses[i]}`));
  // Adam moves each weight by about lr * sign(gradient) whatever the gradient's size, so where a gradient element is
  // within a few orders of Adam's eps (1e-8; some here are ~1e-8) float32 rounding of the gradient visibly changes
  // the update. So the bound is on the update, in units of one step (lr): elements with |grad| >= 1e-5 within 1% of
  // a step of torch's, the rest within 10%.
  let worstP = ['', 0] as [string, number];
  let worstTiny = ['', 0] as [string, number];
  for (const [name, p] of trainer.params) {
    const ref = after3.get(name)!.data as Float32Array;
    const g = grads.get(name)!.data as Float32Array;
    for (let i = 0; i < p.length; i++) {
      const e = Math.abs(p[i] - ref[i]);
      if (Math.abs(g[i]) >= 1e-5) {
        if (e > worstP[1]) worstP = [name, e];
      } else if (e > worstTiny[1]) worstTiny = [name, e];
    }
  }
  assert.ok(worstP[1] <= 0.01 * meta.adamw.lr, `worst parameter after 3 steps ${worstP[0]}: off by ${worstP[1].toExponential(2)}`);
  assert.ok(worstTiny[1] <= 0.1 * meta.adamw.lr, `worst tiny-gradient parameter ${worstTiny[0]}: off by ${worstTiny[1].toExponential(2)}`);
  await trainer.release();
});

test('mini UNet on the WebGPU provider: loss, output and every gradient match PyTorch', { skip: !webgpuForTests() && 'no WebGPU adapter (see test/webgpu-available.ts)' }, async () => {
  const weights = readAll('weights.safetensors');
  const inputs = readAll('inputs.safetensors');
  const grads = readAll('grads.safetensors');
  const tg = buildFixtureTrainer(weights, inputs);
  const opt = new AdamW({ lr: meta.adamw.lr });
  const trainer = await Trainer.create(tg, opt, { session: { provider: 'webgpu', threads: 2 } });
  try {
    await matchesTorch(trainer, Object.fromEntries(['sample', 'timestep', 'encoder_hidden_states', 'noise'].map((k) => [k, inputs.get(k)!])), inputs, grads);
  } finally {
    await trainer.release();
  }
});
