// The DDIM step and its log-probability against an independent float64 port of ddpo-pytorch's
// ddim_step_with_logprob (test/diffusion/torch_reference.py), and the graph form against the host form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddimCoefficientFeeds, ddimCoefficientInputs, ddimLogProb, ddimLogProbGraph, ddimStep, ddimTimesteps } from '../../src/runtime/diffusion/ddim.js';
import { NoiseSchedule } from '../../src/runtime/diffusion/schedule.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { f32 } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import { maxAbsDiff, REF, refEps, refNoise, refXt } from './helpers.js';

const schedule = new NoiseSchedule();

test('DDIM timesteps and previous timesteps for N=50', () => {
  const { timesteps, prevTimesteps } = ddimTimesteps(schedule, 50);
  assert.equal(timesteps[0], 981);
  assert.equal(timesteps[49], 1);
  assert.deepEqual(prevTimesteps.slice(0, 3), [961, 941, 921]);
  assert.equal(prevTimesteps[49], -19, 'past t=0: uses the final alpha (ab[0])');
});

for (const name of ['t981_n50_eta1', 'mixed_n50_eta05', 't1_n50_eta1']) {
  test(`DDIM step ${name} matches the float64 reference (mean, x0, sample, std, log-prob)`, () => {
    const ref = REF.ddim[name];
    const prevT = ref.t.map((t: number) => t - Math.floor(1000 / ref.steps));
    const r = ddimStep(schedule, { xt: refXt(), eps: refEps(), t: ref.t, prevT, eta: ref.eta, noise: refNoise() });
    const rel = (a: ArrayLike<number>, b: number[]) => maxAbsDiff(a, b) / Math.max(...b.map(Math.abs));
    assert.ok(rel(r.mean.data as Float32Array, ref.mean) < 2e-7, `mean ${rel(r.mean.data as Float32Array, ref.mean)}`);
    assert.ok(rel(r.predOriginal.data as Float32Array, ref.x0) < 2e-7);
    assert.ok(rel(r.prevSample.data as Float32Array, ref.prev) < 2e-7);
    r.std.forEach((s, i) => assert.ok(Math.abs(s - ref.std[i]) < 1e-14 * ref.std[i]));
    r.logProb.forEach((l, i) => assert.ok(Math.abs(l - ref.logprob[i]) < 1e-10, `log-prob ${l} vs ${ref.logprob[i]}`));
    // The same numbers from the stored tensors.
    const again = ddimLogProb(schedule, { xt: refXt(), eps: refEps(), prevSample: r.prevSample, t: ref.t, prevT, eta: ref.eta });
    again.forEach((l, i) => assert.ok(Math.abs(l - r.logProb[i]) < 1e-12));
  });
}

test('eta 0 is deterministic (no noise needed) and has no log-probability', () => {
  const r = ddimStep(schedule, { xt: refXt(), eps: refEps(), t: 501, prevT: 481, eta: 0 });
  assert.deepEqual(r.prevSample.data, r.mean.data);
  assert.ok(r.logProb.every(Number.isNaN));
  assert.throws(() => ddimStep(schedule, { xt: refXt(), eps: refEps(), t: 501, prevT: 481, eta: 1 }), /eta > 0 needs noise/);
  assert.throws(() => ddimStep(schedule, { xt: refXt(), eps: refEps(), t: [501], prevT: 481, eta: 0 }), /1 values for a batch of 2/);
  assert.throws(() => ddimCoefficientFeeds(schedule, [501], [481], 0), /std 0/);
});

test('the graph log-probability equals the host one (float32 within 1e-5) at early, middle and last steps', async () => {
  const rng = new Rng(5);
  const shape = [3, 4, 8, 8];
  const n = 3 * 4 * 64;
  const b = new GraphBuilder();
  const xt = b.input('xt', shape), eps = b.input('eps', shape), prev = b.input('prev', shape);
  const coeffs = ddimCoefficientInputs(b, 3);
  b.output(ddimLogProbGraph(b, { xt, eps, prevSample: prev, coeffs }), 'logp');
  const session = await Session.fromGraph(b.graph, { threads: 1 });
  for (const [ts, eta] of [[[981, 501, 1], 1], [[21, 41, 961], 0.7]] as const) {
    const prevT = ts.map((t) => t - 20);
    const x = f32(shape, rng.fillNormal(new Float32Array(n))), e = f32(shape, rng.fillNormal(new Float32Array(n)));
    const step = ddimStep(schedule, { xt: x, eps: e, t: ts, prevT, eta, noise: f32(shape, rng.fillNormal(new Float32Array(n))) });
    const out = await session.run({ xt: x, eps: e, prev: step.prevSample, ...ddimCoefficientFeeds(schedule, ts, prevT, eta) });
    const logp = out.logp.data as Float32Array;
    assert.deepEqual(out.logp.shape, [3]);
    step.logProb.forEach((l, i) => assert.ok(Math.abs(logp[i] - l) < 1e-5, `sample ${i} t=${ts[i]}: graph ${logp[i]} vs host ${l}`));
  }
  await session.release();
});
