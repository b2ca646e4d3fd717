// DreamBooth on a micro random model (16x16 images, 4x4 latents): it learns, LoRA trains only adapters, prior
// preservation adds the class loss, and runs resume from checkpoints bit-identically (and never from another run's).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { imageBatch, type ImageBatch } from '../../src/runtime/engine/image.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { clipTextTiny } from '../../src/runtime/models/clip-text.js';
import { TINY_UNET, TINY_VAE } from '../../src/runtime/models/configs.js';
import { randomSdModel } from '../../src/runtime/models/random-model.js';
import { type DreamBoothOptions, type DreamBoothStep, trainDreamBooth } from '../../src/runtime/training/dreambooth.js';
import { freshLora } from '../../src/runtime/training/lora-init.js';

const tokenizer = ClipTokenizer.fromFolder(path.join(import.meta.dirname, '../fixtures/clip-tiny/tokenizer'));
const text = clipTextTiny(tokenizer.vocabSize);
// Two UNet levels, one resnet each: the smallest model that still has self- and cross-attention (fast sessions).
const model = randomSdModel({
  unet: {
    ...TINY_UNET, blockOutChannels: [8, 16], layersPerBlock: 1, attentionHeads: 2, crossAttentionDim: text.width,
    downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'],
  },
  vae: TINY_VAE, text, tokenizer, resolution: 16, seed: 3,
});

/** Smooth patterns (a random VAE saturates on noise), 20x24: resized to 16x19 and cropped. */
function pattern(count: number, phase: number): ImageBatch {
  const b = imageBatch(count, 20, 24, 3);
  for (let i = 0; i < b.data.length; i++) b.data[i] = 0.5 + 0.4 * Math.sin(i * 0.37 + phase * (1 + (i % 3)));
  return b;
}
const instanceImages = pattern(2, 0);
const classImages = pattern(3, 1.3);
const base: DreamBoothOptions = { instancePrompt: 'a sks dog', instanceImages, steps: 6, lr: 3e-3, sessionOptions: { threads: 1 } };

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const maxDiff = (a: Map<string, HostTensor>, b: Map<string, HostTensor>) => {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let m = 0;
  for (const [k, t] of a) {
    const u = b.get(k)!.data as Float32Array;
    (t.data as Float32Array).forEach((v, i) => (m = Math.max(m, Math.abs(v - u[i]))));
  }
  return m;
};
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ib-dreambooth-'));

test('full fine-tuning lowers the loss on the same (image, timestep, noise) draws', async () => {
  const one = { ...base, instanceImages: pattern(1, 0), steps: 30, randomFlip: true };
  const trained = await trainDreamBooth(model, one);
  const frozen = await trainDreamBooth(model, { ...one, lr: 0 });
  assert.equal(trained.losses.length, 30);
  // Per-step randomness depends on (seed, step) only: both runs see the same draws, so step 1 (same weights) agrees.
  assert.equal(trained.losses[0], frozen.losses[0]);
  const [t, f] = [mean(trained.losses.slice(-10)), mean(frozen.losses.slice(-10))];
  assert.ok(t < 0.9 * f, `last 10 steps: trained loss ${t.toFixed(3)} vs untrained ${f.toFixed(3)}`);
  assert.ok(trained.unetWeights && !trained.lora);
  assert.equal(trained.unetWeights.size, model.unet.weights.size);
});

test('LoRA mode trains only the adapters', async () => {
  const before = new Map([...model.unet.weights].map(([k, t]) => [k, { ...t, data: (t.data as Float32Array).slice() }]));
  const r = await trainDreamBooth(model, { ...base, mode: 'lora', loraRank: 2, lr: 1e-2, steps: 8 });
  assert.equal(r.unetWeights, undefined);
  assert.equal(maxDiff(model.unet.weights, before), 0, 'base weights untouched');
  const fresh = freshLora(model.unet.config, { rank: 2 });
  const lora = r.lora!;
  assert.deepEqual([lora.rank, lora.alpha], [2, 2]);
  assert.deepEqual([...lora.weights.keys()].sort(), [...fresh.weights.keys()].sort());
  assert.ok([...lora.weights.keys()].some((k) => k.includes('.attn2.to_k.')), 'cross-attention adapted');
  for (const [k, t] of lora.weights) {
    assert.deepEqual(t.shape, fresh.weights.get(k)!.shape, k);
    if (k.endsWith('lora_up.weight')) assert.ok((t.data as Float32Array).some((v) => v !== 0), `${k} trained away from 0`);
  }
});

test('prior preservation adds the class loss, weighted; weight 0 turns it off', async () => {
  const steps: DreamBoothStep[][] = [[], []];
  const opts = { ...base, steps: 4, classPrompt: 'a dog', classImages, lrSchedule: 'cosine' as const, warmupSteps: 2 };
  const off = await trainDreamBooth(model, { ...opts, priorLossWeight: 0, onStep: (s) => steps[0].push(s) });
  const on = await trainDreamBooth(model, { ...opts, priorLossWeight: 0.5, onStep: (s) => steps[1].push(s) });
  assert.ok(steps[0].every((s) => s.priorLoss === undefined && Math.abs(s.loss - s.instanceLoss) < 1e-6));
  assert.ok(steps[1].every((s) => s.priorLoss !== undefined && s.priorLoss > 0));
  for (const s of steps[1]) assert.ok(Math.abs(s.loss - (s.instanceLoss + 0.5 * s.priorLoss!)) < 1e-5, 'loss = instance + w * prior');
  assert.notDeepEqual(off.losses, on.losses);
  assert.deepEqual(steps[1].map((s) => s.step), [1, 2, 3, 4]);
  assert.deepEqual(steps[1].map((s) => s.lr), [0, 1.5e-3, 3e-3, 1.5e-3], 'warmup, then half a cosine');
  assert.ok(maxDiff(off.unetWeights!, on.unetWeights!) > 0);
});

test('a crashed run resumes from its checkpoint and ends where an uninterrupted run ends', async () => {
  const dir = tmpDir();
  const opts = { ...base, steps: 7, classPrompt: 'a dog', classImages, batchSize: 2, checkpointEvery: 3, checkpointDir: dir };
  const whole = await trainDreamBooth(model, { ...opts, checkpointDir: undefined });
  await assert.rejects(trainDreamBooth(model, { ...opts, onStep: (s) => { if (s.step === 5) throw new Error('simulated crash'); } }), /simulated crash/);
  assert.deepEqual(fs.readdirSync(dir), ['step-3.safetensors']);
  const resumed = await trainDreamBooth(model, opts);
  assert.equal(resumed.resumedFrom, 3);
  assert.ok(maxDiff(resumed.unetWeights!, whole.unetWeights!) <= 1e-6);
  assert.deepEqual(resumed.losses, whole.losses);
  assert.deepEqual(fs.readdirSync(dir), ['step-7.safetensors'], 'the final checkpoint stays');
  // Finished: a rerun returns the result at once.
  const t0 = performance.now();
  const again = await trainDreamBooth(model, opts);
  assert.equal(again.resumedFrom, 7);
  assert.ok(maxDiff(again.unetWeights!, whole.unetWeights!) <= 1e-6);
  assert.deepEqual(again.losses, whole.losses);
  assert.ok(performance.now() - t0 < 1500, 'no training sessions built');
  fs.rmSync(dir, { recursive: true });
});

test('an aborted LoRA run checkpoints and resumes; another run never resumes from it', async () => {
  const dir = tmpDir();
  const opts: DreamBoothOptions = { ...base, mode: 'lora', lr: 1e-2, steps: 6, checkpointDir: dir, checkpointEvery: 100 };
  const whole = await trainDreamBooth(model, { ...opts, checkpointDir: undefined });
  const ac = new AbortController();
  await assert.rejects(trainDreamBooth(model, { ...opts, signal: ac.signal, onStep: (s) => { if (s.step === 4) ac.abort(); } }), { name: 'AbortError' });
  assert.deepEqual(fs.readdirSync(dir), ['step-4.safetensors'], 'checkpoint written on abort');
  const resumed = await trainDreamBooth(model, opts);
  assert.equal(resumed.resumedFrom, 4);
  assert.ok(maxDiff(resumed.lora!.weights, whole.lora!.weights) <= 1e-6);

  // Different settings, or different images (same step count, so only the fingerprint keeps them apart): a fresh
  // start, the same as without any checkpoint.
  const other = await trainDreamBooth(model, { ...opts, seed: 5 });
  assert.equal(other.resumedFrom, undefined);
  const plain = await trainDreamBooth(model, { ...opts, seed: 5, checkpointDir: undefined });
  assert.deepEqual(other.losses, plain.losses);
  assert.deepEqual(fs.readdirSync(dir), ['step-6.safetensors']);
  const changed = pattern(2, 0);
  changed.data[0] += 0.01;
  const otherImages = await trainDreamBooth(model, { ...opts, seed: 5, instanceImages: changed });
  assert.equal(otherImages.resumedFrom, undefined);
  assert.notDeepEqual(otherImages.losses, other.losses);
  fs.rmSync(dir, { recursive: true });
});
