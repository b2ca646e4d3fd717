// Euler ancestral against an independent float64 port of diffusers' EulerAncestralDiscreteScheduler
// (test/diffusion/torch_reference.py, key euler_a), and its self-consistency with a perfect denoiser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eulerAncestralPlan, eulerAncestralScaleInput, eulerAncestralStep } from '../../src/runtime/diffusion/euler-ancestral.js';
import { sampleLatents } from '../../src/runtime/diffusion/sampler.js';
import { NoiseSchedule } from '../../src/runtime/diffusion/schedule.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { f32 } from '../../src/runtime/onnx/tensor.js';
import { maxAbsDiff, perfectDenoiser, REF, refEps, refNoise, refXt } from './helpers.js';

const schedule = new NoiseSchedule();
const E = REF.euler_a;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

test('sigmas, init_noise_sigma and scale_model_input match the reference', () => {
  const plan = eulerAncestralPlan(schedule, 50);
  assert.deepEqual(plan.timesteps, schedule.timesteps(50));
  assert.equal(plan.sigmas.length, 51);
  for (const [i, v] of Object.entries(E.sigmas as Record<string, number>)) assert.ok(rel(plan.sigmas[+i], v) < 1e-12 || v === 0, `sigma ${i}`);
  assert.ok(rel(plan.initNoiseSigma, E.init_noise_sigma) < 1e-12);
  const scaled = eulerAncestralScaleInput(plan, 0, f32([2, 4, 3, 3], (refXt().data as Float32Array).map((v) => v * plan.initNoiseSigma)));
  assert.ok(maxAbsDiff((scaled.data as Float32Array).slice(0, 4), E.scaled_input_first4) < 1e-6);

  const lin = eulerAncestralPlan(new NoiseSchedule({ timestepSpacing: 'linspace' }), 7);
  assert.deepEqual(lin.timesteps, E.linspace7_timesteps, 'linspace keeps fractional timesteps');
  E.linspace7_sigmas.forEach((v: number, i: number) => assert.ok(rel(lin.sigmas[i], v) < 1e-12));
  assert.equal(lin.initNoiseSigma, lin.sigmas[0], 'linspace/trailing: init sigma is the max sigma');
});

test('ancestral steps match the reference', () => {
  const plan = eulerAncestralPlan(schedule, 50);
  const sample0 = f32([2, 4, 3, 3], (refXt().data as Float32Array).map((v) => v * plan.initNoiseSigma));
  for (const [i, sample, ref] of [[0, sample0, E.step0], [10, refXt(), E.step10]] as const) {
    const r = eulerAncestralStep(plan, i, { sample, eps: refEps(), noise: refNoise() });
    assert.ok(rel(r.sigmaUp, ref.sigma_up) < 1e-12 && rel(r.sigmaDown, ref.sigma_down) < 1e-12);
    const scale = Math.max(...ref.prev.map(Math.abs));
    assert.ok(maxAbsDiff(r.prevSample.data as Float32Array, ref.prev) / scale < 1e-6, `step ${i}`);
  }
  assert.throws(() => eulerAncestralStep(plan, 3, { sample: refXt(), eps: refEps() }), /needs noise/);
});

test('with a perfect denoiser of a known x0, sampling returns x0 (the last step to sigma 0 is noise-free)', async () => {
  const x0 = new Rng(4).fillNormal(new Float32Array(4 * 4 * 4));
  const cond = f32([2, 3, 2]);
  const r = await sampleLatents(perfectDenoiser(schedule.alphasCumprod, x0), schedule, {
    scheduler: 'euler_a', steps: 12, cond, guidance: 1, latentShape: [4, 4, 4], seeds: [1, 2],
  });
  const out = r.latents.data as Float32Array;
  assert.ok(maxAbsDiff(out.subarray(0, 64), x0) < 1e-4 && maxAbsDiff(out.subarray(64), x0) < 1e-4, `${maxAbsDiff(out.subarray(0, 64), x0)}`);
});
