// Training-time forward noising (DDPM q(z_t | z_0)): z_t = sqrt(ab_t) z_0 + sqrt(1 - ab_t) n, per sample, and the
// uniform draw of training timesteps.
import type { Rng } from '../onnx/random.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';
import type { NoiseSchedule } from './schedule.js';

function float32Data(t: HostTensor, what: string): Float32Array {
  if (t.dtype !== 'float32' || !(t.data instanceof Float32Array)) throw new Error(`${what} must be float32, got ${t.dtype}`);
  return t.data;
}

/** Per-sample timesteps as a list of length `batch` (one number is shared by all samples). */
export function perSample(t: number | readonly number[], batch: number, what = 'timesteps'): number[] {
  if (typeof t === 'number') return new Array(batch).fill(t);
  if (t.length !== batch) throw new Error(`${what}: ${t.length} values for a batch of ${batch}`);
  return [...t];
}

/** z_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise, t per sample ([B, ...] tensors; coefficients in float64). */
export function addNoise(schedule: NoiseSchedule, x0: HostTensor, noise: HostTensor, t: number | readonly number[]): HostTensor {
  const x = float32Data(x0, 'addNoise x0');
  const n = float32Data(noise, 'addNoise noise');
  if (x0.shape.length === 0 || x0.shape.join() !== noise.shape.join())
    throw new Error(`addNoise: x0 [${x0.shape}] and noise [${noise.shape}] must have the same [B, ...] shape`);
  const batch = x0.shape[0];
  const ts = perSample(t, batch);
  const per = x.length / batch;
  const out = new Float32Array(x.length);
  for (let i = 0; i < batch; i++) {
    if (ts[i] < 0) throw new RangeError(`addNoise: timestep ${ts[i]} is negative`);
    const ab = schedule.alphaCumprod(ts[i]);
    const a = Math.sqrt(ab), s = Math.sqrt(1 - ab);
    for (let k = i * per; k < (i + 1) * per; k++) out[k] = a * x[k] + s * n[k];
  }
  return tensor('float32', x0.shape, out);
}

/** Timesteps drawn uniformly from {0, ..., numTrainTimesteps-1}, one per sample. */
export function sampleTrainingTimesteps(schedule: NoiseSchedule, rng: Rng, batch: number): number[] {
  return Array.from({ length: batch }, () => rng.int(schedule.numTrainTimesteps));
}
