// SGD with torch.optim.SGD's semantics: weight decay added to the gradient, momentum buffer seeded with the first
// gradient (no dampening on that step), optional Nesterov.
import type { HostTensor } from '../../onnx/tensor.js';
import { checkHyper, copyFloat32, countTensor, f32Tensor, gradPairs, readCount, splitKey, type Optimizer, type ParamMap } from './common.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD implements Optimizer {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private buffers = new Map<string, Float32Array>();
  private steps = 0;

  constructor({ lr = 1e-3, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SGDOptions = {}) {
    checkHyper('lr', lr, lr >= 0);
    checkHyper('momentum', momentum, momentum >= 0);
    checkHyper('dampening', dampening, true);
    checkHyper('weightDecay', weightDecay, weightDecay >= 0);
    // Same restriction as torch: Nesterov's lookahead is only defined for undampened momentum.
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error('SGD: nesterov requires momentum > 0 and dampening 0');
    this.lr = lr; this.momentum = momentum; this.dampening = dampening; this.weightDecay = weightDecay; this.nesterov = nesterov;
  }

  get stepCount(): number { return this.steps; }

  step(params: ParamMap, grads: ParamMap, lr = this.lr): void {
    checkHyper('lr', lr, lr >= 0);
    const { momentum: mu, weightDecay: wd, nesterov } = this;
    const keep = 1 - this.dampening;
    for (const [name, p, g] of gradPairs(params, grads)) {
      if (mu === 0) { plainStep(p, g, lr, wd); continue; }
      let buf = this.buffers.get(name);
      if (!buf) {
        // torch seeds the buffer with the first (decayed) gradient, undampened: that is mu*0 + 1*d.
        this.buffers.set(name, (buf = new Float32Array(p.length)));
        momentumStep(p, g, buf, lr, wd, 0, 1, nesterov ? mu : 0);
      } else {
        if (buf.length !== p.length) throw new Error(`SGD: "${name}" has ${p.length} values but its momentum buffer has ${buf.length}`);
        momentumStep(p, g, buf, lr, wd, mu, keep, nesterov ? mu : 0);
      }
    }
    this.steps++;
  }

  /** Keys: "step" (calls) and "momentum_buffer.<name>" for parameters that have one. */
  stateDict(): Record<string, HostTensor> {
    const sd: Record<string, HostTensor> = { step: countTensor(this.steps) };
    for (const [name, b] of this.buffers) sd[`momentum_buffer.${name}`] = f32Tensor(b);
    return sd;
  }

  loadStateDict(sd: Record<string, HostTensor>): void {
    const steps = readCount(sd['step'], 'step');
    const buffers = new Map<string, Float32Array>();
    for (const [key, t] of Object.entries(sd)) {
      if (key === 'step') continue;
      const [kind, name] = splitKey(key);
      if (kind !== 'momentum_buffer') throw new Error(`SGD state: unexpected key "${key}" (not an SGD state dict?)`);
      buffers.set(name, copyFloat32(t, key));
    }
    this.buffers = buffers;
    this.steps = steps;
  }
}

// Separate branch-free loops: choosing the case per element inside one loop ran about twice as slow.

function plainStep(p: Float32Array, g: Float32Array, lr: number, wd: number): void {
  const len = p.length;
  for (let i = 0; i < len; i++) p[i] = p[i]! - lr * (g[i]! + wd * p[i]!);
}

/** buf = mu*buf + keep*d with d = g + wd*p; then p -= lr*buf, or with Nesterov (look = mu) p -= lr*(d + mu*buf). */
function momentumStep(p: Float32Array, g: Float32Array, buf: Float32Array, lr: number, wd: number, mu: number, keep: number, look: number): void {
  const len = p.length;
  if (look === 0) {
    for (let i = 0; i < len; i++) {
      const b = mu * buf[i]! + keep * (g[i]! + wd * p[i]!);
      buf[i] = b;
      p[i] = p[i]! - lr * b;
    }
  } else {
    for (let i = 0; i < len; i++) {
      const d = g[i]! + wd * p[i]!;
      const b = mu * buf[i]! + keep * d;
      buf[i] = b;
      p[i] = p[i]! - lr * (d + look * b);
    }
  }
}
