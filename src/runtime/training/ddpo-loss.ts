// The DDPO training graph for one minibatch: B stored denoising steps (each sample at its own timestep), the UNet with
// LoRA adapters on [uncond; cond], classifier-free guidance, the new log p(x_t' | x_t) of the stored step, and the
// PPO clipped objective (ddpo-pytorch):
//   ratio = exp(logp - old_logp)
//   loss  = mean( max(-A ratio, -A clamp(ratio, 1 - clip, 1 + clip)) ) + kl_weight mean((eps - eps_ref)^2)
// Extra outputs: approx_kl = mean(0.5 (logp - old_logp)^2), clipfrac = mean(|ratio - 1| > clip), logp, ratio (and kl).
// eps_ref (the frozen starting model's guided noise prediction at the same inputs) is an input: computing it in this
// graph would run a second UNet and, through the adapter at strength 0, differentiate it for nothing; the loop runs it
// in an inference session instead. Only adapter weights train; the UNet's own weights are initializers.
import { makeTrainingGraph, type TrainingGraph } from '../autodiff/training-graph.js';
import { ddimCoefficientFeeds, ddimCoefficientInputs, ddimLogProbGraph } from '../diffusion/ddim.js';
import { combineGuidanceGraph } from '../diffusion/guidance.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';
import { GraphBuilder } from '../onnx/builder.js';
import { isLoraParam, type LoraConfig } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { WeightsSource } from '../onnx/params.js';
import type { UNetConfig } from '../models/configs.js';
import { unet } from '../models/unet.js';

export interface DdpoLossConfig {
  /** Samples per minibatch. */
  batch: number;
  /** Latent shape per sample [C, h, w]. */
  latentShape: readonly [number, number, number];
  /** Text embeddings per sample [tokens, width]. */
  contextShape: readonly [number, number];
  /** Classifier-free guidance weight the samples were drawn with. */
  guidance: number;
  /** PPO clip range on the ratio (ddpo-pytorch: 1e-4). */
  clipRange: number;
  /** Weight of mean((eps - eps_ref)^2); 0 (default) leaves out the eps_ref input. */
  klWeight?: number;
}

/** Input names of the graph (plus the DDIM coefficients of `ddimCoefficientInputs`, prefix 'ddim'). */
export const DDPO_INPUTS = {
  xt: 'x_t', next: 'x_next', timestep: 'timestep', cond: 'cond', uncond: 'uncond',
  oldLogp: 'old_logp', advantages: 'advantages', epsRef: 'eps_ref',
} as const;

export const DDPO_OUTPUTS = { loss: 'loss', approxKl: 'approx_kl', clipFrac: 'clipfrac', logp: 'logp', ratio: 'ratio', kl: 'kl' } as const;

export interface DdpoLossGraph {
  b: GraphBuilder;
  loss: string;
  /** Forward outputs besides the loss: approx_kl, clipfrac, logp, ratio, and kl when klWeight > 0. */
  extraOutputs: string[];
}

/** The forward graph with its loss (UNet weights from `unetWeights`, adapters from `lora.params`). */
export function buildDdpoLoss(unetModel: { config: UNetConfig; weights: Map<string, HostTensor> }, lora: LoraConfig, c: DdpoLossConfig): DdpoLossGraph {
  const { batch: n, latentShape, contextShape } = c;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`DDPO minibatch must be a positive integer, got ${n}`);
  if (!(c.clipRange > 0)) throw new RangeError(`DDPO clip range must be > 0, got ${c.clipRange}`);
  const klWeight = c.klWeight ?? 0;
  if (!(klWeight >= 0)) throw new RangeError(`DDPO kl weight must be >= 0, got ${klWeight}`);
  const b = new GraphBuilder();
  const I = DDPO_INPUTS;
  const lat = [n, ...latentShape];
  const xt = b.input(I.xt, lat);
  const next = b.input(I.next, lat);
  const t = b.input(I.timestep, [n]);
  const cond = b.input(I.cond, [n, ...contextShape]);
  const uncond = b.input(I.uncond, [n, ...contextShape]);
  const coeffs = ddimCoefficientInputs(b, n);
  const oldLogp = b.input(I.oldLogp, [n]);
  const adv = b.input(I.advantages, [n]);

  const epsBoth = unet({ b, params: new WeightsSource(unetModel.weights), lora }, unetModel.config,
    op.concat([xt, xt], 0), op.concat([t, t], 0), op.concat([uncond, cond], 0));
  const eps = combineGuidanceGraph(epsBoth, c.guidance);
  const logp = ddimLogProbGraph(b, { xt, eps, prevSample: next, coeffs });

  return b.scope('ddpo', () => {
    const diff = op.sub(logp, oldLogp);
    const ratio = op.exp(diff);
    const clipped = b.op1('Clip', [ratio, b.scalar(1 - c.clipRange), b.scalar(1 + c.clipRange)]);
    const negAdv = op.neg(adv);
    let loss = op.mean(op.maximum(op.mul(negAdv, ratio), op.mul(negAdv, clipped)));
    const O = DDPO_OUTPUTS;
    const extra = [
      b.output(op.mean(op.mul(op.mul(diff, diff), 0.5)), O.approxKl),
      b.output(op.mean(op.cast(op.greater(op.abs(op.sub(ratio, 1)), c.clipRange), 'float32')), O.clipFrac),
      b.output(logp, O.logp),
      b.output(ratio, O.ratio),
    ].map((s) => s.name);
    if (klWeight > 0) {
      const d = op.sub(eps, b.input(I.epsRef, lat));
      const kl = op.mean(op.mul(d, d));
      extra.push(b.output(kl, O.kl).name);
      loss = op.add(loss, op.mul(kl, klWeight));
    }
    return { b, loss: b.output(loss, O.loss).name, extraOutputs: extra };
  });
}

/**
 * The training graph: loss, extra outputs and one gradient per adapter weight (nothing else trains); with gradient
 * checkpointing the UNet's activations are recomputed in the backward pass (docs/checkpointing.md).
 */
export function ddpoTrainingGraph(
  unetModel: { config: UNetConfig; weights: Map<string, HostTensor> }, lora: LoraConfig, c: DdpoLossConfig, o: { gradientCheckpointing?: boolean } = {},
): TrainingGraph {
  const g = buildDdpoLoss(unetModel, lora, c);
  return makeTrainingGraph(g.b.graph, g.loss, { trainable: isLoraParam, extraOutputs: g.extraOutputs, gradientCheckpointing: o.gradientCheckpointing });
}

/** One minibatch as host data: per sample its step's tensors (each [C,h,w] flat) and scalars. */
export interface DdpoMinibatch {
  xt: Float32Array[];
  next: Float32Array[];
  timesteps: number[];
  prevTimesteps: number[];
  /** Per sample [tokens*width]. */
  cond: Float32Array[];
  /** Per sample, or one for all. */
  uncond: Float32Array[];
  oldLogp: number[];
  advantages: number[];
  /** Per sample guided eps of the reference model (when klWeight > 0). */
  epsRef?: Float32Array[];
}

function stack(rows: Float32Array[], n: number, shape: readonly number[], what: string): HostTensor {
  const per = shape.reduce((a, d) => a * d, 1);
  if (rows.length !== n && rows.length !== 1) throw new Error(`DDPO minibatch: ${rows.length} ${what} rows for ${n} samples`);
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const r = rows.length === 1 ? rows[0] : rows[i];
    if (r.length !== per) throw new Error(`DDPO minibatch: ${what} row ${i} has ${r.length} values, expected ${per} ([${shape}])`);
    out.set(r, i * per);
  }
  return tensor('float32', [n, ...shape], out);
}

/** Feeds for the graph of `buildDdpoLoss` (eta: the DDIM eta the samples were drawn with). */
export function ddpoFeeds(schedule: NoiseSchedule, c: DdpoLossConfig, mb: DdpoMinibatch, eta: number): Record<string, HostTensor> {
  const n = c.batch;
  if (mb.timesteps.length !== n || mb.prevTimesteps.length !== n || mb.oldLogp.length !== n || mb.advantages.length !== n)
    throw new Error(`DDPO minibatch: timesteps, prevTimesteps, oldLogp and advantages need ${n} entries each`);
  const I = DDPO_INPUTS;
  const f: Record<string, HostTensor> = {
    [I.xt]: stack(mb.xt, n, c.latentShape, 'x_t'),
    [I.next]: stack(mb.next, n, c.latentShape, 'x_next'),
    [I.timestep]: tensor('float32', [n], Float32Array.from(mb.timesteps)),
    [I.cond]: stack(mb.cond, n, c.contextShape, 'cond'),
    [I.uncond]: stack(mb.uncond, n, c.contextShape, 'uncond'),
    [I.oldLogp]: tensor('float32', [n], Float32Array.from(mb.oldLogp)),
    [I.advantages]: tensor('float32', [n], Float32Array.from(mb.advantages)),
    ...ddimCoefficientFeeds(schedule, mb.timesteps, mb.prevTimesteps, eta),
  };
  if ((c.klWeight ?? 0) > 0) {
    if (!mb.epsRef) throw new Error('DDPO minibatch: klWeight > 0 needs the reference eps (epsRef)');
    f[I.epsRef] = stack(mb.epsRef, n, c.latentShape, 'eps_ref');
  }
  return f;
}
