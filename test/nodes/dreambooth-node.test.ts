// DreamBoothTrain on a random tiny checkpoint: both modes train and report live loss; an interrupted run resumes from
// its checkpoint and ends where an uninterrupted one ends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DreamBoothTrain } from '../../src/nodes/dreambooth-train.js';
import type { ModelHandle } from '../../src/nodes/common/model.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { InterruptedError } from '../../src/runtime/graph/node-api.js';
import { fakeContext, makeFolders, type TestFolders } from './fake-context.js';
import { type GivenTo, runNode } from './run-node.js';
import { tinyModelFolders } from './tiny-checkpoint.js';

let folders: TestFolders;
let base: ModelHandle;
before(async () => {
  ({ folders, model: base } = await tinyModelFolders());
});
after(() => folders.cleanup());

const images = (n: number, v: number) => imageBatch(n, 16, 16, 3, new Float32Array(n * 16 * 16 * 3).map((_, i) => (i % 7 === 0 ? v : 1 - v)));
type Given = GivenTo<typeof DreamBoothTrain>;
// The rest of the inputs at the schema's defaults (runNode).
const inputs = (o: Partial<Given> = {}): Given => ({
  model: base, instance_images: images(2, 0.9), class_images: images(2, 0.2), instance_prompt: 'a sks cat', class_prompt: 'a cat',
  mode: 'lora', steps: 4, learning_rate: 1e-3, lora_rank: 2, seed: 1, checkpoint_every: 2, ...o,
});

test('LoRA mode gives a MODEL with an adapter; metrics carry instance and prior loss', async () => {
  const ctx = fakeContext(folders);
  const r = await runNode(DreamBoothTrain, inputs(), ctx);
  const m = r.outputs[0] as ModelHandle;
  assert.ok(m.lora && m.lora.weights.size > 0);
  assert.equal(m.model.unet.weights, base.model.unet.weights, 'base weights untouched');
  assert.notEqual(m.id, base.id);
  assert.equal(ctx.calls.metrics.length, 4);
  assert.ok(['loss', 'instance_loss', 'prior_loss', 'lr'].every((k) => k in ctx.calls.metrics[0].values));
  assert.ok(Number.isFinite(r.outputs[1] as number));
});

test('full mode replaces the UNet weights', async () => {
  const r = await runNode(DreamBoothTrain, inputs({ mode: 'full', steps: 2, learning_rate: 1e-4, prior_loss_weight: 0 }), fakeContext(folders));
  const m = r.outputs[0] as ModelHandle;
  assert.equal(m.lora, undefined);
  assert.notEqual(m.model.unet.weights, base.model.unet.weights);
});

test('an interrupted run resumes from its checkpoint and ends as an uninterrupted one', async () => {
  const o = inputs({ steps: 6, seed: 7 });
  const ctx = fakeContext(folders);
  const orig = ctx.progress;
  ctx.progress = (v, max, text) => {
    orig(v, max, text);
    if (v === 3) ctx.abort();
  };
  await assert.rejects(runNode(DreamBoothTrain, o, ctx), (e: Error) => e instanceof InterruptedError || e.name === 'AbortError');
  const ctx2 = fakeContext(folders);
  const resumed = (await runNode(DreamBoothTrain, o, ctx2)).outputs[0] as ModelHandle;
  assert.ok(ctx2.calls.logs.some((l) => /resumed from the checkpoint at step 3/.test(l.message)), JSON.stringify(ctx2.calls.logs));
  // A fresh run of the same settings elsewhere: same output folder key, so clear it by changing nothing but the folder.
  const other = await makeFolders();
  try {
    const full = (await runNode(DreamBoothTrain, o, fakeContext(other))).outputs[0] as ModelHandle;
    for (const [k, t] of full.lora!.weights) {
      const a = t.data as Float32Array, b = resumed.lora!.weights.get(k)!.data as Float32Array;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `${k}[${i}]`);
    }
  } finally {
    await other.cleanup();
  }
});
