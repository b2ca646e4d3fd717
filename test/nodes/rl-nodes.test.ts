// RewardScore, DDPOUpdate and Evaluate on a random tiny checkpoint with a brightness "reward" (the world's judges
// need the embedded model to be meaningful; their own tests are in test/rewards).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DDPOUpdate, rlPromptPool } from '../../src/nodes/ddpo-update.js';
import { Evaluate } from '../../src/nodes/evaluate.js';
import { LoadRewardModel } from '../../src/nodes/load-reward-model.js';
import { RewardScore } from '../../src/nodes/reward-score.js';
import type { ModelHandle } from '../../src/nodes/common/model.js';
import type { RewardHandle } from '../../src/nodes/common/reward.js';
import { buildPromptSet } from '../../src/nodes/prompt-set.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { fakeContext, type TestFolders } from './fake-context.js';
import { runNode } from './run-node.js';
import { tinyModelFolders } from './tiny-checkpoint.js';

let folders: TestFolders;
let base: ModelHandle;
before(async () => {
  ({ folders, model: base } = await tinyModelFolders());
});
after(() => folders.cleanup());

const brightness: RewardHandle = {
  name: 'brightness',
  withIdentifier: true,
  scorer: { score: async (images: ImageBatch) => Array.from({ length: images.count }, (_, i) => {
    const per = images.height * images.width * images.channels;
    let s = 0;
    for (let k = 0; k < per; k++) s += images.data[i * per + k];
    return s / per;
  }) },
  embedder: { embed: async (images: ImageBatch) => Array.from({ length: images.count }, (_, i) => Float32Array.of(Math.cos(i), Math.sin(i))) },
};
const ps = buildPromptSet({ identifier: 'sks', classNoun: 'cat', activities: ['jumping', 'sleeping'], identifierRatio: 0.5 });

test('the RL prompt pool mixes with- and without-identifier prompts at the ratio', () => {
  assert.deepEqual(rlPromptPool(ps), ['a sks cat jumping', 'a sks cat sleeping', 'a cat jumping', 'a cat sleeping']);
  const q = rlPromptPool({ ...ps, identifierRatio: 0.25 });
  assert.equal(q.filter((p) => p.includes('sks')).length / q.length, 0.25);
  assert.ok(rlPromptPool({ ...ps, identifierRatio: 1 }).every((p) => p.includes('sks')));
});

test('RewardScore gives mean and std of per-image scores', async () => {
  const imgs = imageBatch(2, 2, 2, 3, Float32Array.of(...Array(12).fill(0.2), ...Array(12).fill(0.6)));
  const r = await runNode(RewardScore, { images: imgs, reward_model: brightness, prompt: 'a cat' }, fakeContext(folders));
  assert.ok(Math.abs((r.outputs[0] as number) - 0.4) < 1e-6);
  assert.ok(Math.abs((r.outputs[1] as number) - 0.2) < 1e-6);
  await assert.rejects(runNode(RewardScore, { images: imgs, reward_model: brightness, prompt: 'a\nb\nc' }, fakeContext(folders)), /3 prompts for 2 images/);
});

test('DDPOUpdate trains a LoRA with live reward metrics and a reward curve; a rerun resumes', async () => {
  const inputs = { model: base, reward_model: brightness, prompts: ps, epochs: 2, samples_per_epoch: 4, sample_batch: 4, steps: 3, guidance: 3, train_batch: 2, learning_rate: 1e-2, seed: 3 };
  const ctx = fakeContext(folders);
  const r = await runNode(DDPOUpdate, inputs, ctx);
  const m = r.outputs[0] as ModelHandle;
  assert.ok(m.lora && m.lora.weights.size > 0);
  assert.deepEqual(ctx.calls.metrics.map((c) => c.step), [1, 2]);
  assert.ok(['reward_mean', 'reward_std', 'loss'].every((k) => k in ctx.calls.metrics[0].values));
  assert.equal(ctx.calls.previews.length, 2);
  assert.ok((r.outputs[1] as ImageBatch).width > 100);
  assert.equal(JSON.parse(r.outputs[2] as string).length, 2);
  const ctx2 = fakeContext(folders);
  const again = await runNode(DDPOUpdate, inputs, ctx2);
  assert.ok(ctx2.calls.logs.some((l) => /resumed from the checkpoint after epoch 2/.test(l.message)));
  for (const [k, t] of m.lora!.weights) assert.deepEqual((again.outputs[0] as ModelHandle).lora!.weights.get(k)!.data, t.data);
  // prompt_sampling reaches the trainer: prompts drawn in turn are another run, which does not resume this one.
  const ctx3 = fakeContext(folders);
  await runNode(DDPOUpdate, { ...inputs, prompt_sampling: 'round-robin' }, ctx3);
  assert.equal(ctx3.calls.metrics.length, 2);
  assert.ok(!ctx3.calls.logs.some((l) => /resumed/.test(l.message)));
  // lora_targets reaches it too: a cross-attention adapter is another run, with adapters on attn2 layers only.
  const ctx4 = fakeContext(folders);
  const cross = await runNode(DDPOUpdate, { ...inputs, epochs: 1, lora_targets: 'cross-attention' }, ctx4);
  const names = [...(cross.outputs[0] as ModelHandle).lora!.weights.keys()];
  assert.ok(names.length > 0 && names.length < m.lora!.weights.size && names.every((n) => n.includes('.attn2.')), names.join(', '));
  assert.ok(!ctx4.calls.logs.some((l) => /resumed/.test(l.message)));
});

test('DDPOUpdate gives a judge that never learned the identifier (CLIP-T style) the prompts without it', async () => {
  const prompts: string[] = [];
  const clipLike: RewardHandle = { ...brightness, name: 'clip-like', withIdentifier: false,
    scorer: { score: async (images: ImageBatch, p: string[]) => (prompts.push(...p), brightness.scorer.score(images, p)) } };
  await runNode(DDPOUpdate, { model: base, reward_model: clipLike, prompts: ps, epochs: 1, samples_per_epoch: 4, sample_batch: 4, steps: 3, guidance: 3, train_batch: 2,
    learning_rate: 1e-2, seed: 3, prompt_sampling: 'round-robin' }, fakeContext(folders));
  assert.deepEqual([...new Set(prompts)].sort(), ['a cat jumping', 'a cat sleeping']);
});

test('Evaluate writes a table with text and subject fidelity', async () => {
  const refs = imageBatch(2, 16, 16, 3, new Float32Array(2 * 16 * 16 * 3).fill(0.5));
  const r = await runNode(Evaluate, {
    model: base, prompts: ps, judge: brightness, prompt_set: 'actions', images_per_prompt: 1, seed: 0, steps: 2, guidance: 3, label: 'tiny', references: refs,
  }, fakeContext(folders));
  assert.match(r.outputs[1] as string, /brightness/);
  assert.ok(Number.isFinite(r.outputs[2] as number));
  assert.ok(Number.isFinite(r.outputs[3] as number));
  assert.ok((r.outputs[0] as ImageBatch).count === 1);
});

test('LoadRewardModel: the oracle needs no files; an unknown folder is refused', async () => {
  const r = (await runNode(LoadRewardModel, { reward_model: 'oracle', device: 'cpu' }, fakeContext(folders))).outputs[0] as RewardHandle;
  assert.equal(r.name, 'oracle');
  assert.equal(r.withIdentifier, true);
  assert.match(LoadRewardModel.validate!({ reward_model: 'nope' }, folders) ?? '', /reward model not found: nope/);
});
