// Stage 4 of `npm run train:world`: the UNet, from random init, on base-world (caption, latent) pairs with the DDPM
// eps loss and Min-SNR-5 weighting, conditioned on the frozen text encoder's final hidden states as SD1.5's UNet is
// on CLIP's. The encoder runs inside the training graph with its weights frozen (no gradient reaches it). Each step
// draws every caption anew in a random wording; 10% are empty, for classifier-free guidance.
import fs from 'node:fs';
import path from 'node:path';
import { NoiseSchedule, SD15_SCHEDULER_CONFIG } from '../../src/runtime/diffusion/schedule.js';
import type { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { type HostTensor, tensor } from '../../src/runtime/onnx/tensor.js';
import type { ClipTextConfig } from '../../src/runtime/models/clip-text.js';
import { clipText } from '../../src/runtime/models/clip-text.js';
import { imagesToTensor } from '../../src/runtime/diffusion/latent-images.js';
import { unet } from '../../src/runtime/models/unet.js';
import { GraphBuilder } from '../../src/runtime/onnx/builder.js';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { RandomInit, WeightsSource } from '../../src/runtime/onnx/params.js';
import { baseTrainingCaptions, renderScenes } from '../../src/runtime/world/index.js';
import { f32, fmt, loadWeights, log, saveWeights, secs, timed } from './io.js';
import type { WorldTraining } from './options.js';
import type { Describe } from './text-encoder-stage.js';
import { type TrainedVae, encoderSession } from './vae-stage.js';
import { trainStage } from './train-stage.js';

/** The text encoder's weights (transformers' CLIPTextModel names) among the UNet stage's parameters. */
export const isTextWeight = (name: string) => name.startsWith('text_model.');

/** Scaled posterior means of the base-world examples, once, through the trained VAE; cached in the work folder. */
async function exampleLatents(w: WorldTraining, vae: TrainedVae, scenes: Parameters<typeof renderScenes>[0]): Promise<Float32Array> {
  const file = path.join(w.workDir, `latents-${scenes.length}.safetensors`);
  if (fs.existsSync(file)) return loadWeights(file).weights.get('latents')!.data as Float32Array;
  const lat = w.res / 4, C = vae.config.latentChannels, per = C * lat * lat;
  const latents = new Float32Array(scenes.length * per);
  const EB = 256;
  const enc = await encoderSession(vae, w.res, EB, vae.config.scalingFactor);
  for (let k = 0; k < scenes.length; k += EB) {
    const chunk = scenes.slice(k, k + EB);
    const padded = imageBatch(EB, w.res, w.res, 3);
    padded.data.set(renderScenes(chunk, w.res).data);
    const z = (await enc.run({ x: imagesToTensor(padded) })).z.data as Float32Array;
    latents.set(z.subarray(0, chunk.length * per), k * per);
  }
  await enc.release();
  saveWeights(file, new Map([['latents', f32([scenes.length, C, lat, lat], latents)]]));
  return latents;
}

export async function trainUnet(
  w: WorldTraining,
  vae: TrainedVae,
  text: { config: ClipTextConfig; weights: Map<string, HostTensor> },
  tokenizer: ClipTokenizer,
  describe: Describe,
): Promise<Map<string, HostTensor>> {
  const file = path.join(w.workDir, 'unet.safetensors');
  return timed(w.times, '4-unet', async () => {
    if (fs.existsSync(file)) {
      log(`unet: done earlier (${file})`);
      return loadWeights(file).weights;
    }
    const t0 = performance.now();
    const { scenes } = baseTrainingCaptions(w.opt.examples, w.seed + 201);
    const latents = await exampleLatents(w, vae, scenes);
    let s1 = 0, s2 = 0;
    for (const v of latents) { s1 += v; s2 += v * v; }
    const n = latents.length;
    log(`unet: ${scenes.length} scenes and latents in ${secs(t0).toFixed(1)} s; scaled latents mean ${fmt(s1 / n)} std ${fmt(Math.sqrt(s2 / n - (s1 / n) ** 2))}`);
    const demo = new Rng(1);
    log(`unet: e.g. "${describe(scenes[0], demo)}", "${describe(scenes[0], demo)}", "${describe(scenes[1], demo)}"`);

    const schedule = new NoiseSchedule({ ...SD15_SCHEDULER_CONFIG });
    const B = w.opt.unetBatch, T = text.config.maxPositions;
    const lat = w.res / 4, C = vae.config.latentChannels, per = C * lat * lat;
    const emptyIds = tokenizer.encodePadded('', { length: T });
    return trainStage({
      name: 'unet', workDir: w.workDir, steps: w.opt.unetSteps, batch: B, lr: 1.5e-3, warmup: 300, weightDecay: 1e-2, emaDecay: 0.999,
      logEvery: w.opt.logEvery, ckptEvery: w.opt.ckptEvery,
      init: new WeightsSource(text.weights, new RandomInit(w.seed + 10)),
      trainable: (name) => w.trainText || !isTextWeight(name),
      build: (params) => {
        const b = new GraphBuilder();
        const clean = b.input('clean', [B, C, lat, lat]);
        const noise = b.input('noise', [B, C, lat, lat]);
        const sqrtAb = b.input('sqrt_ab', [B, 1, 1, 1]);
        const sqrt1mAb = b.input('sqrt_1m_ab', [B, 1, 1, 1]);
        const t = b.input('timestep', [B]);
        const weight = b.input('loss_weight', [B, 1, 1, 1]);
        const inputIds = b.input('input_ids', [B, T], 'int64');
        const ctx = { b, params };
        const cond = clipText(ctx, text.config, inputIds).lastHidden;
        const noisy = op.add(op.mul(clean, sqrtAb), op.mul(noise, sqrt1mAb));
        const d = op.sub(unet(ctx, w.unetConfig, noisy, t, cond), noise);
        // Min-SNR-5 weighting (Hang et al. 2023): for eps prediction, w = min(SNR, 5) / SNR; it converges much faster.
        return { graph: b, loss: b.output(op.mean(op.mul(op.mul(d, d), weight)), 'loss').name };
      },
      feeds: (step) => {
        const r = new Rng(w.seed * 1_000_003 + 9_000_000 + step);
        const wt = new Float32Array(B), ts = new Float32Array(B), sa = new Float32Array(B), s1m = new Float32Array(B);
        const clean = new Float32Array(B * per);
        const tok = new BigInt64Array(B * T);
        for (let i = 0; i < B; i++) {
          const k = r.int(scenes.length);
          clean.set(latents.subarray(k * per, (k + 1) * per), i * per);
          const row = r.uniform() < 0.1 ? emptyIds : tokenizer.encodePadded(describe(scenes[k], r), { length: T });
          for (let j = 0; j < T; j++) tok[i * T + j] = BigInt(row[j]);
          const tt = r.int(schedule.numTrainTimesteps);
          const ab = schedule.alphaCumprod(tt);
          ts[i] = tt;
          sa[i] = Math.sqrt(ab);
          s1m[i] = Math.sqrt(1 - ab);
          const snr = ab / (1 - ab);
          wt[i] = Math.min(snr, 5) / snr;
        }
        return {
          clean: f32([B, C, lat, lat], clean),
          noise: f32([B, C, lat, lat], r.fillNormal(new Float32Array(B * per))),
          sqrt_ab: f32([B, 1, 1, 1], sa),
          sqrt_1m_ab: f32([B, 1, 1, 1], s1m),
          timestep: f32([B], ts),
          loss_weight: f32([B, 1, 1, 1], wt),
          input_ids: tensor('int64', [B, T], tok),
        };
      },
    }).then((weights) => {
      saveWeights(file, weights);
      return weights;
    });
  });
}
