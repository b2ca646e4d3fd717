// The model-independent sampler: per-sample seeds, classifier-free guidance, trajectories, progress, cancellation,
// and the image <-> latent helpers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddimLogProb, ddimStep } from '../../src/runtime/diffusion/ddim.js';
import { combineGuidance, combineGuidanceGraph } from '../../src/runtime/diffusion/guidance.js';
import { decodeLatents, encodeImages, imagesToTensor, SD_LATENT_SCALE, tensorToImages } from '../../src/runtime/diffusion/latent-images.js';
import { sampleAt, sampleLatents, type SampleOptions } from '../../src/runtime/diffusion/sampler.js';
import { NoiseSchedule } from '../../src/runtime/diffusion/schedule.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { f32, type HostTensor } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { FakeDenoiser, maxAbsDiff, perfectDenoiser } from './helpers.js';

const schedule = new NoiseSchedule();
const rng = new Rng(9);
const emb = (n: number) => f32([n, 6, 4], rng.fillNormal(new Float32Array(n * 24)));
const cond3 = emb(3), uncond1 = emb(1);
const base = { steps: 6, latentShape: [4, 5, 3] as const, guidance: 4 };

for (const [scheduler, eta] of [['ddim', 1], ['ddim', 0], ['euler_a', 0]] as const) {
  test(`${scheduler} eta=${eta}: a sample depends on its seed and prompt only, not on the rest of the batch`, async () => {
    const opts = { ...base, scheduler, eta } satisfies Partial<SampleOptions>;
    const batch = await sampleLatents(new FakeDenoiser(), schedule, { ...opts, cond: cond3, uncond: uncond1, seeds: [7, 8, 9] });
    const alone = await sampleLatents(new FakeDenoiser(), schedule, { ...opts, cond: sampleAt(cond3, 0), uncond: uncond1, seeds: [7] });
    assert.deepEqual(sampleAt(batch.latents, 0).data, alone.latents.data);
    const other = await sampleLatents(new FakeDenoiser(), schedule, { ...opts, cond: sampleAt(cond3, 0), uncond: uncond1, seeds: [8] });
    assert.ok(maxAbsDiff(other.latents.data as Float32Array, alone.latents.data as Float32Array) > 1e-3, 'another seed, another image');
    const again = await sampleLatents(new FakeDenoiser(), schedule, { ...opts, cond: cond3, uncond: uncond1, seeds: [7, 8, 9] });
    assert.deepEqual(again.latents.data, batch.latents.data, 'repeatable');
  });
}

test('classifier-free guidance: one batched call on [uncond; cond], eps = eps_u + w (eps_c - eps_u)', async () => {
  const fake = new FakeDenoiser();
  const cond = emb(2), uncond = emb(2);
  const r = await sampleLatents(fake, schedule, { ...base, steps: 1, scheduler: 'ddim', eta: 0, cond, uncond, seeds: [1, 2] });
  assert.equal(fake.calls.length, 1);
  const call = fake.calls[0];
  assert.deepEqual(call.timesteps, [1, 1, 1, 1], 'N=1: t = 0*1000 + steps_offset');
  assert.deepEqual(call.cond.data, Float32Array.from([...uncond.data as Float32Array, ...cond.data as Float32Array]));
  const x = call.latents.data as Float32Array, half = x.length / 2;
  assert.deepEqual(x.subarray(0, half), x.subarray(half), 'the same latents for both halves');
  // Recompute the step by hand.
  const epsBoth = (await new FakeDenoiser().predict(call.latents, call.timesteps, call.cond)).data as Float32Array;
  const eps = new Float32Array(half).map((_, k) => epsBoth[k] + 4 * (epsBoth[half + k] - epsBoth[k]));
  const want = ddimStep(schedule, { xt: f32([2, 4, 5, 3], x.slice(0, half)), eps: f32([2, 4, 5, 3], eps), t: 1, prevT: -999, eta: 0 });
  assert.ok(maxAbsDiff(r.latents.data as Float32Array, want.prevSample.data as Float32Array) < 1e-6);
  // A batch-1 uncond is broadcast; guidance 1 skips the unconditional half.
  const fake1 = new FakeDenoiser();
  await sampleLatents(fake1, schedule, { ...base, steps: 2, scheduler: 'ddim', cond, guidance: 1, seeds: [1, 2] });
  assert.equal(fake1.calls[0].latents.shape[0], 2);
  await assert.rejects(sampleLatents(fake1, schedule, { ...base, scheduler: 'ddim', cond, seeds: [1, 2] }), /needs unconditional embeddings/);
  await assert.rejects(sampleLatents(fake1, schedule, { ...base, scheduler: 'ddim', cond, uncond, seeds: [1] }), /1 seeds for a batch of 2/);
});

test('guidance: host and graph forms agree', async () => {
  const both = f32([4, 3], rng.fillNormal(new Float32Array(12)));
  const host = combineGuidance(both, 5);
  const d = both.data as Float32Array;
  for (let k = 0; k < 6; k++) assert.ok(Math.abs((host.data as Float32Array)[k] - (d[k] + 5 * (d[6 + k] - d[k]))) < 1e-6);
  const b = new GraphBuilder();
  b.output(combineGuidanceGraph(b.input('both', [4, 3]), 5), 'eps');
  const s = await Session.fromGraph(b.graph);
  assert.ok(maxAbsDiff((await s.run({ both })).eps.data as Float32Array, host.data as Float32Array) < 1e-6);
  await s.release();
});

test('a recorded DDIM trajectory chains, and its log-probs recompute from the stored tensors', async () => {
  const fake = new FakeDenoiser();
  const r = await sampleLatents(fake, schedule, { ...base, scheduler: 'ddim', eta: 1, cond: cond3, uncond: uncond1, seeds: [3, 4, 5], recordTrajectory: true });
  const per = 4 * 5 * 3;
  assert.equal(r.trajectories!.length, 3);
  for (let s = 0; s < 3; s++) {
    const tr = r.trajectories![s];
    assert.deepEqual(tr.timesteps, [831, 665, 499, 333, 167, 1]);
    assert.deepEqual(tr.prevTimesteps, [665, 499, 333, 167, 1, -165]);
    assert.deepEqual(tr.latents.shape, [6, 4, 5, 3]);
    const xs = tr.latents.data as Float32Array, next = tr.nextLatents.data as Float32Array;
    assert.deepEqual(xs.subarray(0, per), new Rng(3 + s).fillNormal(new Float32Array(per)), 'x_T is the seed\'s first draw');
    for (let i = 1; i < 6; i++) assert.deepEqual(xs.subarray(i * per, (i + 1) * per), next.subarray((i - 1) * per, i * per));
    assert.deepEqual(next.subarray(5 * per), (r.latents.data as Float32Array).subarray(s * per, (s + 1) * per));
    assert.ok(tr.logProbs.every(Number.isFinite));
    // Recompute step i's log-prob: eps from the (deterministic) denoiser on the stored x_t, then the density of x_t'.
    for (let i = 0; i < 6; i++) {
      const xt = f32([1, 4, 5, 3], xs.slice(i * per, (i + 1) * per));
      const both = await new FakeDenoiser().predict(f32([2, 4, 5, 3], Float32Array.from([...xt.data as Float32Array, ...xt.data as Float32Array])), [tr.timesteps[i], tr.timesteps[i]],
        f32([2, 6, 4], Float32Array.from([...uncond1.data as Float32Array, ...sampleAt(cond3, s).data as Float32Array])));
      const [lp] = ddimLogProb(schedule, { xt, eps: combineGuidance(both, 4), prevSample: f32([1, 4, 5, 3], next.slice(i * per, (i + 1) * per)), t: tr.timesteps[i], prevT: tr.prevTimesteps[i], eta: 1 });
      assert.ok(Math.abs(lp - tr.logProbs[i]) < 1e-9, `sample ${s} step ${i}: ${lp} vs ${tr.logProbs[i]}`);
    }
  }
  await assert.rejects(sampleLatents(fake, schedule, { ...base, scheduler: 'euler_a', cond: cond3, uncond: uncond1, seeds: [3, 4, 5], recordTrajectory: true }), /recordTrajectory needs the 'ddim' scheduler/);
});

test('DDIM eta 0 with a perfect denoiser follows the deterministic path to sqrt(ab_0) x0 + sqrt(1 - ab_0) n', async () => {
  const x0 = new Rng(4).fillNormal(new Float32Array(60));
  const r = await sampleLatents(perfectDenoiser(schedule.alphasCumprod, x0), schedule, { ...base, steps: 10, scheduler: 'ddim', eta: 0, cond: emb(1), guidance: 1, seeds: [12] });
  // The predicted noise stays the initial noise n (x_T = n at t = 901 is read as sqrt(ab) x0 + sqrt(1-ab) eps).
  const n = new Rng(12).fillNormal(new Float32Array(60));
  const ab901 = schedule.alphasCumprod[901], ab0 = schedule.alphasCumprod[0];
  const want = n.map((v, k) => Math.sqrt(ab0) * x0[k] + Math.sqrt(1 - ab0) * (v - Math.sqrt(ab901) * x0[k]) / Math.sqrt(1 - ab901));
  assert.ok(maxAbsDiff(r.latents.data as Float32Array, want) < 1e-4);
});

test('progress is reported per step, and an abort stops sampling before the next step', async () => {
  const seen: [number, number][] = [];
  await sampleLatents(new FakeDenoiser(), schedule, { ...base, scheduler: 'euler_a', cond: cond3, uncond: uncond1, seeds: [1, 2, 3], onProgress: (s, t) => seen.push([s, t]) });
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6].map((s) => [s, 6]));
  const ctl = new AbortController();
  const fake = new FakeDenoiser();
  await assert.rejects(
    sampleLatents(fake, schedule, { ...base, scheduler: 'ddim', cond: cond3, uncond: uncond1, seeds: [1, 2, 3], signal: ctl.signal, onProgress: (s) => s === 2 && ctl.abort() }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.equal(fake.calls.length, 2);
});

test('latents <-> images: 0.18215 scale, [-1, 1] NCHW <-> [0, 1] HWC, moments sampled or their mean', async () => {
  const img = imageBatch(2, 3, 4, 4, new Rng(1).fillUniform(new Float32Array(2 * 3 * 4 * 4), 0, 1));
  const t = imagesToTensor(img);
  assert.deepEqual(t.shape, [2, 3, 3, 4]);
  // pixel (n=1, y=2, x=3), channel 2 -> NCHW index
  assert.ok(Math.abs((t.data as Float32Array)[((1 * 3 + 2) * 3 + 2) * 4 + 3] - (img.data[((1 * 3 + 2) * 4 + 3) * 4 + 2] * 2 - 1)) < 1e-7);
  const back = tensorToImages(t);
  assert.equal(back.channels, 3);
  const rgb = img.data.filter((_, i) => i % 4 !== 3);
  assert.ok(maxAbsDiff(back.data, rgb) < 1e-6, 'alpha dropped, values round-trip');
  assert.deepEqual(Array.from(tensorToImages(f32([1, 3, 1, 1], [-3, 0, 3])).data), [0, 0.5, 1], 'clamped');

  let decoderSaw: HostTensor | undefined;
  const latents = f32([1, 4, 1, 1], [SD_LATENT_SCALE, 0, 0, -SD_LATENT_SCALE]);
  const images = await decodeLatents(async (z) => ((decoderSaw = z), f32([1, 3, 1, 1], [1, 0, -1])), latents);
  assert.ok(maxAbsDiff(decoderSaw!.data as Float32Array, [1, 0, 0, -1]) < 1e-6, 'z / 0.18215 goes to the decoder');
  assert.deepEqual(Array.from(images.data), [1, 0.5, 0]);

  const px = imageBatch(1, 1, 1, 3, Float32Array.of(1, 0.5, 0));
  const lat = await encodeImages(async (x) => {
    assert.deepEqual(Array.from(x.data as Float32Array), [1, 0, -1]);
    return f32([1, 4, 1, 1], [1, 2, 3, 4]);
  }, px);
  assert.ok(maxAbsDiff(lat.data as Float32Array, [1, 2, 3, 4].map((v) => v * SD_LATENT_SCALE)) < 1e-6);
  const moments = async () => f32([1, 8, 1, 1], [1, 2, 3, 4, Math.log(0.25), 0, 0, 0]);
  const mode = await encodeImages(moments, px);
  assert.ok(maxAbsDiff(mode.data as Float32Array, [1, 2, 3, 4].map((v) => v * SD_LATENT_SCALE)) < 1e-6, 'moments without rng: the mean');
  const sampled = await encodeImages(moments, px, { rng: new Rng(2) });
  const z = new Rng(2);
  const want = [1, 2, 3, 4].map((m, i) => SD_LATENT_SCALE * (m + (i === 0 ? 0.5 : 1) * z.normal()));
  assert.ok(maxAbsDiff(sampled.data as Float32Array, want) < 1e-6, 'moments with rng: mean + std n');
  // A VAE with 8 latent channels: 8 are latents, 16 its moments, anything else is refused.
  const eight = await encodeImages(async () => f32([1, 8, 1, 1], [1, 2, 3, 4, 5, 6, 7, 8]), px, { latentChannels: 8, scale: 1 });
  assert.deepEqual(Array.from(eight.data as Float32Array), [1, 2, 3, 4, 5, 6, 7, 8]);
  const eightMoments = await encodeImages(async () => f32([1, 16, 1, 1], [...[1, 2, 3, 4, 5, 6, 7, 8], ...new Array(8).fill(0)]), px, { latentChannels: 8, scale: 1 });
  assert.deepEqual(eightMoments.shape, [1, 8, 1, 1]);
  await assert.rejects(encodeImages(async () => f32([1, 6, 1, 1], [0, 0, 0, 0, 0, 0]), px), /6 channels; a VAE with 4 latent channels gives 4 \(latents\) or 8 \(moments\)/);
});
