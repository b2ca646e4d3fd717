// diffusers' EulerAncestralDiscreteScheduler (epsilon prediction), in k-diffusion's sigma parametrization:
// sigma(t) = sqrt((1 - ab_t) / ab_t), x_sigma = x0 + sigma n. The model sees x / sqrt(sigma^2 + 1) (scale_model_input,
// which turns x_sigma back into a DDPM-scaled z_t) at timestep t. Each step is an Euler step of the probability-flow
// ODE down to sigma_down plus fresh noise of std sigma_up, with sigma_down^2 + sigma_up^2 = sigma_next^2.
import { type HostTensor, tensor } from '../onnx/tensor.js';
import type { NoiseSchedule } from './schedule.js';

export interface EulerAncestralPlan {
  /** The N model timesteps, descending (fractional for "linspace" spacing, as diffusers passes them). */
  timesteps: number[];
  /** N+1 sigmas: sigma at each timestep, then 0. */
  sigmas: Float64Array;
  /** Standard deviation of the initial latents (diffusers' init_noise_sigma). */
  initNoiseSigma: number;
}

/** numpy.interp(x, [0, 1, ..., n-1], ys) */
function interpIndex(x: number, ys: Float64Array): number {
  if (x <= 0) return ys[0];
  if (x >= ys.length - 1) return ys[ys.length - 1];
  const i = Math.floor(x), f = x - i;
  return f === 0 ? ys[i] : ys[i] + f * (ys[i + 1] - ys[i]);
}

/** sigma_t = sqrt((1 - ab_t) / ab_t) for every training timestep. */
export function trainingSigmas(schedule: NoiseSchedule): Float64Array {
  return schedule.alphasCumprod.map((ab) => Math.sqrt((1 - ab) / ab));
}

export function eulerAncestralPlan(schedule: NoiseSchedule, steps: number): EulerAncestralPlan {
  const T = schedule.numTrainTimesteps;
  const { timestepSpacing } = schedule.config;
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new RangeError(`steps must be an integer in [1, ${T}], got ${steps}`);
  const timesteps =
    timestepSpacing === 'linspace'
      ? Array.from({ length: steps }, (_, i) => (steps === 1 ? 0 : ((T - 1) * i) / (steps - 1))).reverse()
      : schedule.timesteps(steps);
  const all = trainingSigmas(schedule);
  const sigmas = new Float64Array(steps + 1);
  timesteps.forEach((t, i) => (sigmas[i] = interpIndex(t, all)));
  const max = Math.max(...sigmas);
  const initNoiseSigma = timestepSpacing === 'leading' ? Math.sqrt(max * max + 1) : max;
  return { timesteps, sigmas, initNoiseSigma };
}

/** scale_model_input: x / sqrt(sigma^2 + 1). */
export function eulerAncestralScaleInput(plan: EulerAncestralPlan, stepIndex: number, sample: HostTensor): HostTensor {
  const sigma = plan.sigmas[stepIndex];
  const s = 1 / Math.sqrt(sigma * sigma + 1);
  return tensor('float32', sample.shape, (sample.data as Float32Array).map((v) => v * s));
}

export interface EulerAncestralStepResult {
  prevSample: HostTensor;
  predOriginal: HostTensor;
  sigmaUp: number;
  sigmaDown: number;
}

/** One ancestral step from plan.sigmas[i] to plan.sigmas[i+1]; `noise` ~ N(0, I) is needed when sigma_up > 0. */
export function eulerAncestralStep(plan: EulerAncestralPlan, stepIndex: number, s: { sample: HostTensor; eps: HostTensor; noise?: HostTensor }): EulerAncestralStepResult {
  if (!(stepIndex >= 0 && stepIndex < plan.timesteps.length)) throw new RangeError(`step index ${stepIndex} outside [0, ${plan.timesteps.length - 1}]`);
  if (s.sample.shape.join() !== s.eps.shape.join()) throw new Error(`euler ancestral: sample [${s.sample.shape}] and eps [${s.eps.shape}] differ`);
  const x = s.sample.data as Float32Array, eps = s.eps.data as Float32Array;
  const from = plan.sigmas[stepIndex], to = plan.sigmas[stepIndex + 1];
  const sigmaUp = Math.sqrt(Math.max(0, (to * to * (from * from - to * to)) / (from * from)));
  const sigmaDown = Math.sqrt(Math.max(0, to * to - sigmaUp * sigmaUp));
  let z: Float32Array | undefined;
  if (sigmaUp > 0) {
    if (!s.noise || s.noise.shape.join() !== s.sample.shape.join()) throw new Error('euler ancestral: a step with sigma_up > 0 needs noise of the sample\'s shape');
    z = s.noise.data as Float32Array;
  }
  const dt = sigmaDown - from;
  const prev = new Float32Array(x.length), x0 = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) {
    x0[k] = x[k] - from * eps[k];
    // derivative (x - x0) / sigma = eps
    prev[k] = x[k] + eps[k] * dt + (z ? z[k] * sigmaUp : 0);
  }
  return { prevSample: tensor('float32', s.sample.shape, prev), predOriginal: tensor('float32', s.sample.shape, x0), sigmaUp, sigmaDown };
}
