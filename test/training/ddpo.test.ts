// DDPO end to end on a tiny random Stable Diffusion: the sampler's recorded log-probs are the training graph's (the
// classic DDPO correctness check: ratio 1 before any update), a brightness reward moves images the way it should (and
// its negation the other way), and a run aborted after a checkpoint resumes to exactly the uninterrupted result.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { f32, type HostTensor } from '../../src/runtime/onnx/tensor.js';
import { clipTextTiny } from '../../src/runtime/models/clip-text.js';
import { TINY_UNET, TINY_VAE } from '../../src/runtime/models/configs.js';
import { randomSdModel } from '../../src/runtime/models/random-model.js';
import { LORA_TARGETS, type LoraWeights, SdPipeline } from '../../src/runtime/models/sd-pipeline.js';
import type { AlignmentScorer } from '../../src/runtime/rewards/types.js';
import { CheckpointStore } from '../../src/runtime/training/checkpoint-store.js';
import { type DdpoLossConfig, ddpoFeeds, ddpoTrainingGraph } from '../../src/runtime/training/ddpo-loss.js';
import { type DdpoOptions, type EpochStats, trainDdpo } from '../../src/runtime/training/ddpo.js';

const tokDir = path.join(import.meta.dirname, '../fixtures/clip-tiny/tokenizer');
const tokenizer = ClipTokenizer.fromFolder(tokDir);
const text = clipTextTiny(tokenizer.vocabSize);
const model = randomSdModel({ unet: { ...TINY_UNET, crossAttentionDim: text.width }, vae: TINY_VAE, text, tokenizer, resolution: 16, seed: 3 });
// One thread (a training run may share the machine); graphs run as written, which spares seconds of session setup.
const ONE_THREAD = { threads: 1, optimization: 'disabled' as const };

function brightness(im: ImageBatch): number[] {
  const per = im.height * im.width * im.channels;
  return Array.from({ length: im.count }, (_, i) => {
    let s = 0;
    for (let k = i * per; k < (i + 1) * per; k++) s += im.data[k];
    return s / per;
  });
}
const brighter: AlignmentScorer = { score: async (im) => brightness(im) };
const darker: AlignmentScorer = { score: async (im) => brightness(im).map((b) => -b) };
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

test('the log-probs the sampler records equal the training graph\'s for the same adapter, also after in-place updates', async () => {
  const B = 2, STEPS = 4, GUIDANCE = 3;
  const c: DdpoLossConfig = { batch: B, latentShape: [4, 4, 4], contextShape: [77, text.width], guidance: GUIDANCE, clipRange: 1e-4 };
  // An adapter with nonzero up weights, from the training graph's own build.
  const rng = new Rng(12);
  const tg = ddpoTrainingGraph(model.unet, {
    rank: 2, alpha: 2, targets: (p) => LORA_TARGETS.test(p),
    params: { tensor: (_n, shape) => f32(shape, rng.fillNormal(new Float32Array(shape.reduce((a, d) => a * d, 1)), 0.3)) },
  }, c);
  const adapter: LoraWeights = { rank: 2, alpha: 2, weights: tg.initial };
  const pipeline = new SdPipeline(model, adapter, ONE_THREAD, { loraAsInputs: true });
  const session = await Session.fromGraph(tg.graph, ONE_THREAD);
  const req = { prompts: ['a cat', 'a red dog'], seeds: [5, 6], steps: STEPS, guidance: GUIDANCE, scheduler: 'ddim' as const, eta: 1, recordTrajectory: true };

  const check = async (label: string) => {
    const out = await pipeline.sample(req);
    const trs = out.trajectories!;
    const per = 64, ctx = 77 * text.width;
    let worst = 0;
    for (const steps of [[0, 0], [1, 3], [3, 2], [2, 1]]) {
      const feeds: Record<string, HostTensor> = ddpoFeeds(pipeline.schedule, c, {
        xt: trs.map((tr, i) => (tr.latents.data as Float32Array).subarray(steps[i] * per, (steps[i] + 1) * per)),
        next: trs.map((tr, i) => (tr.nextLatents.data as Float32Array).subarray(steps[i] * per, (steps[i] + 1) * per)),
        timesteps: trs.map((tr, i) => tr.timesteps[steps[i]]), prevTimesteps: trs.map((tr, i) => tr.prevTimesteps[steps[i]]),
        cond: [0, 1].map((i) => (out.cond.data as Float32Array).subarray(i * ctx, (i + 1) * ctx)), uncond: [out.uncond.data as Float32Array],
        oldLogp: trs.map((tr, i) => tr.logProbs[steps[i]]), advantages: [1, -1],
      }, 1);
      feeds[tg.seed] = f32([], [1]);
      for (const p of tg.params) feeds[p] = tg.initial.get(p)!;
      const r = await session.run(feeds, ['logp', 'ratio', 'loss']);
      const logp = r.logp.data as Float32Array;
      trs.forEach((tr, i) => (worst = Math.max(worst, Math.abs(logp[i] - tr.logProbs[steps[i]]))));
      assert.ok(Math.abs((r.loss.data[0] as number) - 0) < 1e-4, `${label}: loss at ratio 1 is -mean(A) = 0`);
    }
    assert.ok(worst < 1e-4, `${label}: |logp_train - logp_sampled| up to ${worst}`);
    return out.latents.data as Float32Array;
  };
  const before = await check('initial adapter');
  // The trainer updates its parameters in place: the same pipeline must sample with the new values.
  for (const [n, t] of tg.initial) if (n.endsWith('lora_up.weight')) (t.data as Float32Array).forEach((v, k, a) => (a[k] = 2 * v + 0.05));
  const after = await check('updated adapter');
  assert.ok(after.some((v, k) => Math.abs(v - before[k]) > 1e-3), 'the update changed the samples');
  const copy = new Map([...tg.initial].map(([n, t]) => [n, f32([...t.shape], Float32Array.from(t.data as Float32Array))]));
  const baked = new SdPipeline(model, { rank: 2, alpha: 2, weights: copy }, ONE_THREAD);
  const ref = (await baked.sample(req)).latents.data as Float32Array;
  const diff = ref.reduce((m, v, k) => Math.max(m, Math.abs(v - after[k])), 0);
  assert.ok(diff < 1e-5, `adapter as inputs vs as initializers: ${diff}`);
  await Promise.all([pipeline.release(), baked.release(), session.release()]);
});

test('a brightness reward brightens the images at fixed seeds; its negation darkens them', async () => {
  // Policy-gradient signal: most of a sample's brightness is fixed by its initial noise, which the policy does not
  // choose; 10 steps of eta-1 noise and 64 samples an update make the estimate point uphill reliably (checked over
  // seeds: with 3 steps or 8-16 samples the first sign-like Adam step goes either way).
  const STEPS = 10;
  const evalSeeds = Array.from({ length: 8 }, (_, i) => 1000 + i);
  const sampleReq = { prompts: evalSeeds.map(() => 'a cat'), seeds: evalSeeds, steps: STEPS, guidance: 3, scheduler: 'ddim' as const, eta: 1 };
  const basePipe = new SdPipeline(model, undefined, ONE_THREAD);
  const base = brightness((await basePipe.sample(sampleReq)).images);
  await basePipe.release();
  const run = async (reward: AlignmentScorer) => {
    const t0 = performance.now();
    const res = await trainDdpo(model, {
      prompts: ['a cat', 'a dog'], reward, epochs: 4, samplesPerEpoch: 64, sampleBatch: 64, steps: STEPS, guidance: 3, trainBatch: 32,
      timestepFraction: 0.3, lr: 0.02, perPromptStats: false, seed: 1, sessionOptions: ONE_THREAD,
    });
    const seconds = (performance.now() - t0) / 1000;
    for (const e of res.history) assert.ok(e.logpMismatch < 1e-4, `epoch ${e.epoch}: sampled vs trained logp differ by ${e.logpMismatch}`);
    assert.deepEqual(res.history.map((e) => e.updates), [1, 1, 1, 1]);
    const p = new SdPipeline(model, res.lora, ONE_THREAD);
    const b = brightness((await p.sample(sampleReq)).images);
    await p.release();
    const later = res.history.slice(1);
    console.log(`# ${res.history.length} epochs of 64 samples in ${seconds.toFixed(1)} s; per epoch after the first: sample ${mean(later.map((e) => e.sampleSeconds)).toFixed(2)} s, train ${mean(later.map((e) => e.trainSeconds)).toFixed(2)} s`);
    return b.map((x, i) => x - base[i]);
  };
  const up = await run(brighter);
  assert.ok(up.every((d) => d > 0) && mean(up) > 0.0015, `brightness changes ${up.map((d) => d.toFixed(4))}`);
  const down = await run(darker);
  assert.ok(down.every((d) => d < 0) && mean(down) < -0.0015, `brightness changes ${down.map((d) => d.toFixed(4))}`);
});

test('a run aborted after a checkpoint resumes to exactly the uninterrupted result (KL term on)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-ddpo-'));
  const opts = (dir: string): DdpoOptions => ({
    prompts: ['a cat', 'a dog', 'a red cat'], promptSampling: 'round-robin', reward: brighter, epochs: 3, samplesPerEpoch: 4, sampleBatch: 2, steps: 3, guidance: 3,
    trainBatch: 2, gradAccumulation: 1, timestepFraction: 0.67, perPromptStats: { bufferSize: 4, minCount: 2 }, lr: 3e-2, klWeight: 0.5,
    seed: 7, checkpointDir: path.join(root, dir), sessionOptions: ONE_THREAD,
  });
  const strip = (h: EpochStats[]) => h.map(({ sampleSeconds: _s, trainSeconds: _t, ...rest }) => rest);
  const whole = await trainDdpo(model, opts('a'));
  assert.equal(whole.resumedFrom, undefined);
  assert.equal(whole.history.length, 3);
  // Two updates per epoch; trainT = floor(3 * 0.67) = 2 runs per minibatch.
  assert.deepEqual(whole.history.map((e) => e.updates), [2, 2, 2]);
  assert.ok(whole.history.every((e) => e.kl! > 0 && e.kl! < 1), `kl ${whole.history.map((e) => e.kl)}`);
  // Round robin over 3 prompts with 4 samples an epoch: every epoch covers the whole pool.
  assert.deepEqual(Object.keys(whole.history[1].perPrompt!).sort(), ['a cat', 'a dog', 'a red cat']);

  const ac = new AbortController();
  await assert.rejects(trainDdpo(model, { ...opts('b'), signal: ac.signal, onEpoch: (e) => e.epoch === 2 && ac.abort() }), { name: 'AbortError' });
  const store = new CheckpointStore(fs.readdirSync(path.join(root, 'b')).map((d) => path.join(root, 'b', d))[0]);
  assert.deepEqual(store.steps(), [1, 2]);
  let epochsRun = 0;
  const resumed = await trainDdpo(model, { ...opts('b'), onEpoch: () => epochsRun++ });
  assert.equal(resumed.resumedFrom, 2);
  assert.equal(epochsRun, 1);
  assert.deepEqual(strip(resumed.history), strip(whole.history));
  for (const [n, t] of whole.lora.weights) assert.deepEqual(resumed.lora.weights.get(n)!.data, t.data, n);

  // A finished run returns its adapter without training; other settings start their own run.
  const again = await trainDdpo(model, { ...opts('b'), onEpoch: () => assert.fail('no epoch should run') });
  assert.equal(again.resumedFrom, 3);
  for (const [n, t] of whole.lora.weights) assert.deepEqual(again.lora.weights.get(n)!.data, t.data, n);
  assert.notEqual(again.checkpointDir, (await trainDdpo(model, { ...opts('b'), epochs: 0, lr: 1e-2 })).checkpointDir);
  // A model that differs only in one attention projection (as a merged attention-only DreamBooth LoRA makes it) is
  // another starting point: its own run, never this one's checkpoint.
  const key = [...model.unet.weights.keys()].find((n) => n.endsWith('attn2.to_k.weight'))!;
  const w = model.unet.weights.get(key)!;
  const other = { ...model, unet: { ...model.unet, weights: new Map(model.unet.weights).set(key, { ...w, data: (w.data as Float32Array).map((v) => v * 1.01) }) } };
  const fresh = await trainDdpo(other, { ...opts('b'), epochs: 0 });
  assert.equal(fresh.resumedFrom, undefined);
  assert.notEqual(fresh.checkpointDir, again.checkpointDir);
  fs.rmSync(root, { recursive: true, force: true });
});

test('the KL reference is the starting model, initial adapter included: zero KL before the first update', async () => {
  const o: DdpoOptions = {
    prompts: ['a cat'], reward: brighter, epochs: 1, samplesPerEpoch: 2, sampleBatch: 2, steps: 2, guidance: 3, trainBatch: 2,
    lr: 0.05, klWeight: 1, seed: 3, sessionOptions: ONE_THREAD,
  };
  const first = await trainDdpo(model, o);
  assert.ok(first.history[0].kl! < 1e-10, `fresh adapter: kl ${first.history[0].kl}`);
  const ups = [...first.lora.weights].filter(([n]) => n.endsWith('lora_up.weight'));
  assert.ok(ups.some(([, t]) => (t.data as Float32Array).some((v) => v !== 0)), 'the adapter trained');
  const second = await trainDdpo(model, { ...o, epochs: 2, initialLora: first.lora });
  assert.ok(second.history[0].kl! < 1e-10, `continued adapter: kl ${second.history[0].kl}`);
  assert.ok(second.history[1].kl! > 1e-8, `after an update: kl ${second.history[1].kl}`);
});

test('lora_targets cross-attention: the adapter covers every attn2 projection and nothing else, and it trains', async () => {
  const r = await trainDdpo(model, {
    prompts: ['a cat'], reward: brighter, epochs: 1, samplesPerEpoch: 2, sampleBatch: 2, steps: 2, guidance: 3, trainBatch: 2,
    lr: 0.05, seed: 3, loraTargets: 'cross-attention', sessionOptions: ONE_THREAD,
  });
  const layers = new Set([...r.lora.weights.keys()].map((n) => n.replace(/\.lora_(up|down)\.weight$/, '')));
  const all = new Set([...model.unet.weights.keys()].map((n) => n.replace(/\.weight$/, '')).filter((n) => LORA_TARGETS.test(n)));
  assert.deepEqual([...layers].sort(), [...all].filter((n) => n.includes('.attn2.')).sort());
  assert.ok(layers.size > 0 && layers.size < all.size);
  assert.ok([...r.lora.weights].some(([n, t]) => n.endsWith('lora_up.weight') && (t.data as Float32Array).some((v) => v !== 0)), 'the adapter trained');
  await assert.rejects(trainDdpo(model, { prompts: ['a cat'], reward: brighter, epochs: 1, loraTargets: 'convs' as never }), /loraTargets 'convs' \(attention, cross-attention, cross-attention-kv\)/);
});

test('lora_targets cross-attention-kv: the adapter covers the attn2 keys and values only', async () => {
  const r = await trainDdpo(model, {
    prompts: ['a cat'], reward: brighter, epochs: 1, samplesPerEpoch: 2, sampleBatch: 2, steps: 2, guidance: 3, trainBatch: 2,
    lr: 0.05, seed: 3, loraTargets: 'cross-attention-kv', sessionOptions: ONE_THREAD,
  });
  const layers = [...new Set([...r.lora.weights.keys()].map((n) => n.replace(/\.lora_(up|down)\.weight$/, '')))].sort();
  const kv = [...model.unet.weights.keys()].map((n) => n.replace(/\.weight$/, '')).filter((n) => /\.attn2\.to_[kv]$/.test(n)).sort();
  assert.ok(kv.length > 0);
  assert.deepEqual(layers, kv);
});
