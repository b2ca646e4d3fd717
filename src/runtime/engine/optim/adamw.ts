// AdamW with torch.optim.AdamW's exact math (amsgrad off): decoupled weight decay first, then bias-corrected Adam.
import type { HostTensor } from '../../onnx/tensor.js';
import { checkHyper, copyFloat32, countTensor, f32Tensor, gradPairs, readCount, splitKey, type Optimizer, type ParamMap } from './common.js';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

interface Slot { m: Float32Array; v: Float32Array; step: number }

export class AdamW implements Optimizer {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private slots = new Map<string, Slot>();
  private steps = 0;

  constructor({ lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-2 }: AdamWOptions = {}) {
    checkHyper('lr', lr, lr >= 0);
    checkHyper('beta1', beta1, beta1 >= 0 && beta1 < 1);
    checkHyper('beta2', beta2, beta2 >= 0 && beta2 < 1);
    checkHyper('eps', eps, eps >= 0);
    checkHyper('weightDecay', weightDecay, weightDecay >= 0);
    this.lr = lr; this.beta1 = beta1; this.beta2 = beta2; this.eps = eps; this.weightDecay = weightDecay;
  }

  get stepCount(): number { return this.steps; }

  /** `lr` overrides the constructor's rate for this step (schedules); weight decay uses it too, as in torch. */
  step(params: ParamMap, grads: ParamMap, lr = this.lr): void {
    checkHyper('lr', lr, lr >= 0);
    const { beta1: b1, beta2: b2, eps } = this;
    const decay = 1 - lr * this.weightDecay;
    for (const [name, p, g] of gradPairs(params, grads)) {
      let s = this.slots.get(name);
      if (!s) this.slots.set(name, (s = { m: new Float32Array(p.length), v: new Float32Array(p.length), step: 0 }));
      if (s.m.length !== p.length) throw new Error(`AdamW: "${name}" has ${p.length} values but its state has ${s.m.length}`);
      // Per-parameter step, like torch's state['step']: a parameter that missed steps has its own bias correction.
      const t = ++s.step;
      const stepSize = lr / (1 - b1 ** t);
      const bc2Sqrt = Math.sqrt(1 - b2 ** t);
      adamwKernel(p, g, s.m, s.v, b1, b2, decay, stepSize, bc2Sqrt, eps);
    }
    this.steps++;
  }

  /** Keys: "step" (calls), and per parameter "exp_avg.<name>", "exp_avg_sq.<name>", "step.<name>". */
  stateDict(): Record<string, HostTensor> {
    const sd: Record<string, HostTensor> = { step: countTensor(this.steps) };
    for (const [name, s] of this.slots) {
      sd[`exp_avg.${name}`] = f32Tensor(s.m);
      sd[`exp_avg_sq.${name}`] = f32Tensor(s.v);
      sd[`step.${name}`] = countTensor(s.step);
    }
    return sd;
  }

  loadStateDict(sd: Record<string, HostTensor>): void {
    const steps = readCount(sd['step'], 'step');
    const parts = new Map<string, Partial<Slot>>();
    const part = (name: string) => parts.get(name) ?? (parts.set(name, {}), parts.get(name)!);
    for (const [key, t] of Object.entries(sd)) {
      if (key === 'step') continue;
      const [kind, name] = splitKey(key);
      if (kind === 'exp_avg') part(name).m = copyFloat32(t, key);
      else if (kind === 'exp_avg_sq') part(name).v = copyFloat32(t, key);
      else if (kind === 'step') part(name).step = readCount(t, key);
      else throw new Error(`AdamW state: unexpected key "${key}" (not an AdamW state dict?)`);
    }
    const slots = new Map<string, Slot>();
    for (const [name, { m, v, step }] of parts) {
      if (!m || !v || step === undefined || m.length !== v.length) throw new Error(`AdamW state: incomplete or inconsistent state for "${name}"`);
      slots.set(name, { m, v, step });
    }
    this.slots = slots;
    this.steps = steps;
  }
}

/** One fused pass per tensor: decay, both moment updates and the parameter update, with no temporaries. */
function adamwKernel(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  b1: number, b2: number, decay: number, stepSize: number, bc2Sqrt: number, eps: number,
): void {
  const a1 = 1 - b1;
  const a2 = 1 - b2;
  const len = p.length;
  for (let i = 0; i < len; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + a1 * gi;
    const vi = b2 * v[i]! + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}
