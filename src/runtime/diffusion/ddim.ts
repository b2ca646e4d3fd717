// The DDIM step (diffusers' DDIMScheduler, epsilon prediction, no clipping) and the log-probability of the step it
// took, which is the policy DDPO differentiates: p(x_t' | x_t) = N(mu(eps(x_t)), std^2 I).
//   x0  = (x_t - sqrt(1-ab_t) eps) / sqrt(ab_t)
//   var = (1-ab_t')/(1-ab_t) * (1 - ab_t/ab_t'),  std = eta sqrt(var)
//   mu  = sqrt(ab_t') x0 + sqrt(1 - ab_t' - std^2) eps  =  cx x_t + ce eps
//   log p = mean over C*H*W of [ -(x_t' - mu)^2 / (2 std^2) - log std - log sqrt(2 pi) ]
// Here t' = t - T//N, and ab_t' for t' < 0 is the schedule's final alpha_cumprod (ab[0] for SD1.5, which is also what
// ddpo-pytorch's clamp of t' to 0 gives). Two forms: a host function on Float32Arrays for sampling (float64 math), and
// a graph function that builds log p in ONNX ops from a symbolic eps, so the gradient reaches the UNet.
import { type HostTensor, tensor } from '../onnx/tensor.js';
import type { GraphBuilder, Sym } from '../onnx/builder.js';
import * as op from '../onnx/ops/index.js';
import { perSample } from './ddpm.js';
import type { NoiseSchedule } from './schedule.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** N DDIM steps: timesteps t_i (descending) and t_i' = t_i - T//N, where the step from t_i lands. */
export function ddimTimesteps(schedule: NoiseSchedule, steps: number): { timesteps: number[]; prevTimesteps: number[] } {
  const timesteps = schedule.timesteps(steps);
  return { timesteps, prevTimesteps: timesteps.map((t) => ddimPrevTimestep(schedule, t, steps)) };
}

/** t - T//N (diffusers' prev_timestep; negative past the last step). */
export function ddimPrevTimestep(schedule: NoiseSchedule, t: number, steps: number): number {
  return t - Math.floor(schedule.numTrainTimesteps / steps);
}

export interface DdimCoefficients {
  alphaProd: number;
  alphaProdPrev: number;
  variance: number;
  /** eta * sqrt(variance). */
  std: number;
  /** mu = xtCoeff * x_t + epsCoeff * eps. */
  xtCoeff: number;
  epsCoeff: number;
  /** x0 = (x_t - sqrt(1-ab_t) eps) / sqrt(ab_t), kept for callers wanting the predicted clean latents. */
  sqrtAlphaProd: number;
  sqrtOneMinusAlphaProd: number;
}

/** The step's scalars for one sample (float64). */
export function ddimCoefficients(schedule: NoiseSchedule, t: number, prevT: number, eta: number): DdimCoefficients {
  if (!(eta >= 0)) throw new RangeError(`DDIM eta must be >= 0, got ${eta}`);
  if (t < 0) throw new RangeError(`DDIM timestep ${t} is negative`);
  if (prevT >= t) throw new RangeError(`DDIM step from t=${t} must go to an earlier timestep, got ${prevT}`);
  const alphaProd = schedule.alphaCumprod(t);
  const alphaProdPrev = schedule.alphaCumprod(prevT);
  const variance = ((1 - alphaProdPrev) / (1 - alphaProd)) * (1 - alphaProd / alphaProdPrev);
  const std = eta * Math.sqrt(variance);
  const dir2 = 1 - alphaProdPrev - std * std;
  if (dir2 < -1e-12) throw new RangeError(`DDIM eta ${eta} is too large at t=${t}: 1 - ab_prev - std^2 = ${dir2} < 0`);
  const dir = Math.sqrt(Math.max(0, dir2));
  const sqrtAlphaProd = Math.sqrt(alphaProd);
  const sqrtOneMinusAlphaProd = Math.sqrt(1 - alphaProd);
  const sqrtPrev = Math.sqrt(alphaProdPrev);
  return {
    alphaProd, alphaProdPrev, variance, std, sqrtAlphaProd, sqrtOneMinusAlphaProd,
    xtCoeff: sqrtPrev / sqrtAlphaProd,
    epsCoeff: dir - (sqrtPrev * sqrtOneMinusAlphaProd) / sqrtAlphaProd,
  };
}

export interface DdimStepInput {
  /** x_t [B, ...] float32. */
  xt: HostTensor;
  /** Predicted noise (after guidance) [B, ...] float32. */
  eps: HostTensor;
  /** Current and previous timesteps, shared or per sample. */
  t: number | readonly number[];
  prevT: number | readonly number[];
  eta: number;
  /** z ~ N(0, I) [B, ...]; required when some sample's std > 0. */
  noise?: HostTensor;
}

export interface DdimStepResult {
  /** x_t' = mu + std z (float32). */
  prevSample: HostTensor;
  /** mu (float32). */
  mean: HostTensor;
  /** Predicted x0 (float32). */
  predOriginal: HostTensor;
  /** Per sample. */
  std: number[];
  /**
   * Per sample: log p(x_t' | x_t), the mean over C*H*W of the Gaussian log density, evaluated at the float32
   * x_t' returned (so recomputing it from stored tensors gives the same value). NaN where std = 0 (eta 0 or a
   * final step with alpha 1): a deterministic step has no density.
   */
  logProb: number[];
}

function f32Of(t: HostTensor, what: string): Float32Array {
  if (t.dtype !== 'float32' || !(t.data instanceof Float32Array)) throw new Error(`${what} must be float32, got ${t.dtype}`);
  return t.data;
}

function sameShape(a: HostTensor, b: HostTensor, what: string): void {
  if (a.shape.length < 1 || a.shape.join() !== b.shape.join()) throw new Error(`${what}: shapes [${a.shape}] and [${b.shape}] must be equal [B, ...]`);
}

export function ddimStep(schedule: NoiseSchedule, s: DdimStepInput): DdimStepResult {
  sameShape(s.xt, s.eps, 'ddimStep x_t and eps');
  const xt = f32Of(s.xt, 'ddimStep x_t'), eps = f32Of(s.eps, 'ddimStep eps');
  const batch = s.xt.shape[0], per = xt.length / batch;
  const ts = perSample(s.t, batch, 'ddimStep t'), prevs = perSample(s.prevT, batch, 'ddimStep prevT');
  const coeffs = ts.map((t, i) => ddimCoefficients(schedule, t, prevs[i], s.eta));
  let z: Float32Array | undefined;
  if (s.noise) {
    sameShape(s.xt, s.noise, 'ddimStep x_t and noise');
    z = f32Of(s.noise, 'ddimStep noise');
  } else if (coeffs.some((c) => c.std > 0)) throw new Error('ddimStep: eta > 0 needs noise');

  const prev = new Float32Array(xt.length), mean = new Float32Array(xt.length), x0 = new Float32Array(xt.length);
  const logProb: number[] = [];
  for (let i = 0; i < batch; i++) {
    const c = coeffs[i];
    let sq = 0;
    for (let k = i * per; k < (i + 1) * per; k++) {
      x0[k] = (xt[k] - c.sqrtOneMinusAlphaProd * eps[k]) / c.sqrtAlphaProd;
      const mu = c.xtCoeff * xt[k] + c.epsCoeff * eps[k];
      mean[k] = mu;
      prev[k] = c.std > 0 ? mu + c.std * z![k] : mu;
      const d = prev[k] - mu;
      sq += d * d;
    }
    logProb.push(c.std > 0 ? gaussianLogProb(sq / per, c.std) : NaN);
  }
  return {
    prevSample: tensor('float32', s.xt.shape, prev),
    mean: tensor('float32', s.xt.shape, mean),
    predOriginal: tensor('float32', s.xt.shape, x0),
    std: coeffs.map((c) => c.std),
    logProb,
  };
}

/** Mean over elements of log N(x; mu, std^2) given the mean squared deviation. */
function gaussianLogProb(meanSquare: number, std: number): number {
  return -meanSquare / (2 * std * std) - Math.log(std) - LOG_SQRT_2PI;
}

/** log p(x_t' | x_t) per sample for a stored step (host, float64): what `ddimStep` reported when it sampled prevSample. */
export function ddimLogProb(
  schedule: NoiseSchedule,
  s: { xt: HostTensor; eps: HostTensor; prevSample: HostTensor; t: number | readonly number[]; prevT: number | readonly number[]; eta: number },
): number[] {
  sameShape(s.xt, s.eps, 'ddimLogProb x_t and eps');
  sameShape(s.xt, s.prevSample, 'ddimLogProb x_t and prevSample');
  const xt = f32Of(s.xt, 'x_t'), eps = f32Of(s.eps, 'eps'), prev = f32Of(s.prevSample, 'prevSample');
  const batch = s.xt.shape[0], per = xt.length / batch;
  const ts = perSample(s.t, batch, 'ddimLogProb t'), prevs = perSample(s.prevT, batch, 'ddimLogProb prevT');
  return ts.map((t, i) => {
    const c = ddimCoefficients(schedule, t, prevs[i], s.eta);
    if (!(c.std > 0)) return NaN;
    let sq = 0;
    for (let k = i * per; k < (i + 1) * per; k++) {
      const d = prev[k] - (c.xtCoeff * xt[k] + c.epsCoeff * eps[k]);
      sq += d * d;
    }
    return gaussianLogProb(sq / per, c.std);
  });
}

// ---- the same log-probability as a graph ----

/** Per-sample step scalars as graph inputs, each [B] float32. */
export interface DdimCoefficientSyms {
  xtCoeff: Sym;
  epsCoeff: Sym;
  std: Sym;
}

const COEFF_SUFFIX = { xtCoeff: 'xt_coeff', epsCoeff: 'eps_coeff', std: 'std' } as const;

/** Input names for the coefficients under a prefix: `${prefix}_xt_coeff`, `${prefix}_eps_coeff`, `${prefix}_std`. */
export function ddimCoefficientNames(prefix = 'ddim'): Record<keyof DdimCoefficientSyms, string> {
  return { xtCoeff: `${prefix}_${COEFF_SUFFIX.xtCoeff}`, epsCoeff: `${prefix}_${COEFF_SUFFIX.epsCoeff}`, std: `${prefix}_${COEFF_SUFFIX.std}` };
}

/** Declares the coefficient inputs ([batch] float32 each). */
export function ddimCoefficientInputs(b: GraphBuilder, batch: number, prefix = 'ddim'): DdimCoefficientSyms {
  const n = ddimCoefficientNames(prefix);
  return { xtCoeff: b.input(n.xtCoeff, [batch]), epsCoeff: b.input(n.epsCoeff, [batch]), std: b.input(n.std, [batch]) };
}

/** Feeds for `ddimCoefficientInputs`: per-sample (t, t') pairs and eta. */
export function ddimCoefficientFeeds(
  schedule: NoiseSchedule,
  t: readonly number[],
  prevT: readonly number[],
  eta: number,
  prefix = 'ddim',
): Record<string, HostTensor> {
  const ps = perSample(prevT, t.length, 'ddimCoefficientFeeds prevT');
  const cs = t.map((ti, i) => ddimCoefficients(schedule, ti, ps[i], eta));
  const bad = cs.findIndex((c) => !(c.std > 0));
  if (bad >= 0) throw new Error(`ddimCoefficientFeeds: sample ${bad} (t=${t[bad]}, t'=${ps[bad]}, eta=${eta}) has std 0, so no log-probability`);
  const n = ddimCoefficientNames(prefix);
  const col = (f: (c: DdimCoefficients) => number) => tensor('float32', [t.length], Float32Array.from(cs, f));
  return { [n.xtCoeff]: col((c) => c.xtCoeff), [n.epsCoeff]: col((c) => c.epsCoeff), [n.std]: col((c) => c.std) };
}

/** A [B] (or scalar) coefficient shaped to broadcast over [B, ...]. */
function perSampleSym(c: Sym, like: Sym): Sym {
  if (c.rank === 0) return c;
  if (c.rank !== 1 || c.shape[0] !== like.shape[0]) throw new Error(`DDIM coefficient ${c} must be [${like.shape[0]}] or a scalar`);
  return op.reshape(c, [like.shape[0], ...new Array(like.rank - 1).fill(1)]);
}

/**
 * log p(x_t' | x_t) per sample [B], built in graph ops: mu = xtCoeff x_t + epsCoeff eps, and x_t' (the stored sample)
 * enters as a constant input, so only eps carries gradient. Float32 throughout.
 */
export function ddimLogProbGraph(b: GraphBuilder, s: { xt: Sym; eps: Sym; prevSample: Sym; coeffs: DdimCoefficientSyms }): Sym {
  for (const [name, v] of [['eps', s.eps], ['prevSample', s.prevSample]] as const)
    if (v.shape.join() !== s.xt.shape.join()) throw new Error(`ddimLogProbGraph: ${name} ${v} must have x_t's shape [${s.xt.shape}]`);
  if (s.xt.rank < 2) throw new Error(`ddimLogProbGraph: x_t ${s.xt} must be [B, ...]`);
  return b.scope('ddim_logprob', () => {
    const cx = perSampleSym(s.coeffs.xtCoeff, s.xt), ce = perSampleSym(s.coeffs.epsCoeff, s.xt);
    const mu = op.add(op.mul(s.xt, cx), op.mul(s.eps, ce));
    const d = op.sub(s.prevSample, mu);
    const axes = [...Array(s.xt.rank).keys()].slice(1);
    const meanSquare = op.reduceMean(op.mul(d, d), axes, false); // [B]
    const std = s.coeffs.std;
    const twoVar = op.mul(op.mul(std, std), 2);
    return op.sub(op.neg(op.div(meanSquare, twoVar)), op.add(op.log(std), LOG_SQRT_2PI));
  });
}
