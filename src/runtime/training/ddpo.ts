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
import { concatImages } from '../engine/image.js';
import { Rng } from '../onnx/random.js';
import type { SdModel } from '../models/sd-model.js';
import { openCheckpoints, saveCheckpoint } from './ddpo-checkpoints.js';
import { type DdpoOptions, type DdpoResult, type EpochStats, settingsOf } from './ddpo-options.js';
import { type EpochSamples, epochPrompts, sampleEpoch } from './ddpo-sampling.js';
import { adapterCopy, liveAdapter, openSessions, releaseSessions } from './ddpo-sessions.js';
import { type EpochTraining, trainEpoch } from './ddpo-training.js';
import { StatTracker } from './stat-tracker.js';

export { DDPO_DEFAULTS } from './ddpo-options.js';
export type { DdpoOptions, DdpoResult, EpochStats } from './ddpo-options.js';

export async function trainDdpo(model: SdModel, options: DdpoOptions): Promise<DdpoResult> {
  const r = settingsOf(options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const initial = options.initialLora;
  const rank = initial?.rank ?? r.loraRank;
  const alpha = initial?.alpha ?? r.loraAlpha;

  const checkpoints = options.checkpointDir ? openCheckpoints(options.checkpointDir, model, r, initial) : undefined;
  const resumed = checkpoints?.resumed;
  // A finished run (a workflow run again) returns its adapter without building any session. A checkpoint past
  // `epochs` is returned as it is: only the newest checkpoints are kept.
  if (resumed && resumed.epoch >= r.epochs)
    return { lora: { rank, alpha, weights: resumed.lora }, history: resumed.history, resumedFrom: resumed.epoch, checkpointDir: checkpoints?.store.dir };

  const tracker = new StatTracker(r.perPromptStats === false ? { perPrompt: false, clip: r.advantageClip } : { ...r.perPromptStats, clip: r.advantageClip });
  if (resumed) tracker.load(resumed.tracker);
  const sessions = await openSessions({
    model, r, rank, alpha, initial, resumed, sessionOptions: options.sessionOptions, gradientCheckpointing: options.gradientCheckpointing === true,
  });
  const history: EpochStats[] = resumed ? [...resumed.history] : [];
  const tc = model.textEncoder.config;
  const sampling = { pipeline: sessions.pipeline, reward: options.reward, tracker, r, ctxPer: tc.maxPositions * tc.width, signal, onProgress: options.onProgress };
  const training = { sessions, r, signal, onProgress: options.onProgress };

  try {
    for (let e = resumed?.epoch ?? 0; e < r.epochs; e++) {
      const rng = epochRng(r.seed, e);
      const { prompts, seeds } = epochPrompts(r, e, rng);
      const sampled = await sampleEpoch(sampling, prompts, seeds);
      const trained = await trainEpoch(training, sampled.samples, sampled.uncond, rng);
      const stats = epochStats(e, sampled, trained);
      history.push(stats);
      if (checkpoints && ((e + 1) % r.checkpointEvery === 0 || e + 1 === r.epochs))
        saveCheckpoint(checkpoints, e + 1, { lora: liveAdapter(sessions), optim: sessions.optimizer.stateDict(), rank, alpha, tracker: tracker.state(), history });
      options.onEpoch?.(stats, concatImages(sampled.images));
    }
    return { lora: { rank, alpha, weights: adapterCopy(sessions) }, history, resumedFrom: resumed?.epoch, checkpointDir: checkpoints?.store.dir };
  } finally {
    await releaseSessions(sessions);
  }
}

/** The generator for everything random in epoch `e` (0-based). */
function epochRng(seed: number, e: number): Rng {
  return new Rng(BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(e) * 0xbf58476d1ce4e5b9n + 1n));
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0);
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) * (x - m))));
};

/** Epoch `e`'s (0-based) rewards and training measures, as onEpoch and the history report them. */
function epochStats(e: number, sampled: EpochSamples, t: EpochTraining): EpochStats {
  const rewards = sampled.samples.map((s) => s.reward);
  const byPrompt = new Map<string, number[]>();
  for (const s of sampled.samples) (byPrompt.get(s.prompt) ?? byPrompt.set(s.prompt, []).get(s.prompt)!).push(s.reward);
  return {
    epoch: e + 1, rewardMean: mean(rewards), rewardStd: std(rewards), loss: mean(t.losses), approxKl: mean(t.approxKls), clipFrac: mean(t.clipFracs),
    ...(t.refKls ? { kl: mean(t.refKls) } : {}),
    gradNorm: mean(t.norms), updates: t.norms.length, skippedUpdates: t.skipped, logpMismatch: t.mismatch,
    perPrompt: Object.fromEntries([...byPrompt].map(([p, rs]) => [p, mean(rs)])),
    sampleSeconds: sampled.seconds, trainSeconds: t.seconds,
  };
}
