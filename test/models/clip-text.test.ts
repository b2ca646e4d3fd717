// CLIP's text transformer built with the project's graph builder against PyTorch (scripts/torch/clip_text.py, a port
// of transformers' CLIPTextModel; fixture from scripts/torch/make-clip-fixture.py, computed in float64).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { openSafetensors } from '../../src/runtime/engine/safetensors.js';
import { Session } from '../../src/runtime/engine/session.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import type { ParamInit, ParamSource } from '../../src/runtime/onnx/params.js';
import { RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { CLIP_TEXT_SD15, type ClipTextConfig, clipText, clipTextConfigFromJson, clipTextTiny } from '../../src/runtime/models/clip-text.js';
import { readTensors } from '../fixture-utils.js';

const dir = path.join(import.meta.dirname, '../fixtures/clip-tiny');
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));

const readAll = (file: string) => readTensors(path.join(dir, file));

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a-b| / max |b|: error in the tensor's own scale (or the given one). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, scale = maxAbs(b)): number {
  assert.equal(a.length, b.length);
  let num = 0;
  for (let i = 0; i < b.length; i++) num = Math.max(num, Math.abs(a[i] - b[i]));
  return num / Math.max(scale, 1e-12);
}

const weights = readAll('weights.safetensors');
const io = readAll('io.safetensors');
const ids = io.get('input_ids')!;

function build(cfg: ClipTextConfig, clipSkip = 0) {
  const b = new GraphBuilder();
  const params = new WeightsSource(weights);
  const input = b.input('input_ids', ids.shape, 'int64');
  const out = clipText({ b, params }, cfg, input, { clipSkip });
  return { b, params, out };
}

test('tiny config: the fixture config read as transformers JSON is the tiny preset', () => {
  assert.deepEqual(clipTextConfigFromJson(meta.config), clipTextTiny(meta.vocab_size));
  assert.throws(() => clipTextConfigFromJson({ ...meta.config, hidden_act: 'relu' }), /hidden_act 'relu'/);
});

test('last_hidden_state and pooled match PyTorch', async () => {
  const { b, params, out } = build(clipTextTiny(meta.vocab_size));
  assert.deepEqual(new Set(params.used), new Set(weights.keys()), 'the model uses exactly the state_dict tensors');
  assert.deepEqual(out.lastHidden.shape, [3, 77, 32]);
  assert.deepEqual(out.pooled.shape, [3, 32]);
  b.output(out.lastHidden, 'last_hidden_state');
  b.output(out.pooled, 'pooled');
  const s = await Session.fromGraph(b.graph, { threads: 2 });
  const r = await s.run({ input_ids: ids });
  for (const k of ['last_hidden_state', 'pooled']) {
    const e = relErr(r[k].data as Float32Array, io.get(k)!.data as Float32Array);
    assert.ok(e <= 1e-4, `${k}: relative error ${e.toExponential(2)}`);
  }
  await s.release();
});

test('clipSkip 1 gives final_layer_norm of the penultimate layer', async () => {
  const { b, params, out } = build(clipTextTiny(meta.vocab_size), 1);
  assert.ok(![...params.used].some((n) => n.includes('layers.1.')), 'the skipped layer is not built');
  b.output(out.lastHidden, 'penultimate');
  const s = await Session.fromGraph(b.graph, { threads: 2 });
  const r = await s.run({ input_ids: ids });
  const e = relErr(r.penultimate.data as Float32Array, io.get('penultimate')!.data as Float32Array);
  assert.ok(e <= 1e-4, `penultimate: relative error ${e.toExponential(2)}`);
  await s.release();
});

test('gradients of every parameter (token embeddings through Gather included) match PyTorch', async () => {
  const grads = readAll('grads.safetensors');
  const { b, out } = build(clipTextTiny(meta.vocab_size));
  const sq = (x: typeof out.pooled) => op.mean(op.mul(x, x));
  const loss = b.output(op.add(sq(out.lastHidden), sq(out.pooled)), 'loss');
  const tg = makeTrainingGraph(b.graph, loss.name);
  assert.deepEqual(new Set(tg.params), new Set(weights.keys()));
  const s = await Session.fromGraph(tg.graph, { threads: 2 });
  const feeds: Record<string, HostTensor> = { input_ids: ids, [tg.seed]: { dtype: 'float32', shape: [], data: Float32Array.of(1) } };
  for (const p of tg.params) feeds[p] = tg.initial.get(p)!;
  const r = await s.run(feeds);
  const torchLoss = Number(openSafetensors(path.join(dir, 'grads.safetensors')).metadata.loss);
  assert.ok(Math.abs((r.loss.data as Float32Array)[0] - torchLoss) / torchLoss < 1e-5, `loss ${(r.loss.data as Float32Array)[0]} vs ${torchLoss}`);
  let worst: [string, number] = ['', 0];
  for (const p of tg.params) {
    // k_proj.bias adds q.b_k to every score of a query's row, which softmax ignores: its gradient is 0 up to rounding
    // (torch's float64: 1e-18), so it is measured in the scale of the same projection's weight gradient.
    const scale = p.endsWith('k_proj.bias') ? maxAbs(grads.get(p.replace(/bias$/, 'weight'))!.data as Float32Array) : undefined;
    const e = relErr(r[tg.gradOf.get(p)!].data as Float32Array, grads.get(p)!.data as Float32Array, scale);
    if (e > worst[1]) worst = [p, e];
  }
  assert.ok(worst[1] <= 1e-4, `worst gradient ${worst[0]}: relative error ${worst[1].toExponential(2)}`);
  await s.release();
});

test('shorter sequences use the first positions; pooled follows the first <|endoftext|>', async () => {
  const tok = ClipTokenizer.fromFolder(path.join(dir, 'tokenizer'));
  const cfg = clipTextTiny(tok.vocabSize);
  const run = async (length: number, texts: string[]) => {
    const b = new GraphBuilder();
    const input = b.input('input_ids', [texts.length, length], 'int64');
    const out = clipText({ b, params: new RandomInit(3) }, cfg, input);
    b.output(out.lastHidden, 'h');
    b.output(out.pooled, 'pooled');
    const s = await Session.fromGraph(b.graph);
    const r = await s.run({ input_ids: { dtype: 'int64', shape: [texts.length, length], data: tok.encodeBatch(texts, { length }) } });
    await s.release();
    return { h: r.h.data as Float32Array, pooled: r.pooled.data as Float32Array };
  };
  const full = await run(77, ['a sks dog']);
  const short = await run(8, ['a sks dog']);
  // Causal attention: the first 8 positions do not see the rest, so a shorter input gives the same prefix.
  assert.ok(relErr(short.h, full.h.subarray(0, 8 * 32)) < 1e-5);
  const eos = tok.encode('a sks dog').length - 1;
  assert.ok(relErr(full.pooled, full.h.subarray(eos * 32, (eos + 1) * 32)) === 0);
  const b = new GraphBuilder();
  assert.throws(() => clipText({ b, params: new RandomInit() }, cfg, b.input('x', [1, 78], 'int64')), /78 tokens, the model has 77 positions/);
});

/** Records parameter shapes without allocating their data. */
class ShapeRecorder implements ParamSource {
  readonly shapes = new Map<string, number[]>();
  tensor(name: string, shape: number[], _init: ParamInit): HostTensor {
    this.shapes.set(name, shape);
    return { dtype: 'float32', shape, data: new Float32Array(0) };
  }
}

test('SD1.5 preset: 123,060,480 parameters under transformers names, as the torch port counts', () => {
  const rec = new ShapeRecorder();
  const b = new GraphBuilder();
  const out = clipText({ b, params: rec }, CLIP_TEXT_SD15, b.input('input_ids', [2, 77], 'int64'));
  assert.deepEqual(out.lastHidden.shape, [2, 77, 768]);
  assert.deepEqual(out.pooled.shape, [2, 768]);
  let total = 0;
  for (const s of rec.shapes.values()) total += s.reduce((x, y) => x * y, 1);
  assert.equal(total, 123_060_480);
  assert.equal(total, meta.sd15_params, 'scripts/torch/clip_text.py counts the same');
  assert.deepEqual(clipTextConfigFromJson(meta.sd15_config), CLIP_TEXT_SD15);
  assert.equal(rec.shapes.size, 2 + 12 * 16 + 2);
  const expectShapes: [string, number[]][] = [
    ['text_model.embeddings.token_embedding.weight', [49408, 768]],
    ['text_model.embeddings.position_embedding.weight', [77, 768]],
    ['text_model.encoder.layers.0.self_attn.q_proj.weight', [768, 768]],
    ['text_model.encoder.layers.0.self_attn.out_proj.bias', [768]],
    ['text_model.encoder.layers.0.layer_norm1.weight', [768]],
    ['text_model.encoder.layers.0.mlp.fc1.weight', [3072, 768]],
    ['text_model.encoder.layers.11.mlp.fc2.weight', [768, 3072]],
    ['text_model.final_layer_norm.weight', [768]],
  ];
  for (const [name, shape] of expectShapes) assert.deepEqual(rec.shapes.get(name), shape, name);
  // The tiny fixture's state_dict names are the same names at another width.
  const tinyNames = [...weights.keys()].map((n) => n.replace(/layers\.\d+\./, 'layers.N.'));
  const sdNames = [...rec.shapes.keys()].map((n) => n.replace(/layers\.\d+\./, 'layers.N.'));
  assert.deepEqual(new Set(tinyNames), new Set(sdNames));
});
