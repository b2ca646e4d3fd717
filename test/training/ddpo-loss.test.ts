// The DDPO loss graph on a tiny random UNet with nonzero adapters: at old == new log-probs the ratio is 1 and the loss
// is -mean(A); the PPO clip flattens the loss (zero gradient) exactly where it should; and the gradient with respect
// to the adapter weights (policy term and KL term) matches central finite differences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddimStep } from '../../src/runtime/diffusion/ddim.js';
import { combineGuidance } from '../../src/runtime/diffusion/guidance.js';
import { NoiseSchedule } from '../../src/runtime/diffusion/schedule.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import { f32, type HostTensor } from '../../src/runtime/onnx/tensor.js';
import { initWeights } from '../../src/runtime/models/blocks.js';
import { TINY_UNET } from '../../src/runtime/models/configs.js';
import { LORA_TARGETS } from '../../src/runtime/models/sd-pipeline.js';
import { unet } from '../../src/runtime/models/unet.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import type { LoraConfig } from '../../src/runtime/onnx/layers.js';
import { type ParamSource, RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { type DdpoLossConfig, ddpoFeeds, ddpoTrainingGraph, type DdpoMinibatch } from '../../src/runtime/training/ddpo-loss.js';
import { type TrainingGraph } from '../../src/runtime/autodiff/training-graph.js';

const CFG = TINY_UNET;
const B = 3, LAT = [4, 4, 4] as const, CTX = [6, CFG.crossAttentionDim] as const, PER = 64, GUIDANCE = 4, ETA = 1;
const schedule = new NoiseSchedule();
const unetWeights = initWeights((params) => {
  const b = new GraphBuilder();
  unet({ b, params }, CFG, b.input('s', [1, ...LAT]), b.input('t', [1]), b.input('c', [1, 1, CFG.crossAttentionDim]));
}, new RandomInit(5));
const unetModel = { config: CFG, weights: unetWeights };

/** Adapters with nonzero up weights (a fresh adapter is the identity, and would hide bugs). */
function adapterWeights(): Map<string, HostTensor> {
  const rng = new Rng(9);
  const out = new Map<string, HostTensor>();
  const capture: ParamSource = {
    tensor: (name, shape) => {
      const t = f32(shape, rng.fillNormal(new Float32Array(shape.reduce((a, d) => a * d, 1)), name.endsWith('up.weight') ? 0.3 : 0.5));
      out.set(name, t);
      return t;
    },
  };
  const b = new GraphBuilder();
  unet({ b, params: new WeightsSource(unetWeights), lora: { rank: 2, alpha: 2, targets: (p) => LORA_TARGETS.test(p), params: capture } }, CFG,
    b.input('s', [1, ...LAT]), b.input('t', [1]), b.input('c', [1, 1, CFG.crossAttentionDim]));
  return out;
}
const ADAPTER = adapterWeights();
const loraOf = (w: Map<string, HostTensor>): LoraConfig => ({ rank: 2, alpha: 2, targets: (p) => LORA_TARGETS.test(p), params: new WeightsSource(w) });

/** Guided eps from an inference session (with or without the adapter). */
async function guidedEps(xt: HostTensor, ts: number[], cond: HostTensor, uncond: HostTensor, lora?: Map<string, HostTensor>): Promise<HostTensor> {
  const b = new GraphBuilder();
  const x = b.input('x', [2 * B, ...LAT]), t = b.input('t', [2 * B]), c = b.input('c', [2 * B, ...CTX]);
  b.output(unet({ b, params: new WeightsSource(unetWeights), lora: lora && loraOf(lora) }, CFG, x, t, c), 'eps');
  const s = await Session.fromGraph(b.graph, { threads: 1, optimization: 'disabled' });
  const both = (a: HostTensor, z: HostTensor) => f32([2 * B, ...a.shape.slice(1)], Float32Array.from([...z.data as Float32Array, ...a.data as Float32Array]));
  const eps = (await s.run({ x: both(xt, xt), t: f32([2 * B], [...ts, ...ts]), c: both(cond, uncond) })).eps;
  await s.release();
  return combineGuidance(eps, GUIDANCE);
}

/** One DDIM step per sample from the adapted model, as the sampler records it. */
async function makeMinibatch(): Promise<DdpoMinibatch & { epsBase: HostTensor }> {
  const rng = new Rng(4);
  const normal = (n: number) => rng.fillNormal(new Float32Array(n));
  const xt = f32([B, ...LAT], normal(B * PER));
  const cond = f32([B, ...CTX], normal(B * CTX[0] * CTX[1]));
  const uncond = f32([B, ...CTX], normal(B * CTX[0] * CTX[1]));
  const timesteps = [951, 501, 51], prevTimesteps = timesteps.map((t) => t - 50);
  const eps = await guidedEps(xt, timesteps, cond, uncond, ADAPTER);
  const r = ddimStep(schedule, { xt, eps, t: timesteps, prevT: prevTimesteps, eta: ETA, noise: f32([B, ...LAT], normal(B * PER)) });
  const rows = (x: HostTensor, per: number) => Array.from({ length: B }, (_, i) => (x.data as Float32Array).slice(i * per, (i + 1) * per));
  return {
    xt: rows(xt, PER), next: rows(r.prevSample, PER), timesteps, prevTimesteps, cond: rows(cond, CTX[0] * CTX[1]), uncond: rows(uncond, CTX[0] * CTX[1]),
    oldLogp: r.logProb, advantages: [1.5, -0.7, 0.4],
    epsBase: await guidedEps(xt, timesteps, cond, uncond),
  };
}
const MB = await makeMinibatch();

async function trainingSession(c: DdpoLossConfig): Promise<{ tg: TrainingGraph; s: Session; run: (f: Record<string, HostTensor>, params?: Map<string, Float32Array>) => Promise<Record<string, HostTensor>> }> {
  const tg = ddpoTrainingGraph(unetModel, loraOf(ADAPTER), c);
  const s = await Session.fromGraph(tg.graph, { threads: 1, optimization: 'disabled' });
  const run = (f: Record<string, HostTensor>, params?: Map<string, Float32Array>) => {
    const all: Record<string, HostTensor> = { ...f, [tg.seed]: f32([], [1]) };
    for (const p of tg.params) {
      const v = tg.initial.get(p)!;
      all[p] = params ? f32([...v.shape], params.get(p)!) : v;
    }
    return s.run(all);
  };
  return { tg, s, run };
}

const scalar = (t: HostTensor) => t.data[0] as number;
const base: DdpoLossConfig = { batch: B, latentShape: LAT, contextShape: CTX, guidance: GUIDANCE, clipRange: 1e-4 };

test('only adapter weights train; at old == new log-probs: ratio 1, loss -mean(A), approx_kl 0, clipfrac 0', async () => {
  const { tg, s, run } = await trainingSession(base);
  assert.equal(tg.params.length, ADAPTER.size);
  assert.ok(tg.params.every((p) => ADAPTER.has(p)));
  const out = await run(ddpoFeeds(schedule, base, MB, ETA));
  const logp = out.logp.data as Float32Array, ratio = out.ratio.data as Float32Array;
  for (let i = 0; i < B; i++) {
    assert.ok(Math.abs(logp[i] - MB.oldLogp[i]) < 1e-4, `sample ${i}: graph logp ${logp[i]} vs sampled ${MB.oldLogp[i]}`);
    assert.ok(Math.abs(ratio[i] - 1) < 1e-4, `ratio ${ratio[i]}`);
  }
  const meanA = MB.advantages.reduce((a, x) => a + x, 0) / B;
  assert.ok(Math.abs(scalar(out.loss) + meanA) < 1e-4, `loss ${scalar(out.loss)} vs -mean(A) ${-meanA}`);
  assert.ok(scalar(out.approx_kl) < 1e-8);
  assert.equal(scalar(out.clipfrac), 0);
  // The gradient at ratio 1 is -mean(A d logp / d theta): nonzero.
  const g = out[tg.gradOf.get(tg.params[0])!].data as Float32Array;
  assert.ok(tg.params.some((p) => (out[tg.gradOf.get(p)!].data as Float32Array).some((v) => v !== 0)), `${g.length} zero gradients`);
  await s.release();
});

test('the PPO clip: loss and clipfrac follow the host formula; clipped samples give no gradient', async () => {
  const c = { ...base, clipRange: 0.1 };
  const { tg, s, run } = await trainingSession(c);
  const hostLoss = (logp: Float32Array, old: number[], adv: number[]) => {
    let sum = 0, clipped = 0;
    for (let i = 0; i < B; i++) {
      const r = Math.exp(logp[i] - old[i]);
      const rc = Math.min(1 + c.clipRange, Math.max(1 - c.clipRange, r));
      sum += Math.max(-adv[i] * r, -adv[i] * rc);
      if (Math.abs(r - 1) > c.clipRange) clipped++;
    }
    return { loss: sum / B, clipfrac: clipped / B };
  };
  const gradNorm = (out: Record<string, HostTensor>) => Math.sqrt(tg.params.reduce((a, p) => a + (out[tg.gradOf.get(p)!].data as Float32Array).reduce((q, v) => q + v * v, 0), 0));
  const cases: { name: string; shift: number[]; adv: number[]; zeroGrad: boolean; clipfrac: number }[] = [
    // The ratio moved past the clip in the advantage's direction: no further incentive (flat loss).
    { name: 'optimistic side', shift: [0.3, -0.3, 0.5], adv: [1, -1, 2], zeroGrad: true, clipfrac: 1 },
    // Moved past it against the advantage: the unclipped term is the max and still pulls back.
    { name: 'pessimistic side', shift: [-0.3, 0.3, -0.5], adv: [1, -1, 2], zeroGrad: false, clipfrac: 1 },
    { name: 'inside the clip range', shift: [0.05, -0.02, 0.01], adv: [1, -1, 2], zeroGrad: false, clipfrac: 0 },
  ];
  for (const k of cases) {
    // new - old = shift  <=>  old = logp - shift (logp here equals the sampled log-prob up to float error).
    const old = MB.oldLogp.map((l, i) => l - k.shift[i]);
    const out = await run(ddpoFeeds(schedule, c, { ...MB, oldLogp: old, advantages: k.adv }, ETA));
    const want = hostLoss(out.logp.data as Float32Array, old, k.adv);
    assert.ok(Math.abs(scalar(out.loss) - want.loss) < 1e-5, `${k.name}: loss ${scalar(out.loss)} vs host ${want.loss}`);
    assert.equal(scalar(out.clipfrac), k.clipfrac, k.name);
    const n = gradNorm(out);
    if (k.zeroGrad) assert.equal(n, 0, `${k.name}: gradient norm ${n}`);
    else assert.ok(n > 1e-4, `${k.name}: gradient norm ${n}`);
  }
  await s.release();
});

test('d loss / d adapter (policy term + KL term) passes a finite-difference check', async () => {
  // A clip range that never binds keeps the loss smooth; the KL term is against the adapter-free model.
  const c = { ...base, clipRange: 50, klWeight: 0.5 };
  const { tg, s, run } = await trainingSession(c);
  const rows = Array.from({ length: B }, (_, i) => (MB.epsBase.data as Float32Array).slice(i * PER, (i + 1) * PER));
  const feeds = ddpoFeeds(schedule, c, { ...MB, epsRef: rows }, ETA);
  const baseOut = await run(feeds);
  assert.ok(scalar(baseOut.kl) > 1e-4, `the adapter changes eps (kl ${scalar(baseOut.kl)})`);
  const rng = new Rng(21);
  const h = 3e-4; // the ratio's exp curves fast: 1e-3 already gives 1-5% error, 3e-4 about 5e-4
  for (let d = 0; d < 3; d++) {
    const dir = new Map(tg.params.map((p) => [p, rng.fillNormal(new Float32Array(tg.initial.get(p)!.data.length))]));
    const shifted = (sign: number) => new Map(tg.params.map((p) => [p, (tg.initial.get(p)!.data as Float32Array).map((x, k) => x + sign * h * dir.get(p)![k])]));
    const lp = scalar((await run(feeds, shifted(1))).loss), lm = scalar((await run(feeds, shifted(-1))).loss);
    const numeric = (lp - lm) / (2 * h);
    let analytic = 0;
    for (const p of tg.params) {
      const g = baseOut[tg.gradOf.get(p)!].data as Float32Array, u = dir.get(p)!;
      for (let k = 0; k < g.length; k++) analytic += g[k] * u[k];
    }
    const err = Math.abs(analytic - numeric) / Math.max(1e-2, Math.abs(numeric), Math.abs(analytic));
    assert.ok(Math.abs(numeric) > 1e-3, `direction ${d}: the loss moves (${numeric})`);
    assert.ok(err <= 5e-3, `direction ${d}: analytic ${analytic.toPrecision(7)} vs numeric ${numeric.toPrecision(7)} (rel err ${err.toExponential(2)})`);
  }
  // The KL term alone: its gradient is that of 0.5 mean((eps - eps_ref)^2), so zero weight removes exactly it.
  const only = await trainingSession({ ...c, klWeight: 0 });
  const noKl = await only.run(ddpoFeeds(schedule, { ...c, klWeight: 0 }, MB, ETA));
  assert.ok(Math.abs(scalar(baseOut.loss) - scalar(noKl.loss) - 0.5 * scalar(baseOut.kl)) < 1e-5);
  await only.s.release();
  await s.release();
});
