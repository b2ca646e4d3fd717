// SaveLoRA -> LoadLoRA round trip (kohya and PEFT), LoRA strength, stacking by merging, and SaveCheckpoint's diffusers
// folder loading back through LoadCheckpoint with the LoRA baked in.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LoadCheckpoint } from '../../src/nodes/load-checkpoint.js';
import { LoadLoRA } from '../../src/nodes/load-lora.js';
import { Sample } from '../../src/nodes/sample.js';
import { SaveCheckpoint } from '../../src/nodes/save-checkpoint.js';
import { SaveLoRA } from '../../src/nodes/save-lora.js';
import type { ModelHandle } from '../../src/nodes/common/model.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { freshLora } from '../../src/runtime/training/lora-init.js';
import { fakeContext, type TestFolders } from './fake-context.js';
import { runNode } from './run-node.js';
import { tinyModelFolders } from './tiny-checkpoint.js';

let folders: TestFolders;
let base: ModelHandle;
let withLora: ModelHandle;
before(async () => {
  ({ folders, model: base } = await tinyModelFolders());
  // A trained-looking adapter: random up weights too (a fresh one has up = 0 and changes nothing).
  const lora = freshLora(base.model.unet.config, { rank: 2, seed: 1 });
  const rng = new Rng(2);
  for (const [k, t] of lora.weights) if (k.endsWith('lora_up.weight')) rng.fillNormal(t.data as Float32Array).forEach((_, i, a) => (a[i] *= 0.5));
  withLora = { ...base, lora, loraStrength: 1, id: `${base.id}+test`, label: 'tiny + test lora' };
});
after(() => folders.cleanup());

const sample = async (model: ModelHandle, strength = 1) =>
  ((await runNode(Sample, { model, prompt: 'a cat', steps: 2, guidance: 3, seed: 4, images_per_prompt: 2, lora_strength: strength }, fakeContext(folders))).outputs[0] as ImageBatch).data;
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

for (const format of ['kohya', 'peft'] as const) {
  test(`SaveLoRA (${format}) then LoadLoRA gives the same images`, async () => {
    const saved = await runNode(SaveLoRA, { model: withLora, filename_prefix: `loras/test-${format}`, format, dtype: 'float32' }, fakeContext(folders));
    const file = saved.outputs[0] as string;
    const name = `${path.relative(path.join(folders.output, 'loras'), file)} [output]`;
    const opts = (LoadLoRA.inputs.lora_name as { options: (f: TestFolders) => string[] }).options(folders);
    assert.ok(opts.includes(name), `${name} listed in ${opts}`);
    const loaded = (await runNode(LoadLoRA, { model: base, lora_name: name }, fakeContext(folders))).outputs[0] as ModelHandle;
    assert.ok(maxDiff(await sample(loaded), await sample(withLora)) < 1e-5);
    assert.ok(maxDiff(await sample(loaded), await sample(base)) > 1e-3, 'the LoRA changes the images');
  });
}

test('LoRA strength 0 gives the base model; a second LoRA stacks on the merged first', async () => {
  assert.ok(maxDiff(await sample(withLora, 0), await sample(base)) < 1e-5);
  await runNode(SaveLoRA, { model: withLora, filename_prefix: 'loras/stack', dtype: 'float32' }, fakeContext(folders));
  const twice = (await runNode(LoadLoRA, { model: withLora, lora_name: 'stack_00001_.safetensors [output]', strength: 1 }, fakeContext(folders))).outputs[0] as ModelHandle;
  // Two copies of the same adapter at strength 1 each = the adapter at strength 2.
  assert.ok(maxDiff(await sample(twice), await sample(withLora, 2)) < 1e-4);
  assert.match(LoadLoRA.validate!({ lora_name: 'missing.safetensors' }, folders) ?? '', /LoRA file not found/);
});

test('SaveCheckpoint writes a diffusers folder with the LoRA merged; single-file refuses non-SD1.5 shapes', async () => {
  const saved = await runNode(SaveCheckpoint, { model: withLora, filename_prefix: 'checkpoints/merged', format: 'diffusers' }, fakeContext(folders));
  const dir = saved.outputs[0] as string;
  const cp = path.join(folders.models, 'checkpoints', 'merged');
  (await import('node:fs')).cpSync(dir, cp, { recursive: true });
  const back = (await runNode(LoadCheckpoint, { ckpt_name: 'merged', device: 'cpu', threads: 1 }, fakeContext(folders))).outputs[0] as ModelHandle;
  assert.equal(back.lora, undefined);
  assert.ok(maxDiff(await sample(back), await sample(withLora)) < 1e-4);
  await assert.rejects(runNode(SaveCheckpoint, { model: base, filename_prefix: 'checkpoints/x', format: 'single-file' }, fakeContext(folders)), /not SD1\.5-sized/);
});
