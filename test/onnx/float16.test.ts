// toFloat16: a UNet graph rewritten to compute in half precision keeps its float32 interface, stores every weight as
// float16, keeps the sinusoidal timestep embedding in float32 (as diffusers does), runs, and agrees with the float32
// graph to float16's precision. Sampling with precision 'fp16' through SdPipeline and LoadCheckpoint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadCheckpoint } from '../../src/nodes/load-checkpoint.js';
import { Sample } from '../../src/nodes/sample.js';
import type { AnyModelHandle } from '../../src/nodes/common/model.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { type DType, type HostTensor, tensor } from '../../src/runtime/onnx/tensor.js';
import { TINY_UNET } from '../../src/runtime/models/configs.js';
import { SdPipeline } from '../../src/runtime/models/sd-pipeline.js';
import { unet } from '../../src/runtime/models/unet.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { toFloat16 } from '../../src/runtime/onnx/float16.js';
import { A, type Attrs, Graph } from '../../src/runtime/onnx/ir.js';
import { RandomInit } from '../../src/runtime/onnx/params.js';
import { fakeContext } from '../nodes/fake-context.js';
import { tinyModelFolders, tinySdModel } from '../nodes/tiny-checkpoint.js';

function tinyUnetGraph() {
  const b = new GraphBuilder();
  const sample = b.input('sample', [2, 4, 8, 8]);
  const t = b.input('timestep', [2]);
  const ctx = b.input('encoder_hidden_states', [2, 77, TINY_UNET.crossAttentionDim]);
  b.output(unet({ b, params: new RandomInit(5) }, TINY_UNET, sample, t, ctx), 'eps');
  return b.graph;
}

test('the rewritten UNet: float32 interface, float16 weights, float32 timestep embedding', () => {
  const g32 = tinyUnetGraph();
  const g16 = toFloat16(g32, { keepFloat32Inputs: ['timestep'] });
  for (const v of [...g16.inputs, ...g16.outputs]) assert.equal(g16.info(v).dtype, 'float32', v);
  const weights = [...g16.initializers.values()].filter((t) => t.dtype === 'float32' || t.dtype === 'float16');
  const float32Weights = [...g32.initializers.values()].filter((t) => t.dtype === 'float32').length;
  assert.ok(weights.filter((t) => t.dtype === 'float16').length >= float32Weights - 2, 'weights are float16');
  const trig = g16.nodes.filter((n) => n.op === 'Sin' || n.op === 'Cos');
  assert.ok(trig.length > 0);
  for (const n of trig) assert.equal(g16.info(n.inputs[0]).dtype, 'float32', `${n.op} reads float32`);
  const halfConvs = g16.nodes.filter((n) => n.op === 'Conv' && g16.info(n.inputs[0]).dtype === 'float16');
  assert.equal(halfConvs.length, g16.nodes.filter((n) => n.op === 'Conv').length, 'every convolution computes in float16');
});

test('the rewritten UNet runs and agrees with float32 to float16 precision', async () => {
  const rng = new Rng(3);
  const feeds = {
    sample: tensor('float32', [2, 4, 8, 8], rng.fillNormal(new Float32Array(2 * 4 * 64))),
    timestep: tensor('float32', [2], Float32Array.of(999, 37)),
    encoder_hidden_states: tensor('float32', [2, 77, TINY_UNET.crossAttentionDim], rng.fillNormal(new Float32Array(2 * 77 * TINY_UNET.crossAttentionDim))),
  };
  const run = async (g: ReturnType<typeof tinyUnetGraph>) => {
    const s = await Session.fromGraph(g, { threads: 1 });
    try {
      return (await s.run(feeds)).eps.data as Float32Array;
    } finally {
      await s.release();
    }
  };
  const a = await run(tinyUnetGraph());
  const b = await run(toFloat16(tinyUnetGraph(), { keepFloat32Inputs: ['timestep'] }));
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  assert.ok(num / den < 1e-2, `relative error ${num / den}`);
  assert.ok(num > 0, 'the float16 graph is not the float32 one');
});

test('SdPipeline samples in fp16 as in fp32, to within float16 rounding', async () => {
  const m = tinySdModel();
  const req = { prompts: ['a photo of a cat', 'a dog'], seeds: [1, 2], steps: 4, guidance: 3, scheduler: 'ddim' as const };
  const a = await new SdPipeline(m, undefined, { threads: 1 }).sample(req);
  const half = new SdPipeline(m, undefined, { threads: 1 }, { precision: 'fp16' });
  const b = await half.sample(req);
  await half.release();
  let worst = 0;
  for (let i = 0; i < a.images.data.length; i++) worst = Math.max(worst, Math.abs(a.images.data[i] - b.images.data[i]));
  assert.ok(worst < 0.02 && worst > 0, `largest pixel difference ${worst}`);
});

test('LoadCheckpoint precision fp16 gives a MODEL that samples in fp16, with its own identity', async () => {
  const { folders } = await tinyModelFolders();
  try {
    const load = async (precision: 'fp32' | 'fp16') => (await LoadCheckpoint.run({ ckpt_name: 'tiny', device: 'cpu', threads: 1, precision }, fakeContext(folders))).outputs[0] as AnyModelHandle;
    const [m32, m16] = [await load('fp32'), await load('fp16')];
    assert.equal(m16.label, 'tiny (fp16)');
    assert.notEqual(m16.id, m32.id, 'caches keyed by the id keep fp16 and fp32 results apart');
    const sample = async (model: AnyModelHandle) => (await Sample.run({ model, prompt: 'a cat', steps: 2, guidance: 3, seed: 1, images_per_prompt: 1, sampler: 'ddim', negative_prompt: '', lora_strength: 1, eta: 0 }, fakeContext(folders))).outputs[0] as ImageBatch;
    const [a, b] = [await sample(m32), await sample(m16)];
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
    assert.ok(worst > 0 && worst < 0.02, `largest pixel difference ${worst}`);
  } finally {
    folders.cleanup();
  }
});

/** A hand-written IR graph: inputs and initializers with their types, nodes in order. */
function irGraph(o: { inputs: Record<string, [DType, number[]]>; inits?: Record<string, HostTensor>; nodes: [string, string[], string[], Attrs?][]; values: Record<string, [DType, number[]]>; outputs: string[] }): Graph {
  const g = new Graph();
  for (const [name, [dtype, shape]] of Object.entries({ ...o.inputs, ...o.values })) g.values.set(name, { dtype, shape });
  g.inputs = Object.keys(o.inputs);
  for (const [name, t] of Object.entries(o.inits ?? {})) {
    g.initializers.set(name, t);
    g.values.set(name, { dtype: t.dtype, shape: t.shape });
  }
  g.nodes = o.nodes.map(([op, inputs, outputs, attrs], i) => ({ op, domain: '', name: `n${i}`, inputs, outputs, attrs: attrs ?? {} }));
  g.outputs = o.outputs;
  return g;
}

async function runGraph(g: Graph, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await Session.fromGraph(g, { threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

test('an int64 timestep keeps its path float32; a weight passed straight to the outputs stays as it is', async () => {
  const w = tensor('float32', [2], Float32Array.of(0.5, -2));
  const make = () => irGraph({
    inputs: { x: ['float32', [2]], t: ['int64', [2]] },
    inits: { w },
    nodes: [['Cast', ['t'], ['tf'], { to: A.i(1) }], ['Sin', ['tf'], ['s']], ['Mul', ['x', 's'], ['xs']], ['Mul', ['xs', 'w'], ['y']]],
    values: { tf: ['float32', [2]], s: ['float32', [2]], xs: ['float32', [2]], y: ['float32', [2]] },
    outputs: ['y', 'w'],
  });
  const g16 = toFloat16(make(), { keepFloat32Inputs: ['t'] });
  assert.equal(g16.info(g16.nodes.find((n) => n.op === 'Sin')!.inputs[0]).dtype, 'float32', 'Sin reads float32');
  assert.equal(g16.nodes.filter((n) => n.outputs.includes('w')).length, 0, 'nothing redefines the weight output');
  const feeds = { x: tensor('float32', [2], Float32Array.of(1.5, 3)), t: tensor('int64', [2], BigInt64Array.of(999n, 3n)) };
  const [a, b] = [await runGraph(make(), feeds), await runGraph(g16, feeds)];
  assert.deepEqual([...(b.w.data as Float32Array)], [0.5, -2]);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs((a.y.data as Float32Array)[i] - (b.y.data as Float32Array)[i]) < 1e-2);
});

test('a computed Resize scale is cast back to float32', async () => {
  const make = () => irGraph({
    inputs: { x: ['float32', [1, 1, 2, 2]], k: ['float32', [4]] },
    inits: { base: tensor('float32', [4], Float32Array.of(1, 1, 1, 1)) },
    nodes: [['Mul', ['base', 'k'], ['scales']], ['Resize', ['x', '', 'scales'], ['y'], { mode: A.s('nearest') }]],
    values: { scales: ['float32', [4]], y: ['float32', [1, 1, 4, 4]] },
    outputs: ['y'],
  });
  const g16 = toFloat16(make());
  const resize = g16.nodes.find((n) => n.op === 'Resize')!;
  assert.equal(g16.info(resize.inputs[2]).dtype, 'float32');
  const feeds = { x: tensor('float32', [1, 1, 2, 2], Float32Array.of(1, 2, 3, 4)), k: tensor('float32', [4], Float32Array.of(1, 1, 2, 2)) };
  assert.deepEqual([...((await runGraph(g16, feeds)).y.data as Float32Array)], [...((await runGraph(make(), feeds)).y.data as Float32Array)]);
});
