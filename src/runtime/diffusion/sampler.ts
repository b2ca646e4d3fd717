// Text-to-latents sampling, independent of the model: a Denoiser predicts noise, the sampler does classifier-free
// guidance (one batched call on [uncond; cond]), the scheduler step, per-sample seeded noise, progress, cancellation,
// and (for DDPO) the recorded trajectory with each step's log-probability.
import { Rng } from '../onnx/random.js';
import { type HostTensor, numel, tensor } from '../onnx/tensor.js';
import { ddimPrevTimestep, ddimStep } from './ddim.js';
import { eulerAncestralPlan, eulerAncestralScaleInput, eulerAncestralStep } from './euler-ancestral.js';
import { combineGuidance } from './guidance.js';
import type { NoiseSchedule } from './schedule.js';

/** Predicts noise: the caller wraps a UNet session (its timestep dtype and any batching are the caller's). */
export interface Denoiser {
  /** latents [N,C,h,w] float32, one timestep per sample, cond [N,L,D] -> eps [N,C,h,w] float32. */
  predict(latents: HostTensor, timesteps: number[], cond: HostTensor): Promise<HostTensor>;
}

export type SamplerName = 'ddim' | 'euler_a';

/** The sampler settings nodes and benchmarks default to (the embedded model's quality is measured at these). */
export const DEFAULT_SAMPLING = { scheduler: 'ddim' as SamplerName, steps: 25, guidance: 5 };

export interface SampleOptions {
  scheduler: SamplerName;
  steps: number;
  /** Prompt embeddings [B,L,D]. */
  cond: HostTensor;
  /** Unconditional (or negative-prompt) embeddings, [B,L,D] or [1,L,D] for all; required unless guidance is 1. */
  uncond?: HostTensor;
  /** Latent shape per sample [C, h, w] (SD: [4, H/8, W/8]). */
  latentShape: readonly [number, number, number];
  /** One seed per sample: the sample's initial noise and step noise come from its own Rng(seed). */
  seeds: readonly (number | bigint)[];
  /** Classifier-free guidance weight w (eps = eps_u + w (eps_c - eps_u)); 1 runs the cond batch alone. Default 7.5. */
  guidance?: number;
  /** DDIM eta (0 deterministic, as diffusers' default; DDPO samples with 1). Default 0. */
  eta?: number;
  /** Keep every step's x_t, x_t' and log p(x_t' | x_t) per sample (DDIM only). */
  recordTrajectory?: boolean;
  onProgress?: (step: number, total: number) => void;
  signal?: AbortSignal;
}

/** One sample's denoising path: step i went from latents[i] (at timesteps[i]) to nextLatents[i] (at prevTimesteps[i]). */
export interface Trajectory {
  timesteps: number[];
  prevTimesteps: number[];
  /** x_t per step [T,C,h,w]. */
  latents: HostTensor;
  /** x_t' per step [T,C,h,w]. */
  nextLatents: HostTensor;
  /** log p(x_t' | x_t) per step (mean over C*h*w); NaN for deterministic steps (eta 0). */
  logProbs: number[];
  eta: number;
}

export interface SampleResult {
  /** Final latents [B,C,h,w] (unscaled by the VAE factor: decode with `decodeLatents`). */
  latents: HostTensor;
  trajectories?: Trajectory[];
}

function checkEmbeddings(t: HostTensor, what: string): void {
  if (t.dtype !== 'float32' || t.shape.length !== 3) throw new Error(`${what} must be float32 [B, tokens, width], got ${t.dtype} [${t.shape}]`);
}

/** [uncond; cond] as one [2B,L,D] batch, broadcasting a [1,L,D] uncond. */
export function guidanceBatch(cond: HostTensor, uncond: HostTensor): HostTensor {
  checkEmbeddings(cond, 'cond');
  checkEmbeddings(uncond, 'uncond');
  const [batch, len, width] = cond.shape;
  if (uncond.shape[1] !== len || uncond.shape[2] !== width || (uncond.shape[0] !== 1 && uncond.shape[0] !== batch))
    throw new Error(`uncond [${uncond.shape}] does not match cond [${cond.shape}] (it may have batch 1)`);
  const per = len * width;
  const out = new Float32Array(2 * batch * per);
  const u = uncond.data as Float32Array;
  for (let i = 0; i < batch; i++) out.set(uncond.shape[0] === 1 ? u : u.subarray(i * per, (i + 1) * per), i * per);
  out.set(cond.data as Float32Array, batch * per);
  return tensor('float32', [2 * batch, len, width], out);
}

function repeatBatch(x: HostTensor, times: number): HostTensor {
  if (times === 1) return x;
  const d = x.data as Float32Array;
  const out = new Float32Array(d.length * times);
  for (let r = 0; r < times; r++) out.set(d, r * d.length);
  return tensor('float32', [x.shape[0] * times, ...x.shape.slice(1)], out);
}

/** Noise for every sample from its own generator ([B, ...per] float32). */
function drawNoise(rngs: Rng[], per: number, shape: number[], scale = 1): HostTensor {
  const out = new Float32Array(rngs.length * per);
  rngs.forEach((r, i) => r.fillNormal(out.subarray(i * per, (i + 1) * per), scale));
  return tensor('float32', shape, out);
}

export async function sampleLatents(denoiser: Denoiser, schedule: NoiseSchedule, o: SampleOptions): Promise<SampleResult> {
  checkEmbeddings(o.cond, 'cond');
  const batch = o.cond.shape[0];
  if (o.seeds.length !== batch) throw new Error(`${o.seeds.length} seeds for a batch of ${batch} prompts: give one seed per sample`);
  const [c, h, w] = o.latentShape;
  if (![c, h, w].every((d) => Number.isInteger(d) && d > 0)) throw new Error(`latentShape [${o.latentShape}] must be three positive integers`);
  const guidance = o.guidance ?? 7.5;
  const eta = o.eta ?? 0;
  const useCfg = guidance !== 1;
  if (useCfg && !o.uncond) throw new Error(`guidance ${guidance} needs unconditional embeddings (uncond)`);
  if (o.recordTrajectory && o.scheduler !== 'ddim') throw new Error(`recordTrajectory needs the 'ddim' scheduler (log-probabilities are DDIM's), got '${o.scheduler}'`);
  if (o.scheduler !== 'ddim' && o.scheduler !== 'euler_a') throw new Error(`unknown scheduler '${o.scheduler}' (ddim, euler_a)`);
  if (eta !== 0 && o.scheduler !== 'ddim') throw new Error(`eta applies to the 'ddim' scheduler only`);

  const condIn = useCfg ? guidanceBatch(o.cond, o.uncond!) : o.cond;
  const per = c * h * w;
  const shape = [batch, c, h, w];
  const rngs = o.seeds.map((s) => new Rng(s));
  const euler = o.scheduler === 'euler_a' ? eulerAncestralPlan(schedule, o.steps) : undefined;
  const timesteps = euler ? euler.timesteps : schedule.timesteps(o.steps);
  const total = timesteps.length;
  let latents = drawNoise(rngs, per, shape, euler ? euler.initNoiseSigma : 1);

  const record = o.recordTrajectory
    ? rngs.map(() => ({ xs: new Float32Array(total * per), next: new Float32Array(total * per), logProbs: [] as number[] }))
    : undefined;
  const prevTimesteps: number[] = [];

  for (let i = 0; i < total; i++) {
    o.signal?.throwIfAborted();
    const t = timesteps[i];
    const modelIn = euler ? eulerAncestralScaleInput(euler, i, latents) : latents;
    const pred = await denoiser.predict(repeatBatch(modelIn, useCfg ? 2 : 1), new Array(useCfg ? 2 * batch : batch).fill(t), condIn);
    const want = [useCfg ? 2 * batch : batch, c, h, w];
    if (pred.dtype !== 'float32' || pred.shape.join() !== want.join())
      throw new Error(`the denoiser returned ${pred.dtype} [${pred.shape}], expected float32 [${want}]`);
    const eps = useCfg ? combineGuidance(pred, guidance) : pred;

    let next: HostTensor;
    if (euler) {
      const stepNoise = euler.sigmas[i + 1] > 0 ? drawNoise(rngs, per, shape) : undefined;
      next = eulerAncestralStep(euler, i, { sample: latents, eps, noise: stepNoise }).prevSample;
    } else {
      const prevT = ddimPrevTimestep(schedule, t, o.steps);
      prevTimesteps.push(prevT);
      const stepNoise = eta > 0 ? drawNoise(rngs, per, shape) : undefined;
      const r = ddimStep(schedule, { xt: latents, eps, t, prevT, eta, noise: stepNoise });
      next = r.prevSample;
      record?.forEach((rec, s) => {
        rec.xs.set((latents.data as Float32Array).subarray(s * per, (s + 1) * per), i * per);
        rec.next.set((next.data as Float32Array).subarray(s * per, (s + 1) * per), i * per);
        rec.logProbs.push(r.logProb[s]);
      });
    }
    latents = next;
    o.onProgress?.(i + 1, total);
  }

  const trajectories = record?.map((rec) => ({
    timesteps: [...timesteps],
    prevTimesteps: [...prevTimesteps],
    latents: tensor('float32', [total, c, h, w], rec.xs),
    nextLatents: tensor('float32', [total, c, h, w], rec.next),
    logProbs: rec.logProbs,
    eta,
  }));
  return trajectories ? { latents, trajectories } : { latents };
}

/** Latents of one sample from a batch [B,...] as [1,...] (copy). */
export function sampleAt(x: HostTensor, i: number): HostTensor {
  const per = numel(x.shape.slice(1));
  return tensor('float32', [1, ...x.shape.slice(1)], (x.data as Float32Array).slice(i * per, (i + 1) * per));
}
