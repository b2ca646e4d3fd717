// Stages 2, 2b and 2c of `npm run train:world`: the VAE (32x32 images <-> 16x8x8 latents) on rendered world images, the
// latent scaling factor (1 / std of the posterior means), then the decoder alone, longer, on the frozen encoder's
// latents: the joint run leaves shapes and markings blurred, and the decoder is where they are lost.
import fs from 'node:fs';
import path from 'node:path';
import { imagesToTensor, tensorToImages } from '../../src/runtime/diffusion/latent-images.js';
import { worldSubjectCheck } from '../../src/runtime/rewards/evaluate.js';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { Session } from '../../src/runtime/engine/session.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import type { VaeConfig } from '../../src/runtime/models/configs.js';
import { vaeDecode, vaeEncode } from '../../src/runtime/models/vae.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { SUBJECTS, baseTrainingCaptions, baseTrainingExamples, renderScenes, sampleSubjectScene } from '../../src/runtime/world/index.js';
import { detailWeights } from './detail-weights.js';
import { f32, fmt, loadWeights, log, pickImages, saveWeights, secs, timed } from './io.js';
import type { WorldTraining } from './options.js';
import { trainStage } from './train-stage.js';

export interface TrainedVae {
  weights: Map<string, HostTensor>;
  config: VaeConfig;
}

/** What the VAE stages train on: base scenes, and the subjects in random scenes (`subjects` of them, 30% by default:
 * the VAE must reproduce their markings, the finest detail of the world). */
function renderVaeImages(w: WorldTraining, subjects = 0.3, seed = w.seed): ImageBatch {
  const nSubj = Math.floor(w.opt.vaeImages * subjects);
  const base = baseTrainingCaptions(w.opt.vaeImages - nSubj, seed + 101).scenes;
  const rng = new Rng(seed + 102);
  const subj = Array.from({ length: nSubj }, (_, i) => sampleSubjectScene(SUBJECTS[i % SUBJECTS.length], rng));
  return renderScenes([...base, ...subj], w.res);
}

/** A session that maps images [EB,3,H,W] in [-1,1] to posterior means times `scale`. */
export async function encoderSession(vae: TrainedVae, res: number, batch: number, scale = 1): Promise<Session> {
  const b = new GraphBuilder();
  const { mean } = vaeEncode({ b, params: new WeightsSource(vae.weights) }, vae.config, b.input('x', [batch, 3, res, res]));
  b.output(scale === 1 ? mean : op.mul(mean, scale), 'z');
  return Session.fromGraph(b.graph);
}

export async function trainVae(w: WorldTraining): Promise<TrainedVae> {
  const file = path.join(w.workDir, 'vae.safetensors');
  return timed(w.times, '2-vae', async () => {
    if (fs.existsSync(file)) {
      const { weights, meta } = loadWeights(file);
      log(`vae: done earlier (${file}), scaling factor ${meta.scalingFactor}`);
      return { weights, config: { ...w.vaeConfig, scalingFactor: Number(meta.scalingFactor) } };
    }
    const t0 = performance.now();
    const images = renderVaeImages(w);
    log(`vae: rendered ${images.count} images in ${secs(t0).toFixed(1)} s`);
    const B = w.opt.vaeBatch, RES = w.res, C = w.vaeConfig.latentChannels;
    const lat = RES / 4;
    const weights = await trainStage({
      name: 'vae', workDir: w.workDir, steps: w.opt.vaeSteps, batch: B, lr: 1e-3, warmup: 100, weightDecay: 0,
      logEvery: w.opt.logEvery, ckptEvery: w.opt.ckptEvery, init: new RandomInit(w.seed + 1),
      build: (params) => {
        const b = new GraphBuilder();
        const x = b.input('x', [B, 3, RES, RES]);
        const eps = b.input('eps', [B, C, lat, lat]);
        const ctx = { b, params };
        const { mean, logvar } = vaeEncode(ctx, w.vaeConfig, x);
        const z = op.add(mean, op.mul(op.exp(op.mul(logvar, 0.5)), eps));
        const d = op.sub(vaeDecode(ctx, w.vaeConfig, z), x);
        const mse = op.mean(op.mul(d, d));
        // KL(q || N(0,1)) per sample (summed over latent elements), averaged over the batch.
        const klPer = op.mul(op.mean(op.sub(op.add(op.mul(mean, mean), op.exp(logvar)), op.add(logvar, 1))), 0.5 * C * lat * lat);
        return { graph: b, loss: b.output(op.add(mse, op.mul(klPer, 1e-6)), 'loss').name };
      },
      feeds: (step) => {
        const r = new Rng(w.seed * 1_000_003 + 7_000_000 + step);
        const idx = Array.from({ length: B }, () => r.int(images.count));
        return { x: pickImages(images, idx), eps: f32([B, C, lat, lat], r.fillNormal(new Float32Array(B * C * lat * lat))) };
      },
    });
    // The latent scale: 1 / std of the posterior means.
    const vae = { weights, config: { ...w.vaeConfig } };
    const nScale = Math.min(w.opt.scaleImages, images.count);
    const EB = 64;
    const enc = await encoderSession(vae, RES, EB);
    let s1 = 0, s2 = 0, n = 0;
    for (let k = 0; k + EB <= nScale; k += EB) {
      const m = (await enc.run({ x: pickImages(images, Array.from({ length: EB }, (_, i) => k + i)) })).z.data as Float32Array;
      for (const v of m) { s1 += v; s2 += v * v; n++; }
    }
    await enc.release();
    const mu = s1 / n;
    const std = Math.sqrt(s2 / n - mu * mu);
    vae.config.scalingFactor = 1 / std;
    log(`vae: latents mean ${fmt(mu)} std ${fmt(std)} over ${n / (C * lat * lat)} images -> scaling factor ${fmt(vae.config.scalingFactor)}`);
    saveWeights(file, weights, { scalingFactor: String(vae.config.scalingFactor) });
    return vae;
  });
}

/** The decoder alone, on the frozen encoder's posterior means plus a little noise (the UNet's latents are not exact),
 * with L2 + 0.1 L1 (L1 keeps edges), each pixel's terms weighted by `detail` (detail-weights.ts) where it is above 0.
 * Updates `vae.weights` in place. */
export async function trainDecoder(w: WorldTraining, vae: TrainedVae): Promise<void> {
  await decoderStage(w, vae, { name: 'vae-decoder', stage: '2b-decoder', steps: w.opt.decoderSteps, lr: 1e-3, subjects: 0.3, seed: w.seed, detail: 0 });
}

/**
 * Then the decoder again, at a lower learning rate on fresh images, half of them the subjects: the thin white
 * markings are what the joint run and the first decoder pass blur most (docs/world-v2.md). The encoder, and so every
 * latent the UNet trained on, stays as it was, as SD's VAE decoder was fine-tuned after the fact.
 */
export async function polishDecoder(w: WorldTraining, vae: TrainedVae): Promise<void> {
  if (w.opt.polishSteps === 0) return;
  await decoderStage(w, vae, { name: 'vae-decoder-polish', stage: '2c-decoder-polish', steps: w.opt.polishSteps, lr: 3e-4, subjects: 0.5, seed: w.seed + 7, detail: w.opt.decoderDetail });
}

/** The decoder passes' result files, in the order they train. */
export const DECODER_PASSES = ['vae-decoder', 'vae-decoder-polish'] as const;

/** Puts a finished decoder pass's weights into `vae`; false when that pass has not finished. */
export function loadDecoderPass(w: WorldTraining, vae: TrainedVae, name: (typeof DECODER_PASSES)[number]): boolean {
  const file = path.join(w.workDir, `${name}.safetensors`);
  if (!fs.existsSync(file)) return false;
  for (const [k, t] of loadWeights(file).weights) vae.weights.set(k, t);
  return true;
}

async function decoderStage(w: WorldTraining, vae: TrainedVae, o: { name: (typeof DECODER_PASSES)[number]; stage: string; steps: number; lr: number; subjects: number; seed: number; detail: number }): Promise<void> {
  const file = path.join(w.workDir, `${o.name}.safetensors`);
  await timed(w.times, o.stage, async () => {
    if (loadDecoderPass(w, vae, o.name)) {
      log(`${o.name}: done earlier (${file})`);
      return;
    }
    const images = renderVaeImages(w, o.subjects, o.seed);
    const RES = w.res, C = w.vaeConfig.latentChannels;
    const lat = RES / 4;
    const L = C * lat * lat;
    const EB = 256;
    const means = new Float32Array(images.count * L);
    const enc = await encoderSession(vae, RES, EB);
    for (let k = 0; k < images.count; k += EB) {
      const idx = Array.from({ length: EB }, (_, i) => Math.min(images.count - 1, k + i));
      const m = (await enc.run({ x: pickImages(images, idx) })).z.data as Float32Array;
      means.set(m.subarray(0, Math.min(EB, images.count - k) * L), k * L);
    }
    await enc.release();
    const B = w.opt.vaeBatch;
    const sigma = 0.1 / vae.config.scalingFactor;
    const weights = await trainStage({
      name: o.name, workDir: w.workDir, steps: o.steps, batch: B, lr: o.lr, warmup: 50, weightDecay: 0,
      logEvery: w.opt.logEvery, ckptEvery: w.opt.ckptEvery, init: new WeightsSource(vae.weights),
      build: (params) => {
        const b = new GraphBuilder();
        const z = b.input('z', [B, C, lat, lat]);
        const x = b.input('x', [B, 3, RES, RES]);
        const d = op.sub(vaeDecode({ b, params }, vae.config, z), x);
        const wt = o.detail > 0 ? b.input('w', [B, 1, RES, RES]) : undefined;
        const weigh = (t: typeof d) => (wt ? op.mul(t, wt) : t);
        return { graph: b, loss: b.output(op.add(op.mean(weigh(op.mul(d, d))), op.mul(op.mean(weigh(op.abs(d))), 0.1)), 'loss').name };
      },
      feeds: (step) => {
        const r = new Rng(o.seed * 1_000_003 + 777_000 + step);
        const idx = Array.from({ length: B }, () => r.int(images.count));
        const z = new Float32Array(B * L);
        idx.forEach((k, i) => z.set(means.subarray(k * L, (k + 1) * L), i * L));
        for (let i = 0; i < z.length; i++) z[i] += sigma * r.normal();
        const x = pickImages(images, idx);
        return { z: f32([B, C, lat, lat], z), x, ...(o.detail > 0 ? { w: detailWeights(x, o.detail) } : {}) };
      },
    });
    saveWeights(file, weights);
    for (const [k, t] of weights) vae.weights.set(k, t);
  });
}

/** The subjects' identity check on round trips (encode to the posterior mean, decode) of 32 random scenes each: what
 * `npm run bench -- vae` reports as identity, measured before the model is saved. */
export async function roundTripIdentity(w: WorldTraining, vae: TrainedVae): Promise<Record<string, number>> {
  const N = 32, RES = w.res;
  const b = new GraphBuilder();
  const ctx = { b, params: new WeightsSource(vae.weights) };
  b.output(vaeDecode(ctx, vae.config, vaeEncode(ctx, vae.config, b.input('x', [N, 3, RES, RES])).mean), 'y');
  const s = await Session.fromGraph(b.graph);
  const out: Record<string, number> = {};
  for (const subject of SUBJECTS) {
    const rng = new Rng(w.seed + 5);
    const images = renderScenes(Array.from({ length: N }, () => sampleSubjectScene(subject, rng)), RES);
    const back = tensorToImages((await s.run({ x: imagesToTensor(images) })).y);
    out[subject.id] = worldSubjectCheck(subject)(back).filter(Boolean).length / N;
  }
  await s.release();
  return out;
}

/** Held-out reconstruction error (MSE in [-1,1] space, through the posterior mean). */
export async function reconstructionMse(w: WorldTraining, vae: TrainedVae): Promise<number> {
  const ex = baseTrainingExamples(64, w.seed + 555);
  const b = new GraphBuilder();
  const ctx = { b, params: new WeightsSource(vae.weights) };
  const x = b.input('x', [64, 3, w.res, w.res]);
  const d = op.sub(vaeDecode(ctx, vae.config, vaeEncode(ctx, vae.config, x).mean), x);
  b.output(op.mean(op.mul(d, d)), 'mse');
  const s = await Session.fromGraph(b.graph);
  const r = Number((await s.run({ x: imagesToTensor(ex.images) })).mse.data[0]);
  await s.release();
  return r;
}
