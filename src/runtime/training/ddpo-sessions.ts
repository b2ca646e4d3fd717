// What a DDPO run holds while it trains: the training graph and its Trainer (the adapter's parameters and AdamW), the
// sampling pipeline that reads those parameters in place, and the frozen reference model when a KL weight is set.
import { Trainer } from '../autodiff/trainer.js';
import { AdamW } from '../engine/optim/adamw.js';
import type { SessionOptions } from '../engine/session.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';
import type { LoraConfig } from '../onnx/layers.js';
import { type ParamSource, RandomInit, WeightsSource } from '../onnx/params.js';
import type { SdModel } from '../models/sd-model.js';
import { loraConfigFor, type LoraWeights, SdPipeline } from '../models/sd-pipeline.js';
import { vaeDownscale } from '../models/vae.js';
import type { ResumedState } from './ddpo-checkpoints.js';
import { type DdpoLossConfig, ddpoTrainingGraph } from './ddpo-loss.js';
import type { DdpoSettings } from './ddpo-options.js';
import { LORA_TARGET_SETS } from './lora-init.js';

export interface DdpoSessions {
  trainer: Trainer;
  optimizer: AdamW;
  /** The adapter's parameter names, in the training graph's order. */
  params: string[];
  /** Samples with the adapter as it trains. */
  pipeline: SdPipeline;
  /** The starting model, for the KL term. */
  reference?: SdPipeline;
  lossConfig: DdpoLossConfig;
}

export interface SessionsRequest {
  model: SdModel;
  r: DdpoSettings;
  rank: number;
  alpha: number;
  initial?: LoraWeights;
  resumed?: ResumedState;
  sessionOptions?: SessionOptions;
  gradientCheckpointing: boolean;
}

export async function openSessions(q: SessionsRequest): Promise<DdpoSessions> {
  const { model, r, initial, resumed } = q;
  // The adapter: where it starts, and which layers it covers.
  const startSource: ParamSource = resumed ? new WeightsSource(resumed.lora) : initial ? new WeightsSource(initial.weights) : new RandomInit(r.seed + 0x10a);
  const targets = initial ? loraConfigFor(initial).targets : (p: string) => LORA_TARGET_SETS[r.loraTargets].test(p);
  const lora: LoraConfig = { rank: q.rank, alpha: q.alpha, targets, params: startSource };

  const side = model.resolution / vaeDownscale(model.vae.config);
  const latentShape: [number, number, number] = [model.vae.config.latentChannels, side, side];
  const tc = model.textEncoder.config;
  const lossConfig: DdpoLossConfig = {
    batch: r.trainBatch, latentShape, contextShape: [tc.maxPositions, tc.width], guidance: r.guidance, clipRange: r.clipRange, klWeight: r.klWeight,
  };
  const tg = ddpoTrainingGraph(model.unet, lora, lossConfig, { gradientCheckpointing: q.gradientCheckpointing });
  const optimizer = new AdamW({ lr: r.lr, beta1: r.adamBeta1, beta2: r.adamBeta2, eps: r.adamEps, weightDecay: r.weightDecay });
  if (resumed && Object.keys(resumed.optim).length > 0) optimizer.loadStateDict(resumed.optim);
  const trainer = await Trainer.create(tg, optimizer, { session: q.sessionOptions, maxGradNorm: r.maxGradNorm });
  // The sampler reads the trainer's parameter buffers, which every update rewrites in place.
  const current: LoraWeights = { rank: q.rank, alpha: q.alpha, weights: new Map(tg.params.map((n) => [n, trainer.paramTensor(n)])) };
  const pipeline = new SdPipeline(model, current, q.sessionOptions, { loraAsInputs: true });
  const reference = r.klWeight > 0 ? new SdPipeline(model, initial, q.sessionOptions) : undefined;
  return { trainer, optimizer, params: tg.params, pipeline, reference, lossConfig };
}

/** The adapter as the trainer holds it now (views of its buffers, which the next update rewrites). */
export function liveAdapter(s: DdpoSessions): Map<string, HostTensor> {
  return new Map(s.params.map((n) => [n, s.trainer.paramTensor(n)]));
}

/** The adapter copied out of the trainer, to outlive it. */
export function adapterCopy(s: DdpoSessions): Map<string, HostTensor> {
  return new Map(s.params.map((n) => [n, tensor('float32', [...s.trainer.paramTensor(n).shape], Float32Array.from(s.trainer.params.get(n)!))]));
}

export async function releaseSessions(s: DdpoSessions): Promise<void> {
  await s.trainer.release();
  await s.pipeline.release();
  await s.reference?.release();
}
