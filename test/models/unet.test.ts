// The UNet against PyTorch (scripts/torch/make-sd-fixtures.py, a float64 run of the diffusers port in
// scripts/torch/sd_modules.py): the tiny config loads the fixture's diffusers-named weights exactly and reproduces
// its output; SD1.5's config has diffusers' parameter set (counted without allocating it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Session } from '../../src/runtime/engine/session.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { recordParamShapes } from '../../src/runtime/models/blocks.js';
import { SD15_UNET, TINY_UNET, type UNetConfig, unetConfigFromDiffusers } from '../../src/runtime/models/configs.js';
import { unet, unetParamCount, unetParamShapes } from '../../src/runtime/models/unet.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { isLoraParam, type LayerContext } from '../../src/runtime/onnx/layers.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { type ParamSource, RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { readTensors, relErr } from '../fixture-utils.js';

const dir = path.join(import.meta.dirname, '../fixtures/sd-tiny');
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).unet;

const readAll = (file: string) => readTensors(path.join(dir, file));


const weights = readAll('unet-weights.safetensors');
const io = readAll('unet-io.safetensors');

function build(cfg: UNetConfig, params: ParamSource, timestepDtype: 'int64' | 'float32', lora?: LayerContext['lora']) {
  const b = new GraphBuilder();
  const sample = b.input('sample', io.get('sample')!.shape);
  const t = b.input('timestep', io.get('timestep')!.shape, timestepDtype);
  const ctx = b.input('encoder_hidden_states', io.get('encoder_hidden_states')!.shape);
  const out = b.output(unet({ b, params, lora }, cfg, sample, t, ctx), 'out_sample');
  return { b, out };
}

const floatTimesteps = (t: HostTensor): HostTensor => ({ dtype: 'float32', shape: t.shape, data: Float32Array.from(t.data as BigInt64Array, Number) });
const feeds = (timestepDtype: 'int64' | 'float32') => ({
  sample: io.get('sample')!,
  timestep: timestepDtype === 'int64' ? io.get('timestep')! : floatTimesteps(io.get('timestep')!),
  encoder_hidden_states: io.get('encoder_hidden_states')!,
});

test('the fixture config is the TINY_UNET preset', () => {
  assert.deepEqual(unetConfigFromDiffusers(meta.config), TINY_UNET);
});

test('tiny UNet: loads the diffusers-named weights exactly and matches PyTorch; int64 and float timesteps agree', async () => {
  const src = new WeightsSource(weights);
  const { b } = build(TINY_UNET, src, 'int64');
  assert.deepEqual([...src.used].sort(), [...weights.keys()].sort(), 'every fixture tensor used, none missing');
  assert.equal(unetParamCount(TINY_UNET), meta.params);
  const s = await Session.fromGraph(b.graph, { threads: 2 });
  const out = (await s.run(feeds('int64'))).out_sample;
  const ref = io.get('out_sample')!;
  assert.deepEqual(out.shape, ref.shape);
  const err = relErr(out.data as Float32Array, ref.data as Float32Array);
  assert.ok(err <= 1e-4, `out_sample: max|diff| / max|ref| = ${err.toExponential(2)}`);
  await s.release();

  const f = build(TINY_UNET, new WeightsSource(weights), 'float32');
  const sf = await Session.fromGraph(f.b.graph, { threads: 2 });
  const outF = (await sf.run(feeds('float32'))).out_sample;
  assert.ok(relErr(outF.data as Float32Array, out.data as Float32Array) <= 1e-6, 'float32 timesteps give what int64 ones do');
  await sf.release();
});

test('LoRA adapters sit on every attention projection under its diffusers name, and the UNet differentiates', async () => {
  const targets = (p: string) => /\.attn[12]\.(to_q|to_k|to_v|to_out\.0)$/.test(p);
  const lora = { rank: 2, alpha: 2, targets, params: new RandomInit(3) };
  const { b, out } = build(TINY_UNET, new WeightsSource(weights), 'int64', lora);
  const adapters = [...b.graph.initializers.keys()].filter(isLoraParam);
  // 11 transformers (2 + 2 down, 1 mid, 3 + 3 up) x 2 attentions x 4 projections x (down, up)
  assert.equal(adapters.length, 11 * 2 * 4 * 2);
  assert.ok(adapters.includes('down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_down.weight'));
  assert.ok(adapters.includes('up_blocks.2.attentions.2.transformer_blocks.0.attn1.to_out.0.lora_up.weight'));
  assert.deepEqual(b.graph.initializers.get('mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora_down.weight')!.shape, [2, 20]);

  // A full-UNet training graph (DreamBooth trains every weight): every op has a gradient rule, every parameter
  // gets a finite gradient, and none is identically zero (the LoRA down weights are, while their up is zero).
  const loss = b.output(op.mean(op.mul(out, out)), 'loss');
  const tg = makeTrainingGraph(b.graph, loss.name);
  const s = await Session.fromGraph(tg.graph, { threads: 2 });
  const r = await s.run({ ...feeds('int64'), ...Object.fromEntries(tg.initial), [tg.seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) } });
  const ref = io.get('out_sample')!.data as Float32Array;
  const refLoss = ref.reduce((a, v) => a + v * v, 0) / ref.length;
  assert.ok(Math.abs((r.loss.data as Float32Array)[0] - refLoss) / refLoss < 1e-4, 'fresh adapters leave the output as it was');
  const zero: string[] = [];
  for (const p of tg.params) {
    const g = r[tg.gradOf.get(p)!].data as Float32Array;
    assert.ok(g.every(Number.isFinite), `gradient of ${p} is finite`);
    if (g.every((v) => v === 0)) zero.push(p);
  }
  assert.deepEqual(zero, adapters.filter((n) => n.endsWith('lora_down.weight')));
  await s.release();
});

test('SD1.5 UNet: diffusers parameter set (859,520,964 values in 686 tensors), 64x64 latents in and out', () => {
  const shapes = unetParamShapes(SD15_UNET);
  assert.equal(shapes.size, 686);
  assert.equal(unetParamCount(SD15_UNET), 859_520_964);
  const expect: Record<string, number[]> = {
    'conv_in.weight': [320, 4, 3, 3],
    'time_embedding.linear_1.weight': [1280, 320],
    'time_embedding.linear_2.bias': [1280],
    'down_blocks.0.resnets.0.time_emb_proj.weight': [320, 1280],
    'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight': [320, 768],
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.bias': [320],
    'down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight': [2560, 320],
    'down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight': [320, 1280],
    'down_blocks.0.downsamplers.0.conv.weight': [320, 320, 3, 3],
    'down_blocks.1.resnets.0.conv_shortcut.weight': [640, 320, 1, 1],
    'down_blocks.3.resnets.1.conv2.weight': [1280, 1280, 3, 3],
    'mid_block.attentions.0.proj_in.weight': [1280, 1280, 1, 1],
    'mid_block.attentions.0.norm.weight': [1280],
    'up_blocks.0.resnets.2.conv1.weight': [1280, 2560, 3, 3],
    'up_blocks.1.upsamplers.0.conv.weight': [1280, 1280, 3, 3],
    'up_blocks.3.resnets.0.conv_shortcut.weight': [320, 960, 1, 1],
    'up_blocks.3.attentions.2.transformer_blocks.0.norm3.weight': [320],
    'conv_norm_out.weight': [320],
    'conv_out.weight': [4, 320, 3, 3],
  };
  for (const [name, shape] of Object.entries(expect)) assert.deepEqual(shapes.get(name), shape, name);
  for (const name of shapes.keys()) {
    if (/\.to_[qkv]\.bias$/.test(name)) assert.fail(`${name}: SD1.5 attention q/k/v have no bias`);
    assert.ok(!name.startsWith('up_blocks.3.upsamplers') && !name.startsWith('down_blocks.3.downsamplers'), name);
  }

  let outShape: readonly number[] = [];
  recordParamShapes((params) => {
    const b = new GraphBuilder();
    const x = unet({ b, params }, SD15_UNET, b.input('sample', [2, 4, 64, 64]), b.input('timestep', [], 'int64'), b.input('ctx', [2, 77, 768]));
    outShape = x.shape;
  });
  assert.deepEqual(outShape, [2, 4, 64, 64]);
});

test('UNet input errors name what was expected', () => {
  const b = new GraphBuilder();
  const params = new RandomInit(0);
  assert.throws(() => unet({ b, params }, TINY_UNET, b.input('s', [1, 4, 10, 10]), b.input('t', [1]), b.input('c', [1, 77, 20])), /multiple of 4/);
  assert.throws(() => unet({ b, params }, TINY_UNET, b.input('s2', [1, 4, 8, 8]), b.input('t2', [1]), b.input('c2', [1, 77, 768])), /\[1, T, 20\]/);
});
