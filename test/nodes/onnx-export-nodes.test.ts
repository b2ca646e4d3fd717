// LoadCheckpoint on an ONNX export (Optimum's layout, test/fixtures/onnx-export) in models/checkpoints: a MODEL that
// Sample, PriorClassGen and the VAE nodes use through the export's own sessions, and that the nodes needing weights
// (DreamBoothTrain, SaveLoRA, ...) refuse with the reason and what to load instead.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DreamBoothTrain } from '../../src/nodes/dreambooth-train.js';
import { LoadCheckpoint } from '../../src/nodes/load-checkpoint.js';
import { Sample } from '../../src/nodes/sample.js';
import { VAEDecode } from '../../src/nodes/vae-decode.js';
import { VAEEncode } from '../../src/nodes/vae-encode.js';
import { type AnyModelHandle, pipelineOf } from '../../src/nodes/common/model.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import type { Latent } from '../../src/nodes/common/define-node.js';
import { fakeContext, makeFolders, type TestFolders } from './fake-context.js';
import { runNode } from './run-node.js';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'onnx-export');
let folders: TestFolders;
let model: AnyModelHandle;

before(async () => {
  folders = await makeFolders();
  fs.cpSync(FIXTURE, path.join(folders.models, 'checkpoints', 'tiny-onnx'), { recursive: true });
  const r = await runNode(LoadCheckpoint, { ckpt_name: 'tiny-onnx', device: 'cpu', threads: 1 }, fakeContext(folders));
  model = r.outputs[0] as AnyModelHandle;
});
after(async () => {
  await pipelineOf(model).release();
  folders.cleanup();
});

test('LoadCheckpoint lists the export and loads it as a MODEL', () => {
  const opts = (LoadCheckpoint.inputs.ckpt_name as { options: (f: TestFolders) => string[] }).options(folders);
  assert.ok(opts.includes('tiny-onnx'));
  assert.equal(LoadCheckpoint.validate!({ ckpt_name: 'tiny-onnx', device: 'cpu' }, folders), undefined);
  assert.equal(model.label, 'tiny-onnx');
});

test('Sample runs on the export: images at its resolution, batch-independent seeds', async () => {
  const ctx = fakeContext(folders);
  const run = (prompt: string, per: number, seed: number) =>
    runNode(Sample, { model, prompt, steps: 3, guidance: 3, seed, images_per_prompt: per }, ctx);
  const a = await run('a photo of a sks dog', 2, 10);
  const img = a.outputs[0] as ImageBatch;
  assert.deepEqual([img.count, img.height, img.width], [2, 64, 64]);
  const b = await run('a photo of a sks dog', 1, 11);
  const per = 64 * 64 * 3;
  const second = img.data.subarray(per, 2 * per);
  const alone = (b.outputs[0] as ImageBatch).data;
  let worst = 0;
  for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(second[i] - alone[i]));
  assert.ok(worst < 1e-4, `image 2 of a batch equals the same seed alone (worst ${worst})`);
  assert.ok(ctx.calls.progress.length > 0);
});

test('VAEEncode then VAEDecode round-trips through the export\'s encoder and decoder', async () => {
  const ctx = fakeContext(folders);
  const img = (await runNode(Sample, { model, prompt: 'a dog', steps: 2, guidance: 1, seed: 1, images_per_prompt: 1 }, ctx)).outputs[0] as ImageBatch;
  const latent = (await runNode(VAEEncode, { pixels: img, vae: model }, ctx)).outputs[0] as Latent;
  assert.deepEqual(latent.samples.shape, [1, 4, 16, 16]);
  const back = (await runNode(VAEDecode, { samples: latent, vae: model }, ctx)).outputs[0] as ImageBatch;
  assert.deepEqual([back.count, back.height, back.width], [1, 64, 64]);
});

test('DreamBoothTrain refuses the export, naming the input and what to load instead', async () => {
  const subject = { count: 1, height: 64, width: 64, channels: 3, data: new Float32Array(64 * 64 * 3).fill(0.5) };
  await assert.rejects(
    runNode(DreamBoothTrain, { model, instance_images: subject, instance_prompt: 'a sks dog', class_prompt: 'a dog', mode: 'lora', steps: 1, learning_rate: 1e-4 }, fakeContext(folders)),
    /input model: tiny-onnx is an ONNX export.*no weights to train.*diffusers folder or \.safetensors/,
  );
});
