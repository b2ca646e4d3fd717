// The training noise schedule (betas, alphas_cumprod) and the inference timesteps derived from it, configured the way
// diffusers' scheduler_config.json configures DDIMScheduler. Values are float64: the schedulers and the DDPO
// log-probability read them as exact as the host allows.
import fs from 'node:fs';
import path from 'node:path';

export type BetaSchedule = 'scaled_linear' | 'linear';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  /** Added to every "leading" timestep (SD1.5: 1, so N=50 gives 981 ... 1). */
  stepsOffset: number;
  /** Whether the step past t=0 uses alpha_cumprod 1 (true) or alphas_cumprod[0] (false, SD1.5). */
  setAlphaToOne: boolean;
  timestepSpacing: TimestepSpacing;
  /** Only epsilon prediction is implemented. */
  predictionType: 'epsilon';
  /** Only false is implemented (SD1.5 does not clip the predicted x0). */
  clipSample: false;
}

/** Stable Diffusion 1.5's scheduler (its scheduler_config.json, with DDIM's "leading" spacing). */
export const SD15_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  setAlphaToOne: false,
  timestepSpacing: 'leading',
  predictionType: 'epsilon',
  clipSample: false,
});

export class SchedulerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerConfigError';
  }
}

function fail(source: string, message: string): never {
  throw new SchedulerConfigError(`${source}: ${message}`);
}

/** diffusers key -> how to read it into SchedulerConfig. Keys not listed are ignored (e.g. _class_name, skip_prk_steps). */
const READERS: Record<string, (v: unknown, c: SchedulerConfig, src: string) => void> = {
  num_train_timesteps: (v, c, s) => (c.numTrainTimesteps = positiveInt(v, 'num_train_timesteps', s)),
  beta_start: (v, c, s) => (c.betaStart = finite(v, 'beta_start', s)),
  beta_end: (v, c, s) => (c.betaEnd = finite(v, 'beta_end', s)),
  beta_schedule: (v, c, s) => (c.betaSchedule = oneOf(v, 'beta_schedule', ['scaled_linear', 'linear'] as const, s)),
  steps_offset: (v, c, s) => (c.stepsOffset = nonNegativeInt(v, 'steps_offset', s)),
  set_alpha_to_one: (v, c, s) => (c.setAlphaToOne = bool(v, 'set_alpha_to_one', s)),
  timestep_spacing: (v, c, s) => (c.timestepSpacing = oneOf(v, 'timestep_spacing', ['leading', 'trailing', 'linspace'] as const, s)),
  prediction_type: (v, c, s) => {
    if (v === 'v_prediction' || v === 'sample')
      fail(s, `prediction_type '${v}' is not supported: this project's schedulers take epsilon (noise) predictions only, as SD1.5 makes (an SD2.x 768-v model predicts v)`);
    c.predictionType = oneOf(v, 'prediction_type', ['epsilon'] as const, s);
  },
  clip_sample: (v, _c, s) => {
    if (bool(v, 'clip_sample', s)) fail(s, 'clip_sample true is not supported (SD1.5 uses false: the predicted x0 is not clipped)');
  },
  thresholding: (v, _c, s) => {
    if (bool(v, 'thresholding', s)) fail(s, 'thresholding true (dynamic thresholding) is not supported');
  },
  trained_betas: (v, _c, s) => {
    if (v !== null && v !== undefined) fail(s, 'trained_betas is not supported (give beta_start, beta_end and beta_schedule instead)');
  },
  rescale_betas_zero_snr: (v, _c, s) => {
    if (bool(v, 'rescale_betas_zero_snr', s)) fail(s, 'rescale_betas_zero_snr true is not supported');
  },
};

function finite(v: unknown, key: string, src: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(src, `${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function nonNegativeInt(v: unknown, key: string, src: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(src, `${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}
function positiveInt(v: unknown, key: string, src: string): number {
  const n = nonNegativeInt(v, key, src);
  if (n === 0) fail(src, `${key} must be positive`);
  return n;
}
function bool(v: unknown, key: string, src: string): boolean {
  if (typeof v !== 'boolean') fail(src, `${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function oneOf<T extends string>(v: unknown, key: string, allowed: readonly T[], src: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T))
    fail(src, `${key} ${JSON.stringify(v)} is not supported (supported: ${allowed.join(', ')})`);
  return v as T;
}

function checkConfig(c: SchedulerConfig, src: string): SchedulerConfig {
  if (!(c.betaStart > 0 && c.betaEnd > 0 && c.betaStart < 1 && c.betaEnd < 1))
    fail(src, `beta_start ${c.betaStart} and beta_end ${c.betaEnd} must lie in (0, 1)`);
  return c;
}

/**
 * A config from diffusers' scheduler_config.json keys. Keys it lacks keep SD1.5's values (not the defaults of
 * diffusers' Python class, which differ for set_alpha_to_one and clip_sample); unknown keys are ignored; values this
 * project does not implement are refused by name.
 */
export function parseSchedulerConfig(json: unknown, source = 'scheduler config'): SchedulerConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(source, 'expected a JSON object');
  const c: SchedulerConfig = { ...SD15_SCHEDULER_CONFIG };
  for (const [key, value] of Object.entries(json)) {
    const read = READERS[key];
    if (read) read(value, c, source);
  }
  return checkConfig(c, source);
}

/** SD1.5's config with some fields replaced (validated like a file). */
export function schedulerConfig(overrides: Partial<SchedulerConfig> = {}): SchedulerConfig {
  const c = { ...SD15_SCHEDULER_CONFIG, ...overrides } as SchedulerConfig;
  const src = 'scheduler config';
  positiveInt(c.numTrainTimesteps, 'numTrainTimesteps', src);
  nonNegativeInt(c.stepsOffset, 'stepsOffset', src);
  oneOf(c.betaSchedule, 'betaSchedule', ['scaled_linear', 'linear'] as const, src);
  oneOf(c.timestepSpacing, 'timestepSpacing', ['leading', 'trailing', 'linspace'] as const, src);
  if (c.predictionType !== 'epsilon') fail(src, `predictionType '${c.predictionType}' is not supported (epsilon only)`);
  if (c.clipSample !== false) fail(src, 'clipSample true is not supported');
  return checkConfig(c, src);
}

/**
 * Reads a scheduler config from a scheduler_config.json file, or from a diffusers model folder (its
 * scheduler/scheduler_config.json) or scheduler folder. When no such file exists the SD1.5 config is returned.
 */
export function loadSchedulerConfig(location: string): SchedulerConfig {
  const candidates = location.endsWith('.json')
    ? [location]
    : [path.join(location, 'scheduler', 'scheduler_config.json'), path.join(location, 'scheduler_config.json')];
  const file = candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (!file) return { ...SD15_SCHEDULER_CONFIG };
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(file, `not valid JSON (${(e as Error).message})`);
  }
  return parseSchedulerConfig(json, file);
}

export class NoiseSchedule {
  readonly config: Readonly<SchedulerConfig>;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  /** ab[t] = prod_{s<=t} (1 - beta_s), t = 0 .. numTrainTimesteps-1. */
  readonly alphasCumprod: Float64Array;
  /** alpha_cumprod used for the step past t = 0: 1 or ab[0] (set_alpha_to_one). */
  readonly finalAlphaCumprod: number;

  constructor(config: Partial<SchedulerConfig> = {}) {
    this.config = Object.freeze(schedulerConfig(config));
    const { numTrainTimesteps: n, betaStart, betaEnd, betaSchedule } = this.config;
    this.betas = new Float64Array(n);
    const [lo, hi] = betaSchedule === 'scaled_linear' ? [Math.sqrt(betaStart), Math.sqrt(betaEnd)] : [betaStart, betaEnd];
    for (let i = 0; i < n; i++) {
      const v = n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1);
      this.betas[i] = betaSchedule === 'scaled_linear' ? v * v : v;
    }
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = new Float64Array(n);
    let p = 1;
    for (let i = 0; i < n; i++) this.alphasCumprod[i] = p *= this.alphas[i];
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  get numTrainTimesteps(): number {
    return this.config.numTrainTimesteps;
  }

  /** ab[t] for a training timestep, or the final alpha_cumprod for t < 0 (the step past the last). */
  alphaCumprod(t: number): number {
    if (t < 0) return this.finalAlphaCumprod;
    if (!Number.isInteger(t) || t >= this.numTrainTimesteps) throw new RangeError(`timestep ${t} is not an integer in [0, ${this.numTrainTimesteps - 1}]`);
    return this.alphasCumprod[t];
  }

  /**
   * The N inference timesteps, descending, as diffusers' DDIMScheduler.set_timesteps spaces them (integers):
   * leading t_i = i*(T//N) + steps_offset; trailing round(T - i*T/N) - 1; linspace round(linspace(0, T-1, N)).
   */
  timesteps(steps: number): number[] {
    const T = this.numTrainTimesteps;
    if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new RangeError(`steps must be an integer in [1, ${T}], got ${steps}`);
    let ts: number[];
    switch (this.config.timestepSpacing) {
      case 'leading': {
        const ratio = Math.floor(T / steps);
        ts = Array.from({ length: steps }, (_, i) => i * ratio + this.config.stepsOffset).reverse();
        break;
      }
      case 'trailing': {
        const ratio = T / steps;
        ts = Array.from({ length: steps }, (_, i) => roundHalfEven(T - i * ratio) - 1);
        break;
      }
      case 'linspace':
        ts = linspace(0, T - 1, steps).map(roundHalfEven).reverse();
        break;
    }
    const bad = ts.find((t) => t < 0 || t >= T);
    if (bad !== undefined)
      throw new RangeError(`${steps} steps with ${this.config.timestepSpacing} spacing and steps_offset ${this.config.stepsOffset} give timestep ${bad}, outside [0, ${T - 1}]`);
    return ts;
  }
}

/** numpy.linspace(start, stop, n) (float64, endpoint included). */
export function linspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : start + i * step));
}

/** numpy.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
