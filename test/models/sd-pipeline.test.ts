// The model glue end to end on a random tiny model: saved as a diffusers folder, loaded back identical, and sampled
// through text encoder, UNet (with and without LoRA) and VAE with seeded, batch-independent results.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { clipTextTiny } from '../../src/runtime/models/clip-text.js';
import { TINY_UNET, TINY_VAE } from '../../src/runtime/models/configs.js';
import { randomSdModel } from '../../src/runtime/models/random-model.js';
import { loadSdModel, saveSdModelFolder } from '../../src/runtime/models/sd-model.js';
import { SdPipeline } from '../../src/runtime/models/sd-pipeline.js';

const tokDir = path.join(import.meta.dirname, '../fixtures/clip-tiny/tokenizer');

function tinyModel() {
  const tokenizer = ClipTokenizer.fromFolder(tokDir);
  const text = clipTextTiny(tokenizer.vocabSize);
  return randomSdModel({ unet: { ...TINY_UNET, crossAttentionDim: text.width }, vae: TINY_VAE, text, tokenizer, resolution: 16, seed: 3 });
}

test('a model saved as a diffusers folder loads back identical', () => {
  const m = tinyModel();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-sd-'));
  saveSdModelFolder(dir, m, tokDir);
  const back = loadSdModel(dir);
  assert.deepEqual(back.unet.config, m.unet.config);
  assert.deepEqual(back.vae.config, m.vae.config);
  assert.deepEqual(back.textEncoder.config, m.textEncoder.config);
  assert.equal(back.resolution, 16);
  for (const part of ['unet', 'vae', 'textEncoder'] as const) {
    assert.equal(back[part].weights.size, m[part].weights.size);
    for (const [k, v] of m[part].weights) assert.deepEqual(back[part].weights.get(k)!.data, v.data, k);
  }
  fs.rmSync(dir, { recursive: true });
});

test('sampling is seeded per sample, LoRA strength 0 equals no LoRA', async () => {
  const m = tinyModel();
  const p = new SdPipeline(m, undefined, { threads: 1 });
  const req = { steps: 4, guidance: 3, scheduler: 'ddim' as const, eta: 1 };
  const two = await p.sample({ ...req, prompts: ['a cat', 'a dog'], seeds: [11, 12] });
  assert.deepEqual([two.images.count, two.images.height, two.images.width, two.images.channels], [2, 16, 16, 3]);
  const alone = await p.sample({ ...req, prompts: ['a cat'], seeds: [11] });
  const per = 16 * 16 * 3;
  assert.deepEqual(alone.images.data, two.images.data.subarray(0, per), 'sample 0 does not depend on the rest of the batch');
  assert.ok(two.images.data.every((v) => v >= 0 && v <= 1));

  // An adapter with nonzero up weights changes the result unless its strength is 0. (Not constant weights: the
  // projections read layer-normed features, whose sum is zero.)
  const wave = (n: number) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(1.7 * i + 0.5));
  const loraWeights = new Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>();
  for (const [name, w] of m.unet.weights) {
    const mm = /^(.*\.attn[12]\.(to_q|to_v))\.weight$/.exec(name);
    if (!mm) continue;
    const [out, inF] = w.shape;
    loraWeights.set(`${mm[1]}.lora_down.weight`, { dtype: 'float32', shape: [2, inF], data: wave(2 * inF) });
    loraWeights.set(`${mm[1]}.lora_up.weight`, { dtype: 'float32', shape: [out, 2], data: wave(out * 2) });
  }
  const lp = new SdPipeline(m, { rank: 2, alpha: 2, weights: loraWeights }, { threads: 1 });
  const off = await lp.sample({ ...req, prompts: ['a cat'], seeds: [11], loraStrength: 0 });
  const on = await lp.sample({ ...req, prompts: ['a cat'], seeds: [11], loraStrength: 1 });
  // Compared on latents: a random VAE may saturate the pixels.
  const base = alone.latents.data as Float32Array;
  const offDiff = (off.latents.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - base[i])), 0);
  assert.ok(offDiff < 1e-4, `strength 0 differs from no LoRA by ${offDiff}`);
  assert.ok((on.latents.data as Float32Array).some((v, i) => Math.abs(v - base[i]) > 1e-3));
  await p.release();
  await lp.release();
});
