// Where parameter values come from when a model is built: fresh initialization or loaded weights. Model code asks
// for a tensor by name, shape and init rule; the source decides.
import { type HostTensor, numel, tensor } from './tensor.js';
import { Rng } from './random.js';
import { shapeStr } from './ir.js';

export type ParamInit =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'normal'; std: number }
  /** torch's default for Linear and Conv weights and biases: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
  | { kind: 'fanIn'; fanIn: number };

export interface ParamSource {
  tensor(name: string, shape: number[], init: ParamInit): HostTensor;
}

export function initTensor(shape: number[], init: ParamInit, rng: Rng): HostTensor {
  const data = new Float32Array(numel(shape));
  if (init.kind === 'ones') data.fill(1);
  else if (init.kind === 'normal') rng.fillNormal(data, init.std);
  else if (init.kind === 'fanIn') {
    const bound = 1 / Math.sqrt(init.fanIn);
    rng.fillUniform(data, -bound, bound);
  }
  return tensor('float32', shape, data);
}

/** Fresh weights from a seeded generator: the same seed and build order give the same model. */
export class RandomInit implements ParamSource {
  private rng: Rng;
  constructor(seed = 0) {
    this.rng = new Rng(seed);
  }
  tensor(_name: string, shape: number[], init: ParamInit): HostTensor {
    return initTensor(shape, init, this.rng);
  }
}

/** Weights by name from a map; missing names come from `fallback` or are an error naming the key. */
export class WeightsSource implements ParamSource {
  readonly used = new Set<string>();
  constructor(
    private weights: Map<string, HostTensor> | Record<string, HostTensor>,
    private fallback?: ParamSource,
  ) {}
  tensor(name: string, shape: number[], init: ParamInit): HostTensor {
    const w = this.weights instanceof Map ? this.weights.get(name) : this.weights[name];
    if (!w) {
      if (this.fallback) return this.fallback.tensor(name, shape, init);
      throw new Error(`weights have no tensor '${name}' (expected shape ${shapeStr(shape)})`);
    }
    if (numel(w.shape) !== numel(shape) || w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))
      throw new Error(`weight '${name}' has shape ${shapeStr(w.shape)}, the model expects ${shapeStr(shape)}`);
    this.used.add(name);
    return w;
  }
}
