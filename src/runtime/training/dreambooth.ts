// DreamBooth (stage 1 of InstructBooth): fine-tunes the UNet on a few photos of a subject with the noise-prediction
// loss, optionally with prior preservation (class images under the class prompt), either the whole UNet (the paper)
// or LoRA adapters on its attention projections. VAE and text encoder stay frozen: the prompts are embedded once.
//
// Every step's randomness (which images, crop, flip, posterior sample, timesteps, noise) derives from (seed, step)
// alone, so a run resumed from a checkpoint (parameters, optimizer state, step) ends exactly where an uninterrupted
// run ends. Checkpoints carry a fingerprint of everything that shapes the result (settings, images, model weights);
// one from another run is never resumed.
import { createHash, type Hash } from 'node:crypto';
import { makeTrainingGraph } from '../autodiff/training-graph.js';
import { Trainer } from '../autodiff/trainer.js';
import { imagesToTensor } from '../diffusion/latent-images.js';
import { NoiseSchedule } from '../diffusion/schedule.js';
import { imageAt, type ImageBatch } from '../engine/image.js';
import { FusedAdamW } from '../engine/optim/fused-adamw.js';
import { makeSchedule } from '../engine/optim/schedule.js';
import { Rng } from '../onnx/random.js';
import { Session } from '../engine/session.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';
import type { SdModel } from '../models/sd-model.js';
import { loraConfigFor, type LoraWeights, SdPipeline } from '../models/sd-pipeline.js';
import { unet } from '../models/unet.js';
import { vaeDownscale, vaeEncode } from '../models/vae.js';
import { GraphBuilder } from '../onnx/builder.js';
import { isLoraParam } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { WeightsSource } from '../onnx/params.js';
import { type AugmentChoice, applyAugment, chooseAugment, resizeShorterSide } from './augment.js';
import { type Checkpoint, CheckpointStore } from './checkpoint-store.js';
import { type DreamBoothOptions, type DreamBoothResult, type Settings, settingsOf } from './dreambooth-options.js';
import { freshLora } from './lora-init.js';
import { bytesOf, hashWeightsSample } from './weights-fingerprint.js';

export type { DreamBoothOptions, DreamBoothResult, DreamBoothStep } from './dreambooth-options.js';

const FORMAT = 'instructbooth-dreambooth/1';

/** A 64-bit seed for one purpose and index: independent streams, none depending on what ran before. */
function derivedSeed(seed: number, purpose: string, index: number): bigint {
  return createHash('sha256').update(`${seed}\u0000${purpose}\u0000${index}`).digest().readBigUInt64LE(0);
}

function hashImages(h: Hash, images: ImageBatch | undefined): void {
  if (!images) return void h.update('no images\n');
  h.update(`${images.count}x${images.height}x${images.width}x${images.channels}\n`);
  h.update(new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.byteLength));
}

/**
 * What a checkpoint must match to be resumed: the settings (the step count only when the learning-rate schedule
 * depends on it), the prompt embeddings (text encoder, tokenizer, prompts), the images and the UNet and VAE.
 */
function fingerprint(model: SdModel, s: Settings, o: DreamBoothOptions, embeddings: HostTensor): string {
  const h = createHash('sha256');
  const { steps, ...rest } = s;
  h.update(JSON.stringify({ format: FORMAT, ...rest, steps: s.lrSchedule === 'cosine' ? steps : undefined }));
  h.update(JSON.stringify([model.unet.config, model.vae.config, model.scheduler]));
  h.update(bytesOf(embeddings));
  hashImages(h, o.instanceImages);
  hashImages(h, s.prior ? o.classImages : undefined);
  hashWeightsSample(h, model.unet.weights);
  hashWeightsSample(h, model.vae.weights);
  return h.digest('hex');
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('DreamBooth training was aborted', 'AbortError');
}

/** The index of the image used at position `k` of the stream of picks: each epoch is a seeded permutation. */
function picker(seed: number, purpose: string, n: number) {
  let epoch = -1;
  let perm: number[] = [];
  return (k: number) => {
    const e = Math.floor(k / n);
    if (e !== epoch) {
      epoch = e;
      perm = new Rng(derivedSeed(seed, purpose, e)).shuffle([...Array(n).keys()]);
    }
    return perm[k % n];
  };
}

export async function trainDreamBooth(model: SdModel, o: DreamBoothOptions): Promise<DreamBoothResult> {
  const s = settingsOf(model, o);
  if (o.signal?.aborted) throw abortError(o.signal);
  const sessionOptions = o.sessionOptions ?? {};

  // Frozen text encoder: the prompt embeddings, once.
  const text = new SdPipeline(model, undefined, sessionOptions);
  let embeddings: HostTensor;
  try {
    embeddings = await text.encodeText(s.prior ? [o.instancePrompt, o.classPrompt!] : [o.instancePrompt]);
  } finally {
    await text.release();
  }
  const [, seqLen, dim] = embeddings.shape;
  const fp = fingerprint(model, s, o, embeddings);

  // Resume?
  const store = o.checkpointDir ? new CheckpointStore(o.checkpointDir, 1) : undefined;
  const found = store?.latest();
  const resume = found && found.meta.fingerprint === fp && found.step > 0 && found.step <= s.steps ? found : undefined;
  let staleInStore = !!found && !resume;
  const trained = (ck: Checkpoint, prefix: string) => {
    const m = new Map<string, HostTensor>();
    for (const [k, t] of ck.tensors) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), t);
    return m;
  };
  const earlier = resume?.meta.losses;
  const losses: number[] = Array.isArray(earlier) ? earlier.slice(0, resume!.step).map((v) => (v === null ? NaN : Number(v))) : [];
  if (resume && resume.step === s.steps) {
    const params = trained(resume, 'p.');
    return s.mode === 'full'
      ? { unetWeights: params, losses, resumedFrom: resume.step }
      : { lora: { rank: s.rank, alpha: s.alpha, weights: params }, losses, resumedFrom: resume.step };
  }
  const start = resume?.step ?? 0;

  // The training graph: [instances; class images] in one batch, per-sample MSE weighted by `loss_weight`.
  const nInst = s.batch;
  const B = s.prior ? 2 * nInst : nInst;
  const down = vaeDownscale(model.vae.config);
  const lat = s.resolution / down;
  const C = model.vae.config.latentChannels;
  if (C !== model.unet.config.inChannels) throw new Error(`DreamBooth: the VAE makes ${C}-channel latents, the UNet takes ${model.unet.config.inChannels}`);
  const resumed = resume ? trained(resume, 'p.') : undefined;
  const b = new GraphBuilder();
  const clean = b.input('clean', [B, C, lat, lat]);
  const noise = b.input('noise', [B, C, lat, lat]);
  const sqrtAb = b.input('sqrt_ab', [B, 1, 1, 1]);
  const sqrt1mAb = b.input('sqrt_1m_ab', [B, 1, 1, 1]);
  const timestep = b.input('timestep', [B]);
  const cond = b.input('encoder_hidden_states', [B, seqLen, dim]);
  const weight = b.input('loss_weight', [B, 1, 1, 1]);
  const lora: LoraWeights | undefined = s.mode === 'lora'
    ? { rank: s.rank, alpha: s.alpha, weights: resumed ?? freshLora(model.unet.config, { rank: s.rank, alpha: s.alpha, seed: Number(derivedSeed(s.seed, 'lora-init', 0) >> 12n) }).weights }
    : undefined;
  const params = new WeightsSource(s.mode === 'full' && resumed ? resumed : model.unet.weights);
  const noisy = op.add(op.mul(clean, sqrtAb), op.mul(noise, sqrt1mAb));
  const d = op.sub(unet({ b, params, lora: lora && loraConfigFor(lora) }, model.unet.config, noisy, timestep, cond), noise);
  const mse = op.reduceMean(op.mul(d, d), [1, 2, 3]);
  b.output(op.reduceSum(op.mul(mse, weight), [0, 1, 2, 3], false), 'loss');
  b.output(op.reshape(mse, [B]), 'sample_mse');
  const tg = makeTrainingGraph(b.graph, 'loss', {
    trainable: s.mode === 'lora' ? isLoraParam : undefined, extraOutputs: ['sample_mse'], gradientCheckpointing: o.gradientCheckpointing === true,
  });

  const optimizer = FusedAdamW.create({ lr: s.lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, session: sessionOptions });
  if (resume) {
    // In the trainer's parameter order, so the fused update keeps working in place on the trainer's flat buffer.
    const st = trained(resume, 'o.');
    const sd: Record<string, HostTensor> = { step: st.get('step')! };
    for (const n of tg.params) for (const k of [`exp_avg.${n}`, `exp_avg_sq.${n}`, `step.${n}`]) if (st.has(k)) sd[k] = st.get(k)!;
    optimizer.loadStateDict(sd);
  }
  const lrAt = makeSchedule({
    kind: s.lrSchedule === 'cosine' ? 'cosine' : s.warmup > 0 ? 'linearWarmup' : 'constant',
    baseLr: s.lr, warmupSteps: s.warmup, totalSteps: Math.max(1, s.steps),
  });

  let trainer: Trainer | undefined;
  let vae: Session | undefined;
  try {
    trainer = await Trainer.create(tg, optimizer, { maxGradNorm: s.maxGradNorm > 0 ? s.maxGradNorm : undefined, session: sessionOptions });
    const tr = trainer;
    // The trainer holds its own flat copy now: drop the other references to the starting values (gigabytes at SD1.5).
    tg.initial.clear();
    resume?.tensors.clear();
    // Posterior moments of one augmented image at a time (batch 1: the same numbers whether cached or not).
    vae = await Session.fromGraph((() => {
      const g = new GraphBuilder();
      const m = vaeEncode({ b: g, params: new WeightsSource(model.vae.weights) }, model.vae.config, g.input('image', [1, 3, s.resolution, s.resolution]));
      g.output(op.concat([m.mean, m.logvar], 1), 'moments');
      return g.graph;
    })(), sessionOptions);
    const encoder = vae;
    const plane = C * lat * lat;
    const cache = new Map<string, Float32Array>();
    const cacheLimit = Math.max(16, Math.floor((256 * 2 ** 20) / (8 * plane)));
    const moments = async (set: string, images: ImageBatch, idx: number, c: AugmentChoice) => {
      const key = `${set}:${idx}:${c.top}:${c.left}:${c.flip ? 1 : 0}`;
      let m = cache.get(key);
      if (!m) {
        const img = applyAugment(imageAt(images, idx), c, s.resolution);
        m = (await encoder.run({ image: imagesToTensor(img) })).moments.data as Float32Array;
        if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value!);
        cache.set(key, m);
      }
      return m;
    };

    const inst = resizeShorterSide(o.instanceImages, s.resolution);
    const cls = s.prior ? resizeShorterSide(o.classImages!, s.resolution) : undefined;
    const pickInst = picker(s.seed, 'instance-order', inst.count);
    const pickCls = cls && picker(s.seed, 'class-order', cls.count);
    const schedule = new NoiseSchedule(model.scheduler);
    const scale = model.vae.config.scalingFactor;
    const f32 = (shape: number[], data: Float32Array) => tensor('float32', shape, data);
    const condData = new Float32Array(B * seqLen * dim);
    const rowLen = seqLen * dim;
    const embData = embeddings.data as Float32Array;
    for (let i = 0; i < B; i++) condData.set(embData.subarray(i < nInst ? 0 : rowLen, i < nInst ? rowLen : 2 * rowLen), i * rowLen);
    const condFeed = f32([B, seqLen, dim], condData);
    const weights = new Float32Array(B).map((_, i) => (i < nInst ? 1 / nInst : s.priorWeight / nInst));
    const augment = { resolution: s.resolution, randomCrop: s.randomCrop, randomFlip: s.randomFlip };

    const feedsAt = async (step: number): Promise<Record<string, HostTensor>> => {
      const rng = new Rng(derivedSeed(s.seed, 'step', step));
      const z = new Float32Array(B * plane);
      for (let i = 0; i < B; i++) {
        const instance = i < nInst;
        const images = instance ? inst : cls!;
        const idx = instance ? pickInst(step * nInst + i) : pickCls!(step * nInst + i - nInst);
        const c = chooseAugment(images.height, images.width, augment, rng);
        const m = await moments(instance ? 'i' : 'c', images, idx, c);
        // diffusers' latent_dist.sample(): mean + exp(logvar / 2) n, log-variance clamped to [-30, 20].
        for (let k = 0; k < plane; k++) {
          const logvar = Math.min(20, Math.max(-30, m[plane + k]));
          z[i * plane + k] = scale * (m[k] + Math.exp(0.5 * logvar) * rng.normal());
        }
      }
      const ts = new Float32Array(B), sa = new Float32Array(B), s1m = new Float32Array(B);
      for (let i = 0; i < B; i++) {
        const t = rng.int(schedule.numTrainTimesteps);
        const ab = schedule.alphaCumprod(t);
        [ts[i], sa[i], s1m[i]] = [t, Math.sqrt(ab), Math.sqrt(1 - ab)];
      }
      return {
        clean: f32([B, C, lat, lat], z),
        noise: f32([B, C, lat, lat], rng.fillNormal(new Float32Array(B * plane))),
        sqrt_ab: f32([B, 1, 1, 1], sa),
        sqrt_1m_ab: f32([B, 1, 1, 1], s1m),
        timestep: f32([B], ts),
        encoder_hidden_states: condFeed,
        loss_weight: f32([B, 1, 1, 1], weights),
      };
    };

    let saved = start;
    const save = (step: number) => {
      if (!store) return;
      if (staleInStore) {
        store.clear();
        staleInStore = false;
      }
      const tensors = new Map<string, HostTensor>();
      for (const n of tg.params) tensors.set(`p.${n}`, tr.paramTensor(n));
      for (const [k, t] of Object.entries(optimizer.stateDict())) tensors.set(`o.${k}`, t);
      store.save({ step, tensors, meta: { fingerprint: fp, format: FORMAT, losses } });
      saved = step;
    };

    for (let step = start; step < s.steps; step++) {
      if (o.signal?.aborted) {
        if (step > saved) save(step);
        throw abortError(o.signal);
      }
      const lr = lrAt(step);
      const r = await tr.step(await feedsAt(step), lr);
      const per = r.extras.sample_mse.data as Float32Array;
      let instanceLoss = 0, priorLoss = 0;
      for (let i = 0; i < B; i++) {
        if (i < nInst) instanceLoss += per[i] / nInst;
        else priorLoss += per[i] / nInst;
      }
      losses.push(r.loss);
      if (o.checkpointEvery && (step + 1) % o.checkpointEvery === 0 && step + 1 < s.steps) save(step + 1);
      o.onStep?.({ step: step + 1, total: s.steps, loss: r.loss, instanceLoss, priorLoss: s.prior ? priorLoss : undefined, lr, gradNorm: r.gradNorm });
    }
    if (s.steps > saved) save(s.steps);

    const out = new Map<string, HostTensor>();
    for (const n of tg.params) out.set(n, tr.paramTensor(n));
    return s.mode === 'full'
      ? { unetWeights: out, losses, resumedFrom: resume?.step }
      : { lora: { rank: s.rank, alpha: s.alpha, weights: out }, losses, resumedFrom: resume?.step };
  } finally {
    await trainer?.release();
    await vae?.release();
  }
}
