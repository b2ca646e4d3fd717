// DDPO (ddpo-pytorch's PPO variant) on a LoRA adapter of the UNet: each epoch samples images with the current adapter
// (DDIM, eta 1, classifier-free guidance, every step's log-probability recorded), scores them with the reward,
// normalizes rewards into advantages (per prompt), and trains on the recorded steps with the clipped importance
// ratio. Everything random derives from (seed, epoch), and a checkpoint after an epoch holds all the state the next
// epoch reads (adapter, AdamW moments, reward buffers, history), so a resumed run reproduces an uninterrupted one.
//
// Schedule of one epoch (ddpo-pytorch semantics):
// - prompts: `samplesPerEpoch` draws from the pool, uniform with replacement ('uniform', ddpo-pytorch's prompt_fn) or
//   cycling through it ('round-robin', which continues across epochs);
// - sampling in batches of `sampleBatch`; each sample has its own seed (noise and step noise);
// - per inner epoch: shuffle the samples, and per sample the order of its T timesteps; train on the first
//   floor(T * timestepFraction) of them. A minibatch is `trainBatch` samples, each at its own timestep, so one pass over
//   a minibatch is trainT graph runs; gradients average over `gradAccumulation` minibatches (and their trainT runs)
//   before one clipped AdamW update (default: every minibatch of the inner epoch, i.e. one update per inner epoch). A
//   remainder at the end of an inner epoch is applied as its own update.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Trainer } from '../autodiff/trainer.js';
import { combineGuidance } from '../diffusion/guidance.js';
import type { Trajectory } from '../diffusion/sampler.js';
import { concatImages, type ImageBatch } from '../engine/image.js';
import { AdamW } from '../engine/optim/adamw.js';
import { GradAccumulator } from '../engine/optim/accumulate.js';
import { Rng } from '../engine/random.js';
import type { SessionOptions } from '../engine/session.js';
import { type HostTensor, tensor } from '../engine/tensor.js';
import type { LoraConfig } from '../onnx/layers.js';
import { type ParamSource, RandomInit, WeightsSource } from '../onnx/params.js';
import type { SdModel } from '../models/sd-model.js';
import { loraConfigFor, type LoraWeights, SdPipeline } from '../models/sd-pipeline.js';
import { vaeDownscale } from '../models/vae.js';
import type { AlignmentScorer } from '../rewards/types.js';
import { CheckpointStore } from './checkpoint-store.js';
import { LORA_TARGET_SETS, type LoraTargetSet } from './lora-init.js';
import { hashWeightsSample } from './weights-fingerprint.js';
import { DDPO_OUTPUTS, type DdpoLossConfig, ddpoFeeds, ddpoTrainingGraph, type DdpoMinibatch } from './ddpo-loss.js';
import { StatTracker, type StatTrackerState } from './stat-tracker.js';

export interface EpochStats {
  /** 1-based: the epoch just finished. */
  epoch: number;
  rewardMean: number;
  rewardStd: number;
  /** Means over the epoch's training runs (minibatch x timestep). */
  loss: number;
  approxKl: number;
  clipFrac: number;
  /** mean((eps - eps_ref)^2) when klWeight > 0. */
  kl?: number;
  /** Mean gradient norm before clipping over the epoch's updates. */
  gradNorm: number;
  /** Optimizer updates applied, and skipped for a non-finite gradient. */
  updates: number;
  skippedUpdates: number;
  /**
   * Largest |logp_new - logp_old| before the epoch's first update, where the parameters are those that sampled: it
   * should be float noise (~1e-5); more means the training graph is not the sampling policy.
   */
  logpMismatch: number;
  /** Mean reward per prompt. */
  perPrompt?: Record<string, number>;
  sampleSeconds: number;
  trainSeconds: number;
}

export interface DdpoOptions {
  /** The prompt pool. */
  prompts: string[];
  /** How each epoch draws its prompts from the pool (see the file comment). Default 'uniform'. */
  promptSampling?: 'uniform' | 'round-robin';
  reward: AlignmentScorer;
  epochs: number;
  samplesPerEpoch?: number;
  sampleBatch?: number;
  /** DDIM sampling steps. */
  steps?: number;
  guidance?: number;
  eta?: number;
  trainBatch?: number;
  /** Minibatches per optimizer update; default all of an inner epoch (samplesPerEpoch / trainBatch). */
  gradAccumulation?: number;
  innerEpochs?: number;
  timestepFraction?: number;
  clipRange?: number;
  advantageClip?: number;
  /** Per-prompt reward buffers, or false for batch-global normalization. */
  perPromptStats?: { bufferSize?: number; minCount?: number } | false;
  lr?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  adamEps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  loraRank?: number;
  loraAlpha?: number;
  /** Which UNet layers a new adapter covers: every attention projection (default, as diffusers' DDPO) or only the
   * cross-attention ones, where the prompt enters the image. */
  loraTargets?: LoraTargetSet;
  /** Continue training this adapter (its rank, alpha and targets override loraRank/loraAlpha). */
  initialLora?: LoraWeights;
  /** Weight of mean((eps - eps_ref)^2) against the starting model (base + initialLora). Default 0. */
  klWeight?: number;
  seed?: number;
  /** Save a checkpoint every this many epochs (and after the last). Default 1 when checkpointDir is set. */
  checkpointEvery?: number;
  /**
   * Checkpoints go to `<checkpointDir>/ddpo-<fingerprint>/`, the fingerprint hashing every setting that changes the
   * run (not `epochs`, so a finished run extends; not the reward, which cannot be hashed: keep one reward per dir).
   * A run resumes from the newest checkpoint there.
   */
  checkpointDir?: string;
  onEpoch?(e: EpochStats, samples: ImageBatch): void;
  onProgress?(done: number, total: number, phase: 'sample' | 'train'): void;
  signal?: AbortSignal;
  sessionOptions?: SessionOptions;
  /**
   * Recompute activations in the backward pass instead of keeping them (less memory, about one more forward pass of
   * compute). The same results, so not part of the fingerprint: a run may resume with it on or off.
   */
  gradientCheckpointing?: boolean;
}

export interface DdpoResult {
  lora: LoraWeights;
  history: EpochStats[];
  /** Epochs already done in the checkpoint this run resumed from. */
  resumedFrom?: number;
  /** Where checkpoints went. */
  checkpointDir?: string;
}

type Resolved = Required<Omit<DdpoOptions, 'initialLora' | 'onEpoch' | 'onProgress' | 'signal' | 'sessionOptions' | 'checkpointDir' | 'perPromptStats' | 'reward' | 'gradientCheckpointing'>> & {
  perPromptStats: { bufferSize: number; minCount: number } | false;
};

function resolve(o: DdpoOptions): Resolved {
  const samplesPerEpoch = o.samplesPerEpoch ?? 32;
  const trainBatch = o.trainBatch ?? 4;
  const r: Resolved = {
    prompts: o.prompts, promptSampling: o.promptSampling ?? 'uniform', epochs: o.epochs, samplesPerEpoch,
    sampleBatch: o.sampleBatch ?? 8, steps: o.steps ?? 20, guidance: o.guidance ?? 5, eta: o.eta ?? 1, trainBatch,
    gradAccumulation: o.gradAccumulation ?? Math.max(1, Math.floor(samplesPerEpoch / trainBatch)),
    innerEpochs: o.innerEpochs ?? 1, timestepFraction: o.timestepFraction ?? 1, clipRange: o.clipRange ?? 1e-4,
    advantageClip: o.advantageClip ?? 5,
    perPromptStats: o.perPromptStats === false ? false : { bufferSize: o.perPromptStats?.bufferSize ?? 32, minCount: o.perPromptStats?.minCount ?? 16 },
    lr: o.lr ?? 3e-4, adamBeta1: o.adamBeta1 ?? 0.9, adamBeta2: o.adamBeta2 ?? 0.999, adamEps: o.adamEps ?? 1e-8,
    weightDecay: o.weightDecay ?? 1e-4, maxGradNorm: o.maxGradNorm ?? 1, loraRank: o.loraRank ?? 4, loraAlpha: o.loraAlpha ?? 4,
    loraTargets: o.loraTargets ?? 'attention',
    klWeight: o.klWeight ?? 0, seed: o.seed ?? 0, checkpointEvery: o.checkpointEvery ?? 1,
  };
  const posInt = (name: keyof Resolved, min = 1) => {
    const v = r[name] as number;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`DDPO ${name} must be an integer >= ${min}, got ${v}`);
  };
  if (r.prompts.length === 0) throw new Error('DDPO needs at least one prompt');
  (['samplesPerEpoch', 'sampleBatch', 'steps', 'trainBatch', 'gradAccumulation', 'innerEpochs', 'loraRank', 'checkpointEvery'] as const).forEach((k) => posInt(k));
  posInt('epochs', 0);
  if (r.samplesPerEpoch % r.trainBatch !== 0) throw new RangeError(`DDPO samplesPerEpoch ${r.samplesPerEpoch} must be a multiple of trainBatch ${r.trainBatch}`);
  if (!(r.eta > 0)) throw new RangeError(`DDPO needs a stochastic sampler (eta > 0) for log-probabilities, got eta ${r.eta}`);
  if (!(r.timestepFraction > 0 && r.timestepFraction <= 1)) throw new RangeError(`DDPO timestepFraction must be in (0, 1], got ${r.timestepFraction}`);
  if (!(r.clipRange > 0)) throw new RangeError(`DDPO clipRange must be > 0, got ${r.clipRange}`);
  if (!(r.klWeight >= 0)) throw new RangeError(`DDPO klWeight must be >= 0, got ${r.klWeight}`);
  if (!(r.maxGradNorm > 0)) throw new RangeError(`DDPO maxGradNorm must be > 0 (Infinity for no clipping), got ${r.maxGradNorm}`);
  if (!(r.lr >= 0)) throw new RangeError(`DDPO lr must be >= 0, got ${r.lr}`);
  if (!Object.hasOwn(LORA_TARGET_SETS, r.loraTargets)) throw new Error(`DDPO loraTargets '${String(r.loraTargets)}' (${Object.keys(LORA_TARGET_SETS).join(', ')})`);
  if (r.promptSampling !== 'uniform' && r.promptSampling !== 'round-robin') throw new Error(`DDPO promptSampling '${String(r.promptSampling)}' (uniform, round-robin)`);
  return r;
}

/** Settings that change the run, as JSON, and a short hash of them. */
function fingerprint(model: SdModel, r: Resolved, initial?: LoraWeights): { text: string; hash: string } {
  const h = createHash('sha256');
  // The model: its source and architecture, and a sample of every UNet tensor (a retrained model at the same path, or
  // one that differs only in some layers, as a merged attention-only LoRA makes it, is another starting point).
  hashWeightsSample(h, model.unet.weights);
  if (initial) hashWeightsSample(h, initial.weights);
  const { epochs: _epochs, checkpointEvery: _every, ...settings } = r;
  const text = JSON.stringify({
    model: model.source, unet: model.unet.config, resolution: model.resolution, tensors: h.digest('hex').slice(0, 16),
    initialLora: initial ? { rank: initial.rank, alpha: initial.alpha } : null, ...settings,
  });
  return { text, hash: createHash('sha256').update(text).digest('hex').slice(0, 12) };
}

/** The generator for everything random in epoch `e` (0-based). */
function epochRng(seed: number, e: number): Rng {
  return new Rng(BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(e) * 0xbf58476d1ce4e5b9n + 1n));
}

interface Sample {
  prompt: string;
  reward: number;
  advantage: number;
  trajectory: Trajectory;
  cond: Float32Array;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0);
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) * (x - m))));
};

export async function trainDdpo(model: SdModel, options: DdpoOptions): Promise<DdpoResult> {
  const r = resolve(options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const initial = options.initialLora;
  const rank = initial?.rank ?? r.loraRank;
  const alpha = initial?.alpha ?? r.loraAlpha;

  // Resume.
  let store: CheckpointStore | undefined;
  let fp: { text: string; hash: string } | undefined;
  let resumed: { epoch: number; lora: Map<string, HostTensor>; optim: Record<string, HostTensor>; tracker: StatTrackerState; history: EpochStats[] } | undefined;
  if (options.checkpointDir) {
    fp = fingerprint(model, r, initial);
    store = new CheckpointStore(path.join(options.checkpointDir, `ddpo-${fp.hash}`));
    const c = store.latest();
    if (c && c.meta.fingerprint === fp.text) {
      const lora = new Map<string, HostTensor>(), optim: Record<string, HostTensor> = {};
      for (const [k, t] of c.tensors) {
        if (k.startsWith('lora.')) lora.set(k.slice(5), t);
        else if (k.startsWith('optim.')) optim[k.slice(6)] = t;
      }
      resumed = { epoch: c.step, lora, optim, tracker: c.meta.tracker as StatTrackerState, history: c.meta.history as EpochStats[] };
    }
  }

  // A finished run (a workflow run again) returns its adapter without building any session. A checkpoint past
  // `epochs` is returned as it is: only the newest checkpoints are kept.
  if (resumed && resumed.epoch >= r.epochs)
    return { lora: { rank, alpha, weights: resumed.lora }, history: resumed.history, resumedFrom: resumed.epoch, checkpointDir: store?.dir };

  const tracker = new StatTracker(r.perPromptStats === false ? { perPrompt: false, clip: r.advantageClip } : { ...r.perPromptStats, clip: r.advantageClip });
  if (resumed) tracker.load(resumed.tracker);

  // The adapter: where it starts, and which layers it covers.
  const startSource: ParamSource = resumed ? new WeightsSource(resumed.lora) : initial ? new WeightsSource(initial.weights) : new RandomInit(r.seed + 0x10a);
  const targets = initial ? loraConfigFor(initial).targets : (p: string) => LORA_TARGET_SETS[r.loraTargets].test(p);
  const lora: LoraConfig = { rank, alpha, targets, params: startSource };

  const side = model.resolution / vaeDownscale(model.vae.config);
  const latentShape: [number, number, number] = [model.vae.config.latentChannels, side, side];
  const tc = model.textEncoder.config;
  const lossConfig: DdpoLossConfig = {
    batch: r.trainBatch, latentShape, contextShape: [tc.maxPositions, tc.width], guidance: r.guidance, clipRange: r.clipRange, klWeight: r.klWeight,
  };
  const tg = ddpoTrainingGraph(model.unet, lora, lossConfig, { gradientCheckpointing: options.gradientCheckpointing === true });
  const optimizer = new AdamW({ lr: r.lr, beta1: r.adamBeta1, beta2: r.adamBeta2, eps: r.adamEps, weightDecay: r.weightDecay });
  if (resumed && Object.keys(resumed.optim).length > 0) optimizer.loadStateDict(resumed.optim);
  const trainer = await Trainer.create(tg, optimizer, { session: options.sessionOptions, maxGradNorm: r.maxGradNorm });
  // The sampler reads the trainer's parameter buffers, which every update rewrites in place.
  const current: LoraWeights = { rank, alpha, weights: new Map(tg.params.map((n) => [n, trainer.paramTensor(n)])) };
  const pipeline = new SdPipeline(model, current, options.sessionOptions, { loraAsInputs: true });
  const reference = r.klWeight > 0 ? new SdPipeline(model, initial, options.sessionOptions) : undefined;
  const history: EpochStats[] = resumed ? [...resumed.history] : [];

  const per = latentShape[0] * latentShape[1] * latentShape[2];
  const ctxPer = tc.maxPositions * tc.width;
  const trainT = Math.max(1, Math.floor(r.steps * r.timestepFraction));
  const nMinibatches = r.samplesPerEpoch / r.trainBatch;

  const save = (epochsDone: number) => {
    if (!store) return;
    const tensors = new Map<string, HostTensor>();
    for (const n of tg.params) tensors.set(`lora.${n}`, trainer.paramTensor(n));
    for (const [k, t] of Object.entries(optimizer.stateDict())) tensors.set(`optim.${k}`, t);
    store.save({ step: epochsDone, tensors, meta: { kind: 'ddpo', fingerprint: fp!.text, rank, alpha, tracker: tracker.state(), history } });
  };

  try {
    for (let e = resumed?.epoch ?? 0; e < r.epochs; e++) {
      const rng = epochRng(r.seed, e);
      const prompts = Array.from({ length: r.samplesPerEpoch }, (_, i) =>
        r.promptSampling === 'uniform' ? r.prompts[rng.int(r.prompts.length)] : r.prompts[(e * r.samplesPerEpoch + i) % r.prompts.length]);
      const seeds = prompts.map(() => rng.nextU32());

      // ---- sample and score
      const t0 = performance.now();
      const samples: Sample[] = [];
      const images: ImageBatch[] = [];
      let uncondRow: Float32Array | undefined;
      const nSampleBatches = Math.ceil(r.samplesPerEpoch / r.sampleBatch);
      for (let k = 0; k < nSampleBatches; k++) {
        signal?.throwIfAborted();
        const ps = prompts.slice(k * r.sampleBatch, (k + 1) * r.sampleBatch);
        const out = await pipeline.sample({
          prompts: ps, seeds: seeds.slice(k * r.sampleBatch, (k + 1) * r.sampleBatch), steps: r.steps, guidance: r.guidance, scheduler: 'ddim',
          eta: r.eta, recordTrajectory: true, signal,
          onProgress: options.onProgress && ((s, total) => options.onProgress!(k * total + s, nSampleBatches * total, 'sample')),
        });
        const rewards = await options.reward.score(out.images, ps);
        if (rewards.length !== ps.length) throw new Error(`the reward gave ${rewards.length} scores for ${ps.length} images`);
        uncondRow ??= (out.uncond.data as Float32Array).slice(0, ctxPer);
        ps.forEach((p, i) => samples.push({
          prompt: p, reward: rewards[i], advantage: 0, trajectory: out.trajectories![i], cond: (out.cond.data as Float32Array).slice(i * ctxPer, (i + 1) * ctxPer),
        }));
        images.push(out.images);
      }
      const advantages = tracker.update(samples.map((s) => s.prompt), samples.map((s) => s.reward));
      samples.forEach((s, i) => (s.advantage = advantages[i]));
      const sampleSeconds = (performance.now() - t0) / 1000;

      // ---- train
      const t1 = performance.now();
      const acc = new GradAccumulator();
      const meanGrads = new Map<string, Float32Array>();
      const losses: number[] = [], kls: number[] = [], clips: number[] = [], refKls: number[] = [], norms: number[] = [];
      let skipped = 0;
      let mismatch = 0, updated = false;
      const totalRuns = r.innerEpochs * nMinibatches * trainT;
      let runs = 0;
      const update = async () => {
        // A non-finite gradient norm skips the update (the trainer leaves the adapter as it was).
        const norm = await trainer.apply(acc.mean(meanGrads), r.lr);
        if (norm !== undefined && !Number.isFinite(norm)) skipped++;
        else if (norm !== undefined) norms.push(norm);
        acc.reset();
        updated = true;
      };
      for (let inner = 0; inner < r.innerEpochs; inner++) {
        const order = rng.shuffle([...samples.keys()]);
        const stepOrder = samples.map(() => rng.shuffle([...Array(r.steps).keys()]));
        for (let m = 0; m < nMinibatches; m++) {
          const idx = order.slice(m * r.trainBatch, (m + 1) * r.trainBatch);
          for (let j = 0; j < trainT; j++) {
            signal?.throwIfAborted();
            const mb: DdpoMinibatch = { xt: [], next: [], timesteps: [], prevTimesteps: [], cond: [], uncond: [uncondRow!], oldLogp: [], advantages: [] };
            for (const i of idx) {
              const s = samples[i], tr = s.trajectory, step = stepOrder[i][j];
              mb.xt.push((tr.latents.data as Float32Array).subarray(step * per, (step + 1) * per));
              mb.next.push((tr.nextLatents.data as Float32Array).subarray(step * per, (step + 1) * per));
              mb.timesteps.push(tr.timesteps[step]);
              mb.prevTimesteps.push(tr.prevTimesteps[step]);
              mb.cond.push(s.cond);
              mb.oldLogp.push(tr.logProbs[step]);
              mb.advantages.push(s.advantage);
            }
            if (reference) mb.epsRef = await referenceEps(reference, mb, lossConfig);
            const { loss, grads, extras } = await trainer.gradients(ddpoFeeds(pipeline.schedule, lossConfig, mb, r.eta));
            losses.push(loss);
            kls.push(extras[DDPO_OUTPUTS.approxKl].data[0] as number);
            clips.push(extras[DDPO_OUTPUTS.clipFrac].data[0] as number);
            if (reference) refKls.push(extras[DDPO_OUTPUTS.kl].data[0] as number);
            if (!updated) {
              const logp = extras[DDPO_OUTPUTS.logp].data as Float32Array;
              mb.oldLogp.forEach((old, q) => (mismatch = Math.max(mismatch, Math.abs(logp[q] - old))));
            }
            acc.add(grads);
            options.onProgress?.(++runs, totalRuns, 'train');
          }
          if ((m + 1) % r.gradAccumulation === 0 || m + 1 === nMinibatches) await update();
        }
      }
      const rewards = samples.map((s) => s.reward);
      const byPrompt = new Map<string, number[]>();
      for (const s of samples) (byPrompt.get(s.prompt) ?? byPrompt.set(s.prompt, []).get(s.prompt)!).push(s.reward);
      const stats: EpochStats = {
        epoch: e + 1, rewardMean: mean(rewards), rewardStd: std(rewards), loss: mean(losses), approxKl: mean(kls), clipFrac: mean(clips),
        ...(reference ? { kl: mean(refKls) } : {}),
        gradNorm: mean(norms), updates: norms.length, skippedUpdates: skipped, logpMismatch: mismatch,
        perPrompt: Object.fromEntries([...byPrompt].map(([p, rs]) => [p, mean(rs)])),
        sampleSeconds, trainSeconds: (performance.now() - t1) / 1000,
      };
      history.push(stats);
      if (store && ((e + 1) % r.checkpointEvery === 0 || e + 1 === r.epochs)) save(e + 1);
      options.onEpoch?.(stats, concatImages(images));
    }
    const weights = new Map(tg.params.map((n) => [n, tensor('float32', [...trainer.paramTensor(n).shape], Float32Array.from(trainer.params.get(n)!))]));
    return { lora: { rank, alpha, weights }, history, resumedFrom: resumed?.epoch, checkpointDir: store?.dir };
  } finally {
    await trainer.release();
    await pipeline.release();
    await reference?.release();
  }
}

/** The starting model's guided eps at the minibatch's steps (one inference run on [uncond; cond]). */
async function referenceEps(ref: SdPipeline, mb: DdpoMinibatch, c: DdpoLossConfig): Promise<Float32Array[]> {
  const n = c.batch;
  const per = c.latentShape[0] * c.latentShape[1] * c.latentShape[2];
  const ctxPer = c.contextShape[0] * c.contextShape[1];
  const x = new Float32Array(2 * n * per), ctx = new Float32Array(2 * n * ctxPer);
  for (let i = 0; i < n; i++) {
    x.set(mb.xt[i], i * per);
    x.set(mb.xt[i], (n + i) * per);
    ctx.set(mb.uncond.length === 1 ? mb.uncond[0] : mb.uncond[i], i * ctxPer);
    ctx.set(mb.cond[i], (n + i) * ctxPer);
  }
  const both = await ref.denoiser().predict(tensor('float32', [2 * n, ...c.latentShape], x), [...mb.timesteps, ...mb.timesteps], tensor('float32', [2 * n, ...c.contextShape], ctx));
  const eps = combineGuidance(both, c.guidance).data as Float32Array;
  return Array.from({ length: n }, (_, i) => eps.slice(i * per, (i + 1) * per));
}
