// Runs a training graph on onnxruntime: one session run gives the loss and every gradient; the optimizer then
// updates the parameters in place. Parameters and gradients are views of two flat buffers: onnxruntime reads the
// parameters and writes the gradients in place, and a fused optimizer updates everything in one run.
import type { Optimizer, ParamMap } from '../engine/optim/common.js';
import { clipGradNorm } from '../engine/optim/clip.js';
import { type FlatLayout, gather, layoutOf, viewsOf } from '../engine/optim/flat.js';
import { Session, type SessionOptions } from '../engine/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import type { TrainingGraph } from './training-graph.js';

export interface StepResult {
  loss: number;
  /** Gradient L2 norm before clipping (when clipping is on). */
  gradNorm?: number;
  extras: Record<string, HostTensor>;
}

export class Trainer {
  readonly params: ParamMap;
  /** Gradient views, rewritten by every `gradients` call. */
  readonly grads: ParamMap;
  readonly layout: FlatLayout;
  private shapes = new Map<string, number[]>();
  private seedOne: HostTensor = { dtype: 'float32', shape: [], data: Float32Array.of(1) };

  private constructor(
    readonly tg: TrainingGraph,
    readonly session: Session,
    readonly optimizer: Optimizer,
    readonly maxGradNorm: number | undefined,
  ) {
    const initial: ParamMap = new Map(tg.params.map((n) => [n, tg.initial.get(n)!.data as Float32Array]));
    for (const n of tg.params) this.shapes.set(n, tg.initial.get(n)!.shape);
    this.layout = layoutOf(initial);
    // Own copies: the optimizer mutates them in place.
    this.params = viewsOf(gather(initial, this.layout, new Float32Array(this.layout.total)), this.layout);
    this.grads = viewsOf(new Float32Array(this.layout.total), this.layout);
    const seedShape = tg.graph.info(tg.seed).shape;
    this.seedOne = { dtype: 'float32', shape: seedShape, data: Float32Array.of(1) };
  }

  static async create(tg: TrainingGraph, optimizer: Optimizer, o: { session?: SessionOptions; maxGradNorm?: number } = {}): Promise<Trainer> {
    // A graph that recomputes activations to save memory should not keep its peak in onnxruntime's arena either.
    const session = await Session.fromGraph(tg.graph, tg.checkpointing ? { memArena: false, ...o.session } : o.session);
    return new Trainer(tg, session, optimizer, o.maxGradNorm);
  }

  paramTensor(name: string): HostTensor {
    return { dtype: 'float32', shape: this.shapes.get(name)!, data: this.params.get(name)! };
  }

  /**
   * Forward and backward: the loss, the gradients and any extra outputs. The gradients are `this.grads`, overwritten
   * by the next call: copy them (or use a GradAccumulator) to keep them.
   */
  async gradients(feeds: Record<string, HostTensor>, lossScale = 1): Promise<{ loss: number; grads: ParamMap; extras: Record<string, HostTensor> }> {
    const all: Record<string, HostTensor> = { ...feeds, [this.tg.seed]: lossScale === 1 ? this.seedOne : { ...this.seedOne, data: Float32Array.of(lossScale) } };
    const into: Record<string, HostTensor> = {};
    for (const name of this.tg.params) {
      all[name] = this.paramTensor(name);
      into[this.tg.gradOf.get(name)!] = { dtype: 'float32', shape: this.shapes.get(name)!, data: this.grads.get(name)! };
    }
    const out = await this.session.runInto(all, into, [this.tg.loss, ...this.tg.extraOutputs]);
    const extras: Record<string, HostTensor> = {};
    for (const e of this.tg.extraOutputs) extras[e] = out[e];
    return { loss: Number(out[this.tg.loss].data[0]), grads: this.grads, extras };
  }

  /**
   * Clips (if configured) and applies gradients; returns the pre-clip norm when clipping. A non-finite norm skips
   * the step (the parameters stay as they were) and is returned for the caller to report.
   */
  async apply(grads: ParamMap, lr?: number): Promise<number | undefined> {
    const norm = this.maxGradNorm !== undefined ? clipGradNorm(grads, this.maxGradNorm) : undefined;
    if (norm !== undefined && !Number.isFinite(norm)) return norm;
    await this.optimizer.step(this.params, grads, lr);
    return norm;
  }

  async step(feeds: Record<string, HostTensor>, lr?: number): Promise<StepResult> {
    const { loss, grads, extras } = await this.gradients(feeds);
    const gradNorm = await this.apply(grads, lr);
    return { loss, gradNorm, extras };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
