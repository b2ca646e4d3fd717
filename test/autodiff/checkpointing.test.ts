// Gradient checkpointing: the same loss and gradients with and without it, a graph that really recomputes (copies
// that wait for the backward pass), and less memory in the order onnxruntime runs the nodes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { planCheckpoints } from '../../src/runtime/autodiff/checkpointing.js';
import { makeTrainingGraph, type TrainingGraph, type TrainingGraphOptions } from '../../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../../src/runtime/autodiff/trainer.js';
import { SGD } from '../../src/runtime/engine/optim/sgd.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { BYTES_PER_ELEMENT, type HostTensor, numel } from '../../src/runtime/onnx/tensor.js';
import { miniUNet } from '../../src/runtime/models/mini-unet.js';
import { unet } from '../../src/runtime/models/unet.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import type { Graph, IRNode } from '../../src/runtime/onnx/ir.js';
import { layerNorm, linear } from '../../src/runtime/onnx/layers.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit } from '../../src/runtime/onnx/params.js';
import { NoiseSchedule, schedulerConfig } from '../../src/runtime/diffusion/schedule.js';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { clipTextTiny } from '../../src/runtime/models/clip-text.js';
import { TINY_UNET, TINY_VAE, type UNetConfig } from '../../src/runtime/models/configs.js';
import { randomSdModel } from '../../src/runtime/models/random-model.js';
import { LORA_TARGETS } from '../../src/runtime/models/sd-pipeline.js';
import { type DdpoLossConfig, ddpoFeeds, ddpoTrainingGraph } from '../../src/runtime/training/ddpo-loss.js';
import { trainDreamBooth } from '../../src/runtime/training/dreambooth.js';
import { relErr } from '../fixture-utils.js';

/** Random tensors, the same on every build of a graph. */
const randoms = (seed: number) => {
  const rng = new Rng(seed);
  return (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(numel(shape))) });
};

/** A residual stack with a long skip, a two-output node, a softmax (its rule reads its output) and an int input. */
function smallGraph(): { graph: Graph; feeds: Record<string, HostTensor> } {
  const f32 = randoms(5);
  const b = new GraphBuilder();
  const m = { b, params: new RandomInit(11) };
  const x = b.input('x', [16, 32]);
  const idx = b.input('idx', [16], 'int64');
  let h = op.add(x, op.gather(b.param('table', f32([10, 32])), idx, 0));
  let skip = h;
  for (let i = 0; i < 12; i++) {
    const [u, v] = op.split(op.tanh(linear(m, `l${i}`, h, 64)), [32, 32], -1);
    h = layerNorm(m, `n${i}`, op.add(h, op.mul(u, op.sigmoid(v))));
    if (i === 3) skip = h;
  }
  const p = op.softmax(op.add(h, skip), -1);
  b.output(op.mean(op.mul(p, p)), 'loss');
  const feeds = { x: f32([16, 32]), idx: { dtype: 'int64' as const, shape: [16], data: BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i % 10)) } };
  return { graph: b.graph, feeds };
}

function miniGraph(): { graph: Graph; feeds: Record<string, HostTensor> } {
  const f32 = randoms(6);
  const b = new GraphBuilder();
  const shape = [2, 4, 16, 16];
  const eps = miniUNet({ b, params: new RandomInit(0) }, { c: 32, temb: 64, ctx: 24, heads: 4, groups: 8 },
    b.input('sample', shape), b.input('timestep', [2], 'int64'), b.input('encoder_hidden_states', [2, 77, 24]));
  const d = op.sub(eps, b.input('noise', shape));
  b.output(op.mean(op.mul(d, d)), 'loss');
  b.output(eps, 'out_sample');
  const feeds = {
    sample: f32(shape), noise: f32(shape), encoder_hidden_states: f32([2, 77, 24]),
    timestep: { dtype: 'int64' as const, shape: [2], data: BigInt64Array.of(30n, 700n) },
  };
  return { graph: b.graph, feeds };
}

/** SD1.5's UNet code at toy widths, attention at the middle level only: deep enough for many segments. */
const DEEP: UNetConfig = {
  ...TINY_UNET, blockOutChannels: [16, 32, 32], attentionHeads: 2, normNumGroups: 8, crossAttentionDim: 16,
  downBlockTypes: ['DownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
};
function deepGraph(): Graph {
  const b = new GraphBuilder();
  const eps = unet({ b, params: new RandomInit(1) }, DEEP, b.input('sample', [2, 4, 32, 32]), b.input('timestep', [2], 'int64'), b.input('encoder_hidden_states', [2, 8, 16]));
  b.output(op.mean(op.mul(eps, eps)), 'loss');
  return b.graph;
}

async function gradients(tg: TrainingGraph, feeds: Record<string, HostTensor>) {
  const trainer = await Trainer.create(tg, new SGD({ lr: 0 }), { session: { threads: 2 } });
  const r = await trainer.gradients(feeds);
  const grads = new Map([...r.grads].map(([k, v]) => [k, v.slice()]));
  await trainer.release();
  return { loss: r.loss, grads, extras: r.extras };
}

async function assertSameGradients(build: () => { graph: Graph; feeds: Record<string, HostTensor> }, o: TrainingGraphOptions, gc: TrainingGraphOptions['gradientCheckpointing']) {
  const plain = build();
  const a = await gradients(makeTrainingGraph(plain.graph, 'loss', o), plain.feeds);
  const again = build();
  const tg = makeTrainingGraph(again.graph, 'loss', { ...o, gradientCheckpointing: gc });
  assert.ok(tg.checkpointing!.plan.segments.length > 1 && tg.checkpointing!.addedNodes > 0, 'the graph recomputes something');
  const b = await gradients(tg, again.feeds);
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-6 * Math.abs(a.loss), `loss ${b.loss} vs ${a.loss}`);
  for (const e of o.extraOutputs ?? []) assert.ok(relErr(b.extras[e].data as Float32Array, a.extras[e].data as Float32Array) <= 1e-6, e);
  assert.equal(b.grads.size, a.grads.size);
  for (const [name, g] of a.grads) {
    const e = relErr(b.grads.get(name)!, g);
    assert.ok(e <= 1e-5, `${name}: relative error ${e.toExponential(2)}`);
  }
  return tg;
}

test('small residual graph: the same loss and gradients with checkpointing (forced to 4 segments)', async () => {
  await assertSameGradients(smallGraph, {}, { segments: 4 });
});

test('mini UNet: the same loss, output and gradients with checkpointing (automatic segments)', async () => {
  await assertSameGradients(miniGraph, { extraOutputs: ['out_sample'] }, true);
});

test('mini UNet, LoRA only: the same gradients with checkpointing', async () => {
  // Only some parameters train: the frozen weights stay initializers, and early layers need no saved values at all.
  await assertSameGradients(miniGraph, { trainable: (n) => n.startsWith('xf.') || n.startsWith('r4.') }, true);
});

test('the rewrite: backward reads copies only, and every copy waits for the loss gradient', () => {
  const { graph } = smallGraph();
  const forwardCount = graph.nodes.length;
  const tg = makeTrainingGraph(graph, 'loss', { gradientCheckpointing: { segments: 4 } });
  const g = tg.graph;
  const { recomputed } = tg.checkpointing!.plan;
  assert.ok(recomputed.size > 20);
  const copies = g.nodes.filter((n) => n.name.endsWith('_rc'));
  assert.ok(copies.length > 0, 'copies of forward nodes');
  // No node outside the forward pass reads a value the plan recomputes: they read the copies.
  const forward = new Set(g.nodes.slice(0, forwardCount));
  for (const n of g.nodes) if (!forward.has(n)) for (const v of n.inputs) assert.ok(!recomputed.has(v), `${n.name} reads ${v}, which should be recomputed`);
  // Every copy depends on the loss gradient's seed: none can run before the backward pass.
  const dependsOnSeed = new Set([tg.seed]);
  for (const n of g.nodes) if (n.inputs.some((v) => dependsOnSeed.has(v))) n.outputs.forEach((v) => dependsOnSeed.add(v));
  for (const c of copies) assert.ok(c.outputs.every((v) => dependsOnSeed.has(v)), `${c.name} does not wait for the backward pass`);
  // The node list stays topologically sorted.
  const ready = new Set([...g.inputs, ...g.initializers.keys()]);
  for (const n of g.nodes) {
    for (const v of n.inputs) assert.ok(!v || ready.has(v), `${n.name} reads ${v} before it is computed`);
    n.outputs.forEach((v) => ready.add(v));
  }
});

test('the planner: about sqrt(n) segments on a chain of n equal layers', () => {
  const chain = () => {
    const b = new GraphBuilder();
    let h = b.input('x', [64, 64]);
    const w = b.param('w', { dtype: 'float32', shape: [64, 64], data: new Float32Array(64 * 64) });
    for (let i = 0; i < 64; i++) h = op.tanh(op.add(h, w)); // Tanh's gradient reads its output: one saved value a layer
    b.output(op.mean(h), 'loss');
    return b.graph;
  };
  const tg = makeTrainingGraph(chain(), 'loss', { gradientCheckpointing: true });
  const { segments, estimate } = tg.checkpointing!.plan;
  assert.ok(segments.length >= 4 && segments.length <= 16, `${segments.length} segments`);
  assert.ok(estimate.kept + estimate.largest < 0.3 * estimate.none, JSON.stringify(estimate));
  // Forcing the count: two halves of 32 layers.
  const g = chain();
  const forwardCount = g.nodes.length;
  const plain = makeTrainingGraph(g, 'loss');
  const two = planCheckpoints(plain.graph, forwardCount, { segments: 2 });
  assert.deepEqual(two.segments.map((s) => s.filter((n) => n.op === 'Tanh').length), [32, 32]);
});

/**
 * onnxruntime's default execution order (GraphViewer: a depth-first walk back from the nodes nothing reads, inputs
 * taken by node index, each node emitted after its inputs), and the most bytes live at once when each value is freed
 * after its last reader in that order.
 */
function peakLiveBytes(g: Graph): number {
  const producer = g.producers();
  const readers = new Set<string>();
  for (const n of g.nodes) for (const v of n.inputs) readers.add(v);
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  const leaves = g.nodes.filter((n) => !n.outputs.some((v) => readers.has(v)));
  const order: IRNode[] = [];
  const visited = new Set<IRNode>();
  const stack: [IRNode, boolean][] = leaves.map((n) => [n, false]);
  while (stack.length) {
    const [n, leave] = stack.pop()!;
    if (leave) { order.push(n); continue; }
    if (visited.has(n)) continue;
    visited.add(n);
    stack.push([n, true]);
    const ins = [...new Set(n.inputs.map((v) => producer.get(v)).filter((p): p is IRNode => !!p))].sort((a, b) => index.get(a)! - index.get(b)!);
    for (const p of ins) if (!visited.has(p)) stack.push([p, false]);
  }
  const lastRead = new Map<string, number>();
  order.forEach((n, k) => n.inputs.forEach((v) => lastRead.set(v, k)));
  for (const v of g.outputs) lastRead.set(v, order.length);
  const delta = new Float64Array(order.length + 2);
  order.forEach((n, k) => n.outputs.forEach((v) => {
    if (!v) return;
    const info = g.info(v);
    const size = numel(info.shape) * BYTES_PER_ELEMENT[info.dtype];
    delta[k] += size;
    delta[(lastRead.get(v) ?? k) + 1] -= size;
  }));
  let live = 0, peak = 0;
  for (const d of delta) peak = Math.max(peak, (live += d));
  return peak;
}

test('in the order onnxruntime runs it, a deep UNet holds less than half the bytes with checkpointing', () => {
  const plain = peakLiveBytes(makeTrainingGraph(deepGraph(), 'loss').graph);
  const tg = makeTrainingGraph(deepGraph(), 'loss', { gradientCheckpointing: true });
  const ck = peakLiveBytes(tg.graph);
  assert.ok(tg.checkpointing!.plan.segments.length >= 4);
  assert.ok(ck < 0.5 * plain, `peak ${(ck / 2 ** 20).toFixed(1)} MB with checkpointing, ${(plain / 2 ** 20).toFixed(1)} MB without`);
});

// The training functions: the option reaches the graph and changes nothing else.
const tokenizer = ClipTokenizer.fromFolder(path.join(import.meta.dirname, '../fixtures/clip-tiny/tokenizer'));
const text = clipTextTiny(tokenizer.vocabSize);
const micro = randomSdModel({
  unet: {
    ...TINY_UNET, blockOutChannels: [8, 16], layersPerBlock: 1, attentionHeads: 2, crossAttentionDim: text.width,
    downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'],
  },
  vae: TINY_VAE, text, tokenizer, resolution: 16, seed: 3,
});

test('DreamBooth: the same losses and weights with gradient checkpointing, and a run resumes across the switch', async () => {
  const images = imageBatch(2, 16, 16, 3);
  images.data.forEach((_, i) => (images.data[i] = 0.5 + 0.4 * Math.sin(i * 0.37)));
  const o = { instancePrompt: 'a sks dog', instanceImages: images, steps: 3, lr: 3e-3, sessionOptions: { threads: 1 } };
  const off = await trainDreamBooth(micro, o);
  const on = await trainDreamBooth(micro, { ...o, gradientCheckpointing: true });
  on.losses.forEach((l, i) => assert.ok(Math.abs(l - off.losses[i]) <= 1e-5 * off.losses[i], `step ${i + 1}: ${l} vs ${off.losses[i]}`));
  let worst = 0;
  for (const [k, t] of off.unetWeights!) worst = Math.max(worst, relErr(on.unetWeights!.get(k)!.data as Float32Array, t.data as Float32Array));
  assert.ok(worst <= 1e-5, `weights differ by ${worst}`);
  // The option is not part of the checkpoint's fingerprint: a run checkpointed without it resumes with it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-checkpointing-'));
  try {
    await trainDreamBooth(micro, { ...o, steps: 2, checkpointDir: dir });
    const resumed = await trainDreamBooth(micro, { ...o, checkpointDir: dir, gradientCheckpointing: true });
    assert.equal(resumed.resumedFrom, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('DDPO: the training graph recomputes with the option, with the same loss, log-probs and adapter gradients', async () => {
  const c: DdpoLossConfig = { batch: 2, latentShape: [4, 4, 4], contextShape: [8, text.width], guidance: 3, clipRange: 0.5, klWeight: 0.1 };
  const rng = new Rng(12);
  const lora = () => ({
    rank: 2, alpha: 2, targets: (p: string) => LORA_TARGETS.test(p),
    params: { tensor: (_n: string, shape: number[]): HostTensor => ({ dtype: 'float32' as const, shape, data: new Rng(shape.length * 7 + shape[0]).fillNormal(new Float32Array(numel(shape)), 0.3) }) },
  });
  const r = (n: number) => rng.fillNormal(new Float32Array(n));
  const mb = {
    xt: [r(64), r(64)], next: [r(64), r(64)], timesteps: [501, 261], prevTimesteps: [481, 241], cond: [r(8 * text.width), r(8 * text.width)],
    uncond: [r(8 * text.width)], oldLogp: [0, 0], advantages: [1, -0.5], epsRef: [r(64), r(64)],
  };
  const schedule = new NoiseSchedule(schedulerConfig());
  const plain = ddpoTrainingGraph(micro.unet, lora(), c);
  // old log-probs from the model itself, so that the ratio is 1 and the clipped objective passes gradients.
  const first = await gradients(plain, ddpoFeeds(schedule, c, mb, 1));
  const feeds = ddpoFeeds(schedule, c, { ...mb, oldLogp: Array.from(first.extras.logp.data as Float32Array) }, 1);
  const a = await gradients(plain, feeds);
  const tg = ddpoTrainingGraph(micro.unet, lora(), c, { gradientCheckpointing: true });
  assert.ok(tg.checkpointing && tg.checkpointing.addedNodes > 0, 'the graph recomputes');
  const b = await gradients(tg, feeds);
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `loss ${b.loss} vs ${a.loss}`);
  assert.ok(relErr(b.extras.logp.data as Float32Array, a.extras.logp.data as Float32Array) <= 1e-6);
  let nonzero = 0;
  for (const [name, g] of a.grads) {
    assert.ok(relErr(b.grads.get(name)!, g) <= 1e-5, name);
    if (g.some((v) => v !== 0)) nonzero++;
  }
  assert.ok(nonzero > a.grads.size / 2, `${nonzero} of ${a.grads.size} adapter gradients are nonzero`);
});
