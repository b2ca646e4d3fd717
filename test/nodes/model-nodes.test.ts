// LoadCheckpoint, Sample, PriorClassGen, VAEEncode/Decode and SaveLoRA on a random tiny checkpoint: real sessions, real
// files, and the errors users meet (a missing checkpoint, a MODEL without LoRA).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LoadCheckpoint } from '../../src/nodes/load-checkpoint.js';
import { PriorClassGen } from '../../src/nodes/prior-class-gen.js';
import { Sample } from '../../src/nodes/sample.js';
import { SaveLoRA } from '../../src/nodes/save-lora.js';
import { VAEDecode } from '../../src/nodes/vae-decode.js';
import { VAEEncode } from '../../src/nodes/vae-encode.js';
import type { ModelHandle } from '../../src/nodes/common/model.js';
import type { Latent } from '../../src/nodes/common/define-node.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { fakeContext, type TestFolders } from './fake-context.js';
import { runNode } from './run-node.js';
import { tinyModelFolders } from './tiny-checkpoint.js';

let folders: TestFolders;
let model: ModelHandle;
before(async () => {
  ({ folders, model: model } = await tinyModelFolders());
});
after(() => folders.cleanup());

test('LoadCheckpoint lists the embedded model first and explains a missing checkpoint', () => {
  const opts = (LoadCheckpoint.inputs.ckpt_name as { options: (f: TestFolders) => string[] }).options(folders);
  assert.deepEqual(opts, ['embedded', 'tiny']);
  assert.match(LoadCheckpoint.validate!({ ckpt_name: 'nope.safetensors' }, folders) ?? '', /checkpoint not found: nope\.safetensors/);
  assert.match(LoadCheckpoint.validate!({ ckpt_name: '../../etc' }, folders) ?? '', /leaves the checkpoints folder/);
});

test('Sample: images per prompt, seeds per image (batching does not change an image)', async () => {
  const ctx = fakeContext(folders);
  const run = (prompt: string, per: number, seed: number) =>
    runNode(Sample, { model, prompt, steps: 3, guidance: 3, seed, images_per_prompt: per }, ctx);
  const a = await run('a photo\na cat', 2, 10);
  const img = a.outputs[0] as ImageBatch;
  assert.equal(img.count, 4);
  assert.equal(img.height, 16);
  const latent = (a.outputs[1] as { samples: { shape: number[] } }).samples;
  assert.deepEqual(latent.shape, [4, 4, 4, 4]);
  // image 2 of the first run ("a cat", seed 12) alone:
  const b = await run('a cat', 1, 12);
  const per = 16 * 16 * 3;
  const one = (b.outputs[0] as ImageBatch).data;
  const same = img.data.subarray(2 * per, 3 * per);
  let worst = 0;
  for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(one[i] - same[i]));
  assert.ok(worst < 1e-5, `batch-independent (worst ${worst})`);
  assert.ok(ctx.calls.progress.length > 0 && ctx.calls.previews.length > 0);
  await assert.rejects(run('  \n ', 1, 0), /no prompt given/);
});

test('PriorClassGen keeps its images on disk and reuses them (also when asked for more)', async () => {
  const inputs = { model, class_prompt: 'a cat', count: 3, seed: 5, steps: 2, guidance: 3 };
  const first = await runNode(PriorClassGen, inputs, fakeContext(folders));
  const imgs = first.outputs[0] as ImageBatch;
  assert.equal(imgs.count, 3);
  assert.equal(first.outputs[1], 'a cat');
  const dir = fs.readdirSync(path.join(folders.output, 'class_images'));
  assert.equal(dir.length, 1);
  const ctx2 = fakeContext(folders);
  const again = await runNode(PriorClassGen, { ...inputs, count: 5 }, ctx2);
  assert.equal((again.outputs[0] as ImageBatch).count, 5);
  assert.ok(ctx2.calls.logs.some((l) => /reusing 3 class images/.test(l.message)));
  // The first three are the stored PNGs: the freshly generated images to 8 bits.
  const reused = (again.outputs[0] as ImageBatch).data;
  let worst = 0;
  for (let k = 0; k < imgs.data.length; k++) worst = Math.max(worst, Math.abs(reused[k] - imgs.data[k]));
  assert.ok(worst <= 0.5 / 255 + 1e-6, `reused images match (worst ${worst})`);
});

test('VAEEncode then VAEDecode gives images of the model\'s size', async () => {
  const s = await runNode(Sample, { model, prompt: 'a cat', steps: 2, guidance: 1, images_per_prompt: 2, sampler: 'euler_a' }, fakeContext(folders));
  const lat = (await runNode(VAEEncode, { pixels: s.outputs[0] as ImageBatch, vae: model }, fakeContext(folders))).outputs[0] as Latent;
  assert.deepEqual(lat.samples.shape, [2, 4, 4, 4]);
  const back = (await runNode(VAEDecode, { samples: lat, vae: model }, fakeContext(folders))).outputs[0] as ImageBatch;
  assert.equal(back.count, 2);
  await assert.rejects(runNode(VAEDecode, { samples: { samples: { shape: [1, 3, 4, 4], data: new Float32Array(48), dtype: 'float32' } }, vae: model }, fakeContext(folders)), /expected latents \[B, 4, 4, 4\]/);
});

test('SaveLoRA refuses a MODEL without LoRA', async () => {
  await assert.rejects(runNode(SaveLoRA, { model, filename_prefix: 'loras/x' }, fakeContext(folders)), /carries no LoRA/);
});
