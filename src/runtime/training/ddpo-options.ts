// What a DDPO run is asked to do (DdpoOptions, as the node and scripts give it) and the settings it runs with: every
// option checked, with an error naming it, and every default filled in from DDPO_DEFAULTS, which the DDPOUpdate
// node's schema reads too, so a default is written once.
import type { ImageBatch } from '../engine/image.js';
import type { SessionOptions } from '../engine/session.js';
import type { LoraWeights } from '../models/sd-pipeline.js';
import type { AlignmentScorer } from '../rewards/types.js';
import type { AdamWOptions } from './adamw-options.js';
import { LORA_TARGET_SETS, type LoraTargetSet } from './lora-init.js';

/** Every default of a DDPO run (docs/algorithms.md lists them beside ddpo-pytorch's). */
export const DDPO_DEFAULTS = {
  promptSampling: 'uniform' as 'uniform' | 'round-robin',
  samplesPerEpoch: 32,
  sampleBatch: 8,
  steps: 20,
  guidance: 5,
  eta: 1,
  trainBatch: 4,
  innerEpochs: 1,
  timestepFraction: 1,
  clipRange: 1e-4,
  advantageClip: 5,
  statBufferSize: 32,
  statMinCount: 16,
  lr: 3e-4,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEps: 1e-8,
  weightDecay: 1e-4,
  maxGradNorm: 1,
  loraRank: 4,
  loraAlpha: 4,
  loraTargets: 'attention' as LoraTargetSet,
  klWeight: 0,
  seed: 0,
  checkpointEvery: 1,
} as const;

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

export interface DdpoOptions extends AdamWOptions {
  /** The prompt pool. */
  prompts: string[];
  /** How each epoch draws its prompts from the pool (see ddpo.ts's file comment). */
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
  loraRank?: number;
  loraAlpha?: number;
  /** Which UNet layers a new adapter covers: every attention projection (as diffusers' DDPO) or only the
   * cross-attention ones, where the prompt enters the image. */
  loraTargets?: LoraTargetSet;
  /** Continue training this adapter (its rank, alpha and targets override loraRank/loraAlpha). */
  initialLora?: LoraWeights;
  /** Weight of mean((eps - eps_ref)^2) against the starting model (base + initialLora); 0 turns it off. */
  klWeight?: number;
  seed?: number;
  /** Save a checkpoint every this many epochs (and after the last) when checkpointDir is set. */
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

/** The options checked, defaults filled in: what a run uses and what its checkpoints' fingerprint hashes. */
export type DdpoSettings = Required<Omit<DdpoOptions, 'initialLora' | 'onEpoch' | 'onProgress' | 'signal' | 'sessionOptions' | 'checkpointDir' | 'perPromptStats' | 'reward' | 'gradientCheckpointing'>> & {
  perPromptStats: { bufferSize: number; minCount: number } | false;
};

/** Checks every option (errors name it) and fills in the defaults. */
export function settingsOf(o: DdpoOptions): DdpoSettings {
  const samplesPerEpoch = o.samplesPerEpoch ?? DDPO_DEFAULTS.samplesPerEpoch;
  const trainBatch = o.trainBatch ?? DDPO_DEFAULTS.trainBatch;
  const r: DdpoSettings = {
    prompts: o.prompts, promptSampling: o.promptSampling ?? DDPO_DEFAULTS.promptSampling, epochs: o.epochs, samplesPerEpoch,
    sampleBatch: o.sampleBatch ?? DDPO_DEFAULTS.sampleBatch, steps: o.steps ?? DDPO_DEFAULTS.steps, guidance: o.guidance ?? DDPO_DEFAULTS.guidance, eta: o.eta ?? DDPO_DEFAULTS.eta, trainBatch,
    gradAccumulation: o.gradAccumulation ?? Math.max(1, Math.floor(samplesPerEpoch / trainBatch)),
    innerEpochs: o.innerEpochs ?? DDPO_DEFAULTS.innerEpochs, timestepFraction: o.timestepFraction ?? DDPO_DEFAULTS.timestepFraction, clipRange: o.clipRange ?? DDPO_DEFAULTS.clipRange,
    advantageClip: o.advantageClip ?? DDPO_DEFAULTS.advantageClip,
    perPromptStats: o.perPromptStats === false ? false : { bufferSize: o.perPromptStats?.bufferSize ?? DDPO_DEFAULTS.statBufferSize, minCount: o.perPromptStats?.minCount ?? DDPO_DEFAULTS.statMinCount },
    lr: o.lr ?? DDPO_DEFAULTS.lr, adamBeta1: o.adamBeta1 ?? DDPO_DEFAULTS.adamBeta1, adamBeta2: o.adamBeta2 ?? DDPO_DEFAULTS.adamBeta2, adamEps: o.adamEps ?? DDPO_DEFAULTS.adamEps,
    weightDecay: o.weightDecay ?? DDPO_DEFAULTS.weightDecay, maxGradNorm: o.maxGradNorm ?? DDPO_DEFAULTS.maxGradNorm, loraRank: o.loraRank ?? DDPO_DEFAULTS.loraRank, loraAlpha: o.loraAlpha ?? DDPO_DEFAULTS.loraAlpha,
    loraTargets: o.loraTargets ?? DDPO_DEFAULTS.loraTargets,
    klWeight: o.klWeight ?? DDPO_DEFAULTS.klWeight, seed: o.seed ?? DDPO_DEFAULTS.seed, checkpointEvery: o.checkpointEvery ?? DDPO_DEFAULTS.checkpointEvery,
  };
  const posInt = (name: keyof DdpoSettings, min = 1) => {
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
