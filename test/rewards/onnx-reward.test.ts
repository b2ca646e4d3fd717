// User-supplied reward models as ONNX files, with tiny stand-ins built here: ImageReward's and PickScore/CLIP's
// interfaces, preprocessing (shorter side, centre crop, CLIP mean/std), tokenization, fixed and symbolic batch sizes,
// settings from reward.json and ONNX metadata, and the errors a wrong folder or model gives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { writeWordVocab } from '../../src/runtime/diffusion/word-vocab.js';
import { type ImageBatch, imageBatch } from '../../src/runtime/engine/image.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { encodeModel, toModelProto } from '../../src/runtime/onnx/graph-proto.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { loadRewardModel } from '../../src/runtime/rewards/index.js';
import { ClipOnnx, ImageRewardOnnx, loadOnnxReward } from '../../src/runtime/rewards/onnx-reward.js';
import { CLIP_MEAN, CLIP_STD, IMAGE_REWARD_MEAN, IMAGE_REWARD_STD, readOnnxMetadata } from '../../src/runtime/rewards/onnx-reward-settings.js';
import { resampleImages, resizeShorterAndCenterCrop } from '../../src/runtime/rewards/resample.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-reward-'));
after(() => { if (!process.env.KEEP) fs.rmSync(root, { recursive: true, force: true }); });

const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'red', 'star', 'dog'];
const CLIP_WORDS = ['a', 'red', 'star', 'dog'];

interface ModelOptions {
  dynamicBatch?: boolean;
  metadata?: Record<string, string>;
}

/** Saves a graph built at batch 2 as `<dir>/model.onnx`; dynamicBatch renames the batch dimension of every input and
 * output (the graphs here only reduce over other axes, so they run at any batch). */
function saveModel(dir: string, b: GraphBuilder, o: ModelOptions = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const model = toModelProto(b.graph);
  if (o.dynamicBatch)
    for (const vi of [...model.graph!.input!, ...model.graph!.output!]) {
      const dims = vi.type!.tensorType!.shape!.dim!;
      if (dims.length > 0) dims[0] = { dimParam: 'batch' };
    }
  if (o.metadata) model.metadataProps = Object.entries(o.metadata).map(([key, value]) => ({ key, value }));
  fs.writeFileSync(path.join(dir, 'model.onnx'), encodeModel(model));
}

/** score = mean(pixel_values) + 0.01 * (tokens incl. [CLS]/[SEP]) + 0.001 * input_ids[:, 0]. */
function imageRewardGraph(o: { names?: [string, string, string]; channels?: number; batch?: number; output?: string } = {}): GraphBuilder {
  const [pn, idn, mn] = o.names ?? ['pixel_values', 'input_ids', 'attention_mask'];
  const B = o.batch ?? 2;
  const b = new GraphBuilder();
  const px = b.input(pn, [B, o.channels ?? 3, 224, 224]);
  const ids = b.input(idn, [B, 35], 'int64');
  const mask = b.input(mn, [B, 35], 'int64');
  const tokens = op.reduceSum(op.cast(mask, 'float32'), [1], false);
  const first = op.squeeze(op.cast(op.slice(ids, [0], [1], [1]), 'float32'), [1]);
  b.output(op.add(op.add(op.reduceMean(px, [1, 2, 3], false), op.mul(tokens, 0.01)), op.mul(first, 0.001)), o.output ?? 'score');
  return b;
}

const TABLE_VOCAB = 400;
const table = Float32Array.from({ length: TABLE_VOCAB * 3 }, (_, i) => Math.sin(i * 1.7) + 0.1 * (i % 5));

/** image_embeds = per-channel mean of pixel_values; text_embeds = mean of a fixed table's rows over the tokens. */
function clipGraph(o: { logitScale?: boolean; batch?: number } = {}): GraphBuilder {
  const B = o.batch ?? 2;
  const b = new GraphBuilder();
  const px = b.input('pixel_values', [B, 3, 224, 224]);
  const ids = b.input('input_ids', [B, 77], 'int64');
  b.output(op.reduceMean(px, [2, 3], false), 'image_embeds');
  const t = b.constant({ dtype: 'float32', shape: [TABLE_VOCAB, 3], data: table });
  b.output(op.reduceMean(op.gather(t, ids, 0), [1], false), 'text_embeds');
  if (o.logitScale) b.output(op.add(b.scalar(Math.log(50)), 0), 'logit_scale');
  return b;
}

function writeBertVocab(dir: string): void {
  fs.writeFileSync(path.join(dir, 'vocab.txt'), `${BERT_VOCAB.join('\n')}\n`);
}

/** A w x h image, every pixel `rgb`. */
function solid(w: number, h: number, rgb: number[]): ImageBatch {
  const img = imageBatch(1, h, w, 3);
  for (let p = 0; p < w * h; p++) img.data.set(rgb, p * 3);
  return img;
}

function concat(list: ImageBatch[]): ImageBatch {
  const out = imageBatch(list.length, list[0].height, list[0].width, 3);
  list.forEach((x, i) => out.data.set(x.data, i * x.data.length));
  return out;
}

const normalizedMean = (rgb: number[]) => rgb.reduce((a, v, c) => a + (v - CLIP_MEAN[c]) / CLIP_STD[c], 0) / 3;
const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);

test('resampling: box shrinking averages blocks, bicubic keeps constants, CLIP crop keeps the centre', () => {
  const img = imageBatch(1, 2, 4, 1, Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7));
  assert.deepEqual([...resampleImages(img, 2, 1, 'box').data], [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4]);
  const flat = resampleImages(solid(37, 23, [0.2, 0.5, 0.9]), 224, 150, 'bicubic');
  for (let p = 0; p < flat.data.length; p++) close(flat.data[p], [0.2, 0.5, 0.9][p % 3], 1e-6);
  // 448 x 224: no scaling, the centre 224 columns (112..335) are kept.
  const ramp = imageBatch(1, 224, 448, 1);
  for (let y = 0; y < 224; y++) for (let x = 0; x < 448; x++) ramp.data[y * 448 + x] = x;
  const c = resizeShorterAndCenterCrop(ramp, 224, 'bicubic');
  assert.equal(c.width, 224);
  close(c.data[0], 112, 1e-4);
  close(c.data[223], 335, 1e-4);
  // 112 x 300 -> 224 x 600 -> rows 188..411 of the enlarged image.
  assert.deepEqual([resizeShorterAndCenterCrop(solid(112, 300, [1, 1, 1]), 224, 'bilinear').width, 224], [224, 224]);
});

test('ImageReward: preprocessing, BERT ids and mask, normalization; fixed batches are padded', async () => {
  const dyn = path.join(root, 'ir-dynamic');
  saveModel(dyn, imageRewardGraph(), { dynamicBatch: true });
  writeBertVocab(dyn);
  const fixedDir = path.join(root, 'ir-fixed');
  saveModel(fixedDir, imageRewardGraph({ batch: 2 }));
  fs.mkdirSync(path.join(fixedDir, 'tokenizer'));
  writeBertVocab(path.join(fixedDir, 'tokenizer'));
  // Half black, half white around the centre of a wide image; non-square and other sizes.
  const split = imageBatch(1, 224, 448, 3);
  for (let y = 0; y < 224; y++) for (let x = 224; x < 448; x++) split.data.fill(1, (y * 448 + x) * 3, (y * 448 + x) * 3 + 3);
  const images = [split, solid(300, 300, [0.9, 0.1, 0.4]), solid(300, 300, [0.2, 0.3, 0.5])];
  const prompts = ['a red star', 'A red dog!', 'zebra'];
  const expectRaw = [0.5 * (1 / 3) * [0, 1, 2].reduce((a, c) => a + (0 - CLIP_MEAN[c]) / CLIP_STD[c] + (1 - CLIP_MEAN[c]) / CLIP_STD[c], 0),
    normalizedMean([0.9, 0.1, 0.4]), normalizedMean([0.2, 0.3, 0.5])];
  // Token counts with [CLS]/[SEP]: 5, 6 (a red dog !), 3 ([UNK]); [CLS] = id 2.
  const tokens = [5, 6, 3];
  for (const dir of [dyn, fixedDir]) {
    const m = await loadOnnxReward(dir);
    try {
      assert.ok(m instanceof ImageRewardOnnx);
      assert.equal(m.kind, 'imagereward');
      const scores: number[] = [];
      for (let i = 0; i < 3; i++) scores.push(...(await m.score(images[i], [prompts[i]])));
      scores.forEach((s, i) => close(s, (expectRaw[i] + 0.01 * tokens[i] + 0.002 - IMAGE_REWARD_MEAN) / IMAGE_REWARD_STD, 2e-3, `image ${i}`));
          // The same image at another size scores the same.
      close((await m.score(solid(40, 40, [0.2, 0.3, 0.5]), ['zebra']))[0], scores[2], 1e-5, 'upscaled');
  // A batch of three (a fixed batch of 2 runs twice, the second padded) gives the same numbers.
      const batch = concat([images[1], images[2], images[1]]);
      const together = await m.score(batch, [prompts[1], prompts[2], prompts[1]]);
      [scores[1], scores[2], scores[1]].forEach((s, i) => close(together[i], s, 1e-5, `batched ${i}`));
      await assert.rejects(() => m.score(batch, ['a', 'b']), /3 images need 3 prompts/);
    } finally {
      await m.release();
    }
  }
  // Already-normalized scores, said in reward.json.
  fs.writeFileSync(path.join(dyn, 'reward.json'), JSON.stringify({ kind: 'imagereward', score_normalized: true }));
  const raw = await loadOnnxReward(dyn);
  close((await raw.score(images[2], ['zebra']))[0], expectRaw[2] + 0.03 + 0.002, 2e-3);
  await raw.release();
});

test('PickScore and CLIP: embeddings, logit scale, CLIP tokenizer; the kind from names, folder or metadata', async () => {
  const pick = path.join(root, 'my-pickscore');
  saveModel(pick, clipGraph({ logitScale: true }), { dynamicBatch: true });
  writeWordVocab(path.join(pick, 'tokenizer'), CLIP_WORDS);
  const clipDir = path.join(root, 'clip-b');
  saveModel(clipDir, clipGraph({ batch: 2 }));
  writeWordVocab(clipDir, CLIP_WORDS);
  const tok = ClipTokenizer.fromFolder(clipDir);
  const textEmbed = (prompt: string) => {
    const e = [0, 0, 0];
    for (const id of tok.encodePadded(prompt, { length: 77 })) for (let c = 0; c < 3; c++) e[c] += table[id * 3 + c] / 77;
    return e;
  };
  const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
  const rgb = [0.9, 0.2, 0.4];
  const imgEmbed = rgb.map((v, c) => (v - CLIP_MEAN[c]) / CLIP_STD[c]);
  const images = concat([solid(64, 64, rgb), solid(64, 64, rgb), solid(64, 64, rgb)]);
  const prompts = ['a red star', 'a dog', 'red red red'];

  const p = await loadOnnxReward(pick);
  assert.ok(p instanceof ClipOnnx);
  assert.equal(p.kind, 'pickscore');
  const ps = await p.score(images, prompts);
  // (onnxruntime's float32 ReduceMean over 224 x 224 values is good to ~1e-4.)
  prompts.forEach((t, i) => close(ps[i], 50 * cos(imgEmbed, textEmbed(t)), 1e-2, t));
  await p.release();

  const c = await loadOnnxReward(clipDir);
  assert.equal(c.kind, 'clip');
  const cs = await c.score(images, prompts);
  prompts.forEach((t, i) => close(cs[i], cos(imgEmbed, textEmbed(t)), 2e-4, t));
  const emb = await (c as ClipOnnx).embed(images);
  assert.equal(emb.length, 3);
  const n = Math.hypot(...imgEmbed);
  emb[2].forEach((v, k) => close(v, imgEmbed[k] / n, 2e-4));
  await c.release();

  // The kind from ONNX metadata; PickScore without a logit_scale anywhere is refused, with one in metadata it works.
  const meta = path.join(root, 'meta-clip');
  saveModel(meta, clipGraph(), { dynamicBatch: true, metadata: { kind: 'pickscore' } });
  writeWordVocab(meta, CLIP_WORDS);
  assert.deepEqual(readOnnxMetadata(path.join(meta, 'model.onnx')), { kind: 'pickscore' });
  await assert.rejects(loadOnnxReward(meta), /PickScore model needs a logit_scale output or a "logit_scale" setting/);
  saveModel(meta, clipGraph(), { dynamicBatch: true, metadata: { kind: 'pickscore', logit_scale: String(Math.log(10)) } });
  const m = await loadRewardModel(meta);
  assert.equal(m.name, 'meta-clip');
  close((await m.score(images, prompts))[0], 10 * cos(imgEmbed, textEmbed(prompts[0])), 2e-3);
  await m.release?.();
});

test('clear errors for wrong folders, files and interfaces', async () => {
  await assert.rejects(loadOnnxReward(path.join(root, 'nope')), /no such reward model folder/);
  await assert.rejects(loadRewardModel(path.join(root, 'nope')), /not 'oracle' or 'tiny-clip', and no such folder/);
  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty);
  await assert.rejects(loadOnnxReward(empty), (e: Error) => e.message.includes(path.join(empty, 'model.onnx')) && /missing/.test(e.message));

  const badJson = path.join(root, 'bad-json');
  saveModel(badJson, imageRewardGraph());
  fs.writeFileSync(path.join(badJson, 'reward.json'), JSON.stringify({ kind: 'dino' }));
  await assert.rejects(loadOnnxReward(badJson), /reward\.json: 'kind' must be "imagereward", "pickscore", "clip", got "dino"/);

  // Wrong input name: the error names the file, what is missing and what the model has.
  const renamed = path.join(root, 'renamed');
  saveModel(renamed, imageRewardGraph({ names: ['image', 'input_ids', 'attention_mask'] }));
  writeBertVocab(renamed);
  fs.writeFileSync(path.join(renamed, 'reward.json'), JSON.stringify({ kind: 'imagereward' }));
  await assert.rejects(loadOnnxReward(renamed), (e: Error) =>
    e.message.startsWith(path.join(renamed, 'model.onnx')) && /missing input pixel_values/.test(e.message) && /this one has inputs image float32 \[2, 3, 224, 224\]/.test(e.message));

  const unknown = path.join(root, 'unknown');
  saveModel(unknown, imageRewardGraph({ output: 'logits' }));
  await assert.rejects(loadOnnxReward(unknown), /cannot tell which kind of reward model this is from its inputs \(pixel_values, input_ids, attention_mask\) and outputs \(logits\)/);

  const gray = path.join(root, 'gray');
  saveModel(gray, imageRewardGraph({ channels: 1 }));
  writeBertVocab(gray);
  await assert.rejects(loadOnnxReward(gray), /pixel_values has shape \[2, 1, 224, 224\], expected \[B, 3, H, W\]/);

  const noVocab = path.join(root, 'no-vocab');
  saveModel(noVocab, imageRewardGraph());
  await assert.rejects(loadOnnxReward(noVocab), /expected vocab\.txt/);

  const noTok = path.join(root, 'clip-no-tokenizer');
  saveModel(noTok, clipGraph());
  await assert.rejects(loadOnnxReward(noTok), /no CLIP tokenizer here.*needs CLIP tokenizer files/);

  const junk = path.join(root, 'junk');
  fs.mkdirSync(junk);
  fs.writeFileSync(path.join(junk, 'model.onnx'), 'not a model at all');
  await assert.rejects(loadOnnxReward(junk), /model\.onnx/);
});

test("loadRewardModel('oracle') wraps the world's oracle", async () => {
  const m = await loadRewardModel('oracle');
  assert.equal(m.name, 'oracle');
  assert.equal(m.embed, undefined);
  const [s] = await m.score(solid(32, 32, [0.5, 0.5, 0.5]), ['a red star']);
  assert.ok(s >= 0 && s <= 1);
});
