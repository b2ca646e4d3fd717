// The second half of a DDPO epoch: per inner epoch, the samples shuffled into minibatches and each sample's steps
// shuffled; for the first floor(T * timestepFraction) of them, the clipped importance-sampling loss's gradients on
// the recorded step, accumulated over `gradAccumulation` minibatches before one clipped AdamW update.
import { combineGuidance } from '../diffusion/guidance.js';
import { GradAccumulator } from '../engine/optim/accumulate.js';
import type { Rng } from '../onnx/random.js';
import { tensor } from '../onnx/tensor.js';
import type { SdPipeline } from '../models/sd-pipeline.js';
import { DDPO_OUTPUTS, type DdpoLossConfig, ddpoFeeds, type DdpoMinibatch } from './ddpo-loss.js';
import type { DdpoOptions, DdpoSettings } from './ddpo-options.js';
import type { Sample } from './ddpo-sampling.js';
import type { DdpoSessions } from './ddpo-sessions.js';

/** What the epoch's training measured, per graph run (losses...) and per update (norms). */
export interface EpochTraining {
  losses: number[];
  approxKls: number[];
  clipFracs: number[];
  /** mean((eps - eps_ref)^2) per run; only with a reference model. */
  refKls?: number[];
  /** Gradient norms of the applied updates. */
  norms: number[];
  skipped: number;
  /** Largest |logp_new - logp_old| before the first update. */
  mismatch: number;
  seconds: number;
}

export interface TrainingRun {
  sessions: DdpoSessions;
  r: DdpoSettings;
  signal?: AbortSignal;
  onProgress?: DdpoOptions['onProgress'];
}

export async function trainEpoch(t: TrainingRun, samples: Sample[], uncond: Float32Array, rng: Rng): Promise<EpochTraining> {
  const { r, sessions: { trainer, pipeline, reference, lossConfig } } = t;
  const t1 = performance.now();
  const per = lossConfig.latentShape[0] * lossConfig.latentShape[1] * lossConfig.latentShape[2];
  const trainT = Math.max(1, Math.floor(r.steps * r.timestepFraction));
  const nMinibatches = r.samplesPerEpoch / r.trainBatch;
  const acc = new GradAccumulator();
  const meanGrads = new Map<string, Float32Array>();
  const m: EpochTraining = { losses: [], approxKls: [], clipFracs: [], refKls: reference ? [] : undefined, norms: [], skipped: 0, mismatch: 0, seconds: 0 };
  let updated = false;
  const totalRuns = r.innerEpochs * nMinibatches * trainT;
  let runs = 0;
  const update = async () => {
    // A non-finite gradient norm skips the update (the trainer leaves the adapter as it was).
    const norm = await trainer.apply(acc.mean(meanGrads), r.lr);
    if (norm !== undefined && !Number.isFinite(norm)) m.skipped++;
    else if (norm !== undefined) m.norms.push(norm);
    acc.reset();
    updated = true;
  };
  for (let inner = 0; inner < r.innerEpochs; inner++) {
    const order = rng.shuffle([...samples.keys()]);
    const stepOrder = samples.map(() => rng.shuffle([...Array(r.steps).keys()]));
    for (let b = 0; b < nMinibatches; b++) {
      const idx = order.slice(b * r.trainBatch, (b + 1) * r.trainBatch);
      for (let j = 0; j < trainT; j++) {
        t.signal?.throwIfAborted();
        const mb = minibatch(samples, idx, stepOrder, j, uncond, per);
        if (reference) mb.epsRef = await referenceEps(reference, mb, lossConfig);
        const { loss, grads, extras } = await trainer.gradients(ddpoFeeds(pipeline.schedule, lossConfig, mb, r.eta));
        m.losses.push(loss);
        m.approxKls.push(extras[DDPO_OUTPUTS.approxKl].data[0] as number);
        m.clipFracs.push(extras[DDPO_OUTPUTS.clipFrac].data[0] as number);
        if (m.refKls) m.refKls.push(extras[DDPO_OUTPUTS.kl].data[0] as number);
        if (!updated) {
          const logp = extras[DDPO_OUTPUTS.logp].data as Float32Array;
          mb.oldLogp.forEach((old, q) => (m.mismatch = Math.max(m.mismatch, Math.abs(logp[q] - old))));
        }
        acc.add(grads);
        t.onProgress?.(++runs, totalRuns, 'train');
      }
      if ((b + 1) % r.gradAccumulation === 0 || b + 1 === nMinibatches) await update();
    }
  }
  m.seconds = (performance.now() - t1) / 1000;
  return m;
}

/** The recorded step `stepOrder[i][j]` of each sample `i` in `idx`, as the loss graph's feeds want it. */
function minibatch(samples: Sample[], idx: number[], stepOrder: number[][], j: number, uncond: Float32Array, per: number): DdpoMinibatch {
  const mb: DdpoMinibatch = { xt: [], next: [], timesteps: [], prevTimesteps: [], cond: [], uncond: [uncond], oldLogp: [], advantages: [] };
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
  return mb;
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
