// The first half of a DDPO epoch: the epoch's prompts drawn from the pool, images sampled with the current adapter
// (DDIM, every step's latents and log-probability recorded), scored by the reward, and the rewards turned into
// advantages (per prompt, by the stat tracker).
import type { Trajectory } from '../diffusion/sampler.js';
import type { ImageBatch } from '../engine/image.js';
import type { Rng } from '../onnx/random.js';
import type { SdPipeline } from '../models/sd-pipeline.js';
import type { AlignmentScorer } from '../rewards/types.js';
import type { DdpoOptions, DdpoSettings } from './ddpo-options.js';
import type { StatTracker } from './stat-tracker.js';

/** One sampled image's record, what training replays. */
export interface Sample {
  prompt: string;
  reward: number;
  advantage: number;
  trajectory: Trajectory;
  cond: Float32Array;
}

export interface EpochSamples {
  samples: Sample[];
  images: ImageBatch[];
  /** The unconditional text embedding's row (the same for every sample). */
  uncond: Float32Array;
  seconds: number;
}

/**
 * The epoch's prompts and seeds: `samplesPerEpoch` draws from the pool, uniform with replacement or in turn (continuing
 * across epochs), each with its own seed.
 */
export function epochPrompts(r: DdpoSettings, e: number, rng: Rng): { prompts: string[]; seeds: number[] } {
  const prompts = Array.from({ length: r.samplesPerEpoch }, (_, i) =>
    r.promptSampling === 'uniform' ? r.prompts[rng.int(r.prompts.length)] : r.prompts[(e * r.samplesPerEpoch + i) % r.prompts.length]);
  return { prompts, seeds: prompts.map(() => rng.nextU32()) };
}

export interface SamplingRun {
  pipeline: SdPipeline;
  reward: AlignmentScorer;
  tracker: StatTracker;
  r: DdpoSettings;
  /** Floats in one text embedding. */
  ctxPer: number;
  signal?: AbortSignal;
  onProgress?: DdpoOptions['onProgress'];
}

/** Samples and scores the epoch's prompts in batches of `sampleBatch`, then sets each sample's advantage. */
export async function sampleEpoch(s: SamplingRun, prompts: string[], seeds: number[]): Promise<EpochSamples> {
  const { r, ctxPer, onProgress } = s;
  const t0 = performance.now();
  const samples: Sample[] = [];
  const images: ImageBatch[] = [];
  let uncond: Float32Array | undefined;
  const nSampleBatches = Math.ceil(r.samplesPerEpoch / r.sampleBatch);
  for (let k = 0; k < nSampleBatches; k++) {
    s.signal?.throwIfAborted();
    const ps = prompts.slice(k * r.sampleBatch, (k + 1) * r.sampleBatch);
    const out = await s.pipeline.sample({
      prompts: ps, seeds: seeds.slice(k * r.sampleBatch, (k + 1) * r.sampleBatch), steps: r.steps, guidance: r.guidance, scheduler: 'ddim',
      eta: r.eta, recordTrajectory: true, signal: s.signal,
      onProgress: onProgress && ((step, total) => onProgress(k * total + step, nSampleBatches * total, 'sample')),
    });
    const rewards = await s.reward.score(out.images, ps);
    if (rewards.length !== ps.length) throw new Error(`the reward gave ${rewards.length} scores for ${ps.length} images`);
    uncond ??= (out.uncond.data as Float32Array).slice(0, ctxPer);
    ps.forEach((p, i) => samples.push({
      prompt: p, reward: rewards[i], advantage: 0, trajectory: out.trajectories![i], cond: (out.cond.data as Float32Array).slice(i * ctxPer, (i + 1) * ctxPer),
    }));
    images.push(out.images);
  }
  const advantages = s.tracker.update(samples.map((x) => x.prompt), samples.map((x) => x.reward));
  samples.forEach((x, i) => (x.advantage = advantages[i]));
  return { samples, images, uncond: uncond!, seconds: (performance.now() - t0) / 1000 };
}
