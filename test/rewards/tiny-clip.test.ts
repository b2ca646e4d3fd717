// The tiny CLIP judge's model: parameter names and shapes, inference graphs' outputs (unit embeddings), the
// multi-positive contrastive targets, and a short training on a handful of world examples where the loss falls.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { Trainer } from '../../src/runtime/autodiff/trainer.js';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { writeWordVocab } from '../../src/runtime/diffusion/word-vocab.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { FusedAdamW } from '../../src/runtime/engine/optim/fused-adamw.js';
import { encodeSafetensors } from '../../src/runtime/engine/safetensors.js';
import { Session } from '../../src/runtime/engine/session.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { resampleImages, toNchw } from '../../src/runtime/rewards/resample.js';
import {
  captionMatches, INITIAL_LOGIT_SCALE, TinyClipInit, tinyClipImage, tinyClipConfig, tinyClipConfigFromJson, tinyClipImageGraph, tinyClipLossGraph,
  tinyClipParamShapes, tinyClipTextGraph,
} from '../../src/runtime/rewards/tiny-clip.js';
import { TinyClipJudge } from '../../src/runtime/rewards/tiny-clip-judge.js';
import { baseTrainingExamples, worldVocabulary } from '../../src/runtime/world/index.js';

const small = (vocab: number) =>
  tinyClipConfig(vocab, { stageChannels: [8, 16, 16], groups: 4, embedDim: 16, textLength: 12, text: { width: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 12 } });

test('parameter names and shapes follow CLIPModel where it has a counterpart', () => {
  const cfg = tinyClipConfig(100);
  const shapes = tinyClipParamShapes(cfg);
  assert.deepEqual(shapes.get('visual_projection.weight'), [64, 128]);
  assert.deepEqual(shapes.get('text_projection.weight'), [64, 64]);
  assert.deepEqual(shapes.get('logit_scale'), []);
  assert.deepEqual(shapes.get('text_model.embeddings.token_embedding.weight'), [100, 64]);
  assert.deepEqual(shapes.get('text_model.embeddings.position_embedding.weight'), [32, 64]);
  assert.deepEqual(shapes.get('vision_model.stages.0.down.weight'), [32, 3, 3, 3]);
  assert.deepEqual(shapes.get('vision_model.stages.2.conv.weight'), [128, 128, 3, 3]);
  assert.ok(![...shapes.keys()].some((k) => k.startsWith('vision_model.stem')), 'no full-resolution stem by default');
  const withStem = tinyClipParamShapes(tinyClipConfig(100, { stemChannels: 16 }));
  assert.deepEqual(withStem.get('vision_model.stem.weight'), [16, 3, 3, 3]);
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((a, d) => a * d, 1);
  assert.ok(n < 750_000, `${n} parameters: float32 weights must stay under 3 MB`);
  // config.json round trip, and a wrong one names the key.
  assert.deepEqual(tinyClipConfigFromJson(JSON.parse(JSON.stringify(cfg))), cfg);
  assert.throws(() => tinyClipConfigFromJson({ ...cfg, embedDim: 'x' }), /'embedDim' is missing or not a number/);
  assert.throws(() => tinyClipConfigFromJson({ ...cfg, text: undefined }), /'text'/);
});

test("caption matches: equal captions are true of each other's images", () => {
  assert.deepEqual([...captionMatches(['a', 'b', 'a'])], [1, 0, 1, 0, 1, 0, 1, 0, 1]);
});

test('inference graphs give unit embeddings; the loss graph a scalar loss and [B, B] logits', async () => {
  const cfg = small(50);
  const init = new TinyClipInit(3);
  const weights = new Map<string, HostTensor>();
  const capture = { tensor: (name: string, shape: number[], i: Parameters<RandomInit['tensor']>[2]) => {
    const t = weights.get(name) ?? init.tensor(name, shape, i);
    weights.set(name, t);
    return t;
  } };
  const { b, loss, logits } = tinyClipLossGraph(cfg, capture, 4);
  assert.deepEqual(b.graph.info(loss).shape, []);
  assert.deepEqual(b.graph.info(logits).shape, [4, 4]);
  assert.equal(weights.get('logit_scale')!.data[0], Math.fround(INITIAL_LOGIT_SCALE));
  const src = new WeightsSource(weights);
  const img = await Session.fromGraph(tinyClipImageGraph(cfg, src, 3).graph);
  const txt = await Session.fromGraph(tinyClipTextGraph(cfg, src, 2).graph);
  const px = new Float32Array(3 * 3 * 32 * 32).map((_, i) => (i % 7) / 7);
  const e = (await img.run({ pixel_values: { dtype: 'float32', shape: [3, 3, 32, 32], data: px } })).image_embeds;
  const t = (await txt.run({ input_ids: { dtype: 'int64', shape: [2, 12], data: new BigInt64Array(24).map((_, i) => BigInt(i % 12 === 0 ? 48 : 49)) } })).text_embeds;
  assert.deepEqual(e.shape, [3, 16]);
  assert.deepEqual(t.shape, [2, 16]);
  for (const [x, n] of [[e, 3], [t, 2]] as const)
    for (let i = 0; i < n; i++) {
      const row = (x.data as Float32Array).subarray(i * 16, (i + 1) * 16);
      assert.ok(Math.abs(row.reduce((a, v) => a + v * v, 0) - 1) < 1e-4);
    }
  await img.release();
  await txt.release();
  const gb = new GraphBuilder();
  assert.throws(() => tinyClipImage({ b: gb, params: src }, cfg, gb.input('px', [1, 3, 16, 16])), /pixel_values must be \[B, 3, 32, 32\], got \[1, 3, 16, 16\]/);
});

test('a short contrastive training on 8 world examples: the loss falls and the saved judge retrieves captions', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-clip-'));
  try {
    writeWordVocab(path.join(dir, 'tokenizer'), worldVocabulary());
    const tok = ClipTokenizer.fromFolder(path.join(dir, 'tokenizer'));
    const cfg = small(tok.vocabSize);
    const ex = baseTrainingExamples(8, 123);
    const B = 8;
    const { b, loss } = tinyClipLossGraph(cfg, new TinyClipInit(1), B);
    const tg = makeTrainingGraph(b.graph, loss);
    const trainer = await Trainer.create(tg, FusedAdamW.create({ lr: 5e-3, weightDecay: 0 }), { maxGradNorm: 1 });
    const feeds = {
      pixel_values: { dtype: 'float32' as const, shape: [B, 3, 32, 32], data: toNchw(ex.images) },
      input_ids: { dtype: 'int64' as const, shape: [B, cfg.textLength], data: tok.encodeBatch(ex.captions, { length: cfg.textLength }) },
      matches: { dtype: 'float32' as const, shape: [B, B], data: captionMatches(ex.captions) },
    };
    const losses: number[] = [];
    for (let s = 0; s < 40; s++) losses.push((await trainer.step(feeds)).loss);
    assert.ok(losses[0] > 1.5 && losses[0] < 4, `initial loss ${losses[0]} should be near ln 8 (random embeddings at logit scale 14)`);
    assert.ok(losses.at(-1)! < 0.3 * losses[0], `loss ${losses[0].toFixed(3)} -> ${losses.at(-1)!.toFixed(3)}`);
    const weights: Record<string, HostTensor> = {};
    for (const n of tg.params) weights[n] = trainer.paramTensor(n);
    await trainer.release();

    // Through the judge's folder format: the training captions are retrieved, at 32 and at 64 pixels.
    fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(weights));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    const judge = TinyClipJudge.load(dir);
    for (const images of [ex.images, resampleImages(ex.images, 64, 64, 'bilinear')]) {
      const img = await judge.embed(images);
      const txt = await judge.embedText(ex.captions);
      let hits = 0;
      img.forEach((e, i) => {
        const sims = txt.map((t) => t.reduce((a, v, k) => a + v * e[k], 0));
        if (sims.indexOf(Math.max(...sims)) === i) hits++;
      });
      assert.ok(hits >= 7, `${hits}/8 captions retrieved at ${images.width} px`);
    }
    const s = await judge.score(ex.images, ex.captions);
    const shuffled = await judge.score(ex.images, [...ex.captions.slice(1), ex.captions[0]]);
    assert.ok(s.reduce((a, v) => a + v, 0) > shuffled.reduce((a, v) => a + v, 0));
    assert.throws(() => TinyClipJudge.load(path.join(dir, 'tokenizer')), /no config\.json/);
    await judge.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('images of other shapes reach the judge at its resolution', async () => {
  const { judgeInput } = await import('../../src/runtime/rewards/tiny-clip-judge.js');
  const wide = imageBatch(2, 48, 96, 4);
  wide.data.fill(0.25);
  const x = judgeInput(wide, 32);
  assert.deepEqual([x.count, x.height, x.width, x.channels], [2, 32, 32, 3]);
  assert.ok(x.data.every((v) => Math.abs(v - 0.25) < 1e-6));
});
