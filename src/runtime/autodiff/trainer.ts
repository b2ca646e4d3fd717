// Runs a training graph on onnxruntime: one session run gives the loss and every gradient; the optimizer then
// updates the parameters in place on the host (they are fed as inputs on the next run, without copies).
import type { Optimizer, ParamMap } from '../engine/optim/common.js';
import { clipGradNorm } from '../engine/optim/clip.js';
import { Session, type SessionOptions } from '../engine/session.js';
import type { HostTensor } from '../engine/tensor.js';
import type { TrainingGraph } from './training-graph.js';

export interface StepResult {
  loss: number;
  /** Gradient L2 norm before clipping (when clipping is on). */
  gradNorm?: number;
  extras: Record<string, HostTensor>;
}

export class Trainer {
  readonly params: ParamMap = new Map();
  private shapes = new Map<string, number[]>();
  private seedOne: HostTensor = { dtype: 'float32', shape: [], data: Float32Array.of(1) };

  private constructor(
    readonly tg: TrainingGraph,
    readonly session: Session,
    readonly optimizer: Optimizer,
    readonly maxGradNorm: number | undefined,
  ) {
    for (const [name, t] of tg.initial) {
      // Own copies: the optimizer mutates them in place.
      this.params.set(name, new Float32Array(t.data as Float32Array));
      this.shapes.set(name, t.shape);
    }
    const seedShape = tg.graph.info(tg.seed).shape;
    this.seedOne = { dtype: 'float32', shape: seedShape, data: Float32Array.of(1) };
  }

  static async create(tg: TrainingGraph, optimizer: Optimizer, o: { session?: SessionOptions; maxGradNorm?: number } = {}): Promise<Trainer> {
    const session = await Session.fromGraph(tg.graph, o.session);
    return new Trainer(tg, session, optimizer, o.maxGradNorm);
  }

  paramTensor(name: string): HostTensor {
    return { dtype: 'float32', shape: this.shapes.get(name)!, data: this.params.get(name)! };
  }

  /** Forward and backward: the loss, the gradients (fresh arrays) and any extra outputs. */
  async gradients(feeds: Record<string, HostTensor>, lossScale = 1): Promise<{ loss: number; grads: ParamMap; extras: Record<string, HostTensor> }> {
    const all: Record<string, HostTensor> = { ...feeds, [this.tg.seed]: lossScale === 1 ? this.seedOne : { ...this.seedOne, data: Float32Array.of(lossScale) } };
    for (const name of this.tg.params) all[name] = this.paramTensor(name);
    const out = await this.session.run(all);
    const grads: ParamMap = new Map();
    for (const name of this.tg.params) grads.set(name, out[this.tg.gradOf.get(name)!].data as Float32Array);
    const extras: Record<string, HostTensor> = {};
    for (const e of this.tg.extraOutputs) extras[e] = out[e];
    return { loss: Number(out[this.tg.loss].data[0]), grads, extras };
  }

  /** Clips (if configured) and applies gradients. Returns the pre-clip norm when clipping. */
  apply(grads: ParamMap, lr?: number): number | undefined {
    const norm = this.maxGradNorm !== undefined ? clipGradNorm(grads, this.maxGradNorm) : undefined;
    this.optimizer.step(this.params, grads, lr);
    return norm;
  }

  async step(feeds: Record<string, HostTensor>, lr?: number): Promise<StepResult> {
    const { loss, grads, extras } = await this.gradients(feeds);
    const gradNorm = this.apply(grads, lr);
    return { loss, gradNorm, extras };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
