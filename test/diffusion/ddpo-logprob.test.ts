// The DDPO policy end to end on a real (tiny) UNet: a trajectory sampled with classifier-free guidance records
// log p(x_t' | x_t); rebuilding that log-prob as a graph around the UNet gives the same numbers, and its gradient with
// respect to UNet parameters passes a finite-difference check (what DDPO's importance ratio differentiates).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTrainingGraph } from '../../src/runtime/autodiff/training-graph.js';
import { ddimCoefficientFeeds, ddimCoefficientInputs, ddimLogProb, ddimLogProbGraph } from '../../src/runtime/diffusion/ddim.js';
import { combineGuidance, combineGuidanceGraph } from '../../src/runtime/diffusion/guidance.js';
import { guidanceBatch, sampleLatents, type Trajectory } from '../../src/runtime/diffusion/sampler.js';
import { NoiseSchedule } from '../../src/runtime/diffusion/schedule.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { f32, type HostTensor, i64 } from '../../src/runtime/onnx/tensor.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { buildMiniUNet, MINI, MINI_TOKENS, miniDenoiser } from './helpers.js';

const schedule = new NoiseSchedule();
const B = 2, H = 8, W = 8, PER = 4 * H * W, GUIDANCE = 3, ETA = 1, STEPS = 4;
const rng = new Rng(31);
const cond = f32([B, MINI_TOKENS, MINI.ctx], rng.fillNormal(new Float32Array(B * MINI_TOKENS * MINI.ctx)));
const uncond = f32([1, MINI_TOKENS, MINI.ctx], rng.fillNormal(new Float32Array(MINI_TOKENS * MINI.ctx)));

/** logp [B] = ddimLogProbGraph(x_t, guided miniUNet eps, x_t'), with the UNet run once on [x_t; x_t]. */
function buildPolicyGraph() {
  const b = new GraphBuilder();
  const xt = b.input('xt', [B, 4, H, W]);
  const t = b.input('t', [B], 'int64');
  const condBoth = b.input('cond_both', [2 * B, MINI_TOKENS, MINI.ctx]);
  const prev = b.input('prev', [B, 4, H, W]);
  const coeffs = ddimCoefficientInputs(b, B);
  const epsBoth = buildMiniUNet(b, op.concat([xt, xt], 0), op.concat([t, t], 0), condBoth);
  const logp = ddimLogProbGraph(b, { xt, eps: combineGuidanceGraph(epsBoth, GUIDANCE), prevSample: prev, coeffs });
  return { b, logp };
}

/** Feeds for step `steps[s]` of each sample's trajectory (the samples may be at different steps). */
function stepFeeds(trs: Trajectory[], steps: number[]): Record<string, HostTensor> {
  const slice = (x: HostTensor, i: number) => (x.data as Float32Array).subarray(i * PER, (i + 1) * PER);
  const xt = new Float32Array(B * PER), prev = new Float32Array(B * PER);
  trs.forEach((tr, s) => {
    xt.set(slice(tr.latents, steps[s]), s * PER);
    prev.set(slice(tr.nextLatents, steps[s]), s * PER);
  });
  const ts = trs.map((tr, s) => tr.timesteps[steps[s]]), prevTs = trs.map((tr, s) => tr.prevTimesteps[steps[s]]);
  return {
    xt: f32([B, 4, H, W], xt), prev: f32([B, 4, H, W], prev), t: i64([B], ts), cond_both: guidanceBatch(cond, uncond),
    ...ddimCoefficientFeeds(schedule, ts, prevTs, ETA),
  };
}

async function sampleTrajectories(): Promise<Trajectory[]> {
  const unet = await miniDenoiser(2 * B, H, W);
  const r = await sampleLatents(unet, schedule, { scheduler: 'ddim', steps: STEPS, eta: ETA, guidance: GUIDANCE, cond, uncond, latentShape: [4, H, W], seeds: [100, 200], recordTrajectory: true });
  await unet.release();
  return r.trajectories!;
}

test('log-probs of a sampled mini-UNet trajectory: recorded = host recomputation = graph recomputation (1e-5)', async () => {
  const trs = await sampleTrajectories();
  assert.deepEqual(trs[0].timesteps, [751, 501, 251, 1]);
  const { b, logp } = buildPolicyGraph();
  b.output(logp, 'logp');
  const session = await Session.fromGraph(b.graph, { threads: 1 });
  const unet = await miniDenoiser(2 * B, H, W);
  for (const steps of [[0, 0], [1, 3], [3, 2]]) {
    const feeds = stepFeeds(trs, steps);
    const graph = (await session.run(feeds, ['logp'])).logp.data as Float32Array;
    // Host: eps from the UNet session on the stored x_t, then the density of the stored x_t'.
    const ts = trs.map((tr, s) => tr.timesteps[steps[s]]);
    const xt2 = f32([2 * B, 4, H, W], Float32Array.from([...feeds.xt.data as Float32Array, ...feeds.xt.data as Float32Array]));
    const eps = combineGuidance(await unet.predict(xt2, [...ts, ...ts], feeds.cond_both), GUIDANCE);
    const host = ddimLogProb(schedule, { xt: feeds.xt, eps, prevSample: feeds.prev, t: ts, prevT: trs.map((tr, s) => tr.prevTimesteps[steps[s]]), eta: ETA });
    trs.forEach((tr, s) => {
      const recorded = tr.logProbs[steps[s]];
      assert.ok(Math.abs(host[s] - recorded) < 1e-5, `sample ${s} step ${steps[s]}: host ${host[s]} vs recorded ${recorded}`);
      assert.ok(Math.abs(graph[s] - recorded) < 1e-5, `sample ${s} step ${steps[s]}: graph ${graph[s]} vs recorded ${recorded}`);
    });
  }
  await unet.release();
  await session.release();
});

test('d log p / d(UNet parameters) through guidance and the DDIM step passes a finite-difference check', async () => {
  const trs = await sampleTrajectories();
  const { b, logp } = buildPolicyGraph();
  // A DDPO-like scalar: advantage-weighted log-probs.
  const loss = b.output(op.reduceSum(op.mul(logp, b.constant(f32([B], [0.7, -1.3]))), [0], false), 'loss');
  const chosen = new Set(['cout.weight', 'r2.c1.weight', 'xf.a2.k.weight', 't1.weight']);
  const tg = makeTrainingGraph(b.graph, loss.name, { trainable: (n) => chosen.has(n) });
  assert.deepEqual(new Set(tg.params), chosen);
  const session = await Session.fromGraph(tg.graph, { threads: 1, optimization: 'disabled' });
  const feeds = { ...stepFeeds(trs, [1, 0]), [tg.seed]: f32([], [1]) };
  const at = (shift: Map<string, Float32Array>, hsign: number) => {
    const f: Record<string, HostTensor> = { ...feeds };
    for (const p of tg.params) {
      const v = tg.initial.get(p)!;
      const d = shift.get(p)!;
      f[p] = f32([...v.shape], (v.data as Float32Array).map((x, k) => x + hsign * d[k]));
    }
    return f;
  };
  const zero = new Map(tg.params.map((p) => [p, new Float32Array(tg.initial.get(p)!.data.length)]));
  const base = await session.run(at(zero, 0));
  const dirRng = new Rng(77);
  const h = 1e-3; // central differences converge as h^2 here: 1e-2 gives ~2e-2 error, 1e-3 ~3e-4
  for (let d = 0; d < 3; d++) {
    const dir = new Map(tg.params.map((p) => [p, dirRng.fillNormal(new Float32Array(tg.initial.get(p)!.data.length), h)]));
    const lp = (await session.run(at(dir, 1), ['loss'])).loss.data[0] as number;
    const lm = (await session.run(at(dir, -1), ['loss'])).loss.data[0] as number;
    const numeric = (lp - lm) / (2 * h);
    let analytic = 0;
    for (const p of tg.params) {
      const g = base[tg.gradOf.get(p)!].data as Float32Array, u = dir.get(p)!;
      for (let k = 0; k < g.length; k++) analytic += (g[k] * u[k]) / h;
    }
    const err = Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric), Math.abs(analytic));
    assert.ok(Math.abs(numeric) > 1e-3, `direction ${d}: the loss moves (${numeric})`);
    assert.ok(err <= 5e-3, `direction ${d}: analytic ${analytic.toPrecision(7)} vs numeric ${numeric.toPrecision(7)} (rel err ${err.toExponential(2)})`);
  }
  await session.release();
});
