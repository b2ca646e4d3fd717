// Inference sessions for an SdModel: text encoding, the noise predictor (optionally with LoRA adapters and a strength
// input), VAE encode and decode, and text-to-image sampling. Graphs have static shapes, so each batch size gets its
// own session, built once and reused.
import type { ImageBatch } from '../engine/image.js';
import { SessionPool } from '../engine/session-pool.js';
import { Session, type SessionOptions } from '../engine/session.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';
import { decodeLatents, encodeImages } from '../diffusion/latent-images.js';
import type { Denoiser } from '../diffusion/sampler.js';
import { NoiseSchedule } from '../diffusion/schedule.js';
import { Rng } from '../onnx/random.js';
import { GraphBuilder } from '../onnx/builder.js';
import { toFloat16 } from '../onnx/float16.js';
import { isLoraParam, type LoraConfig } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { WeightsSource } from '../onnx/params.js';
import { clipText } from './clip-text.js';
import type { SdModel } from './sd-model.js';
import { TextToImagePipeline } from './text-to-image.js';
import { unet } from './unet.js';
import { vaeDecode, vaeDownscale, vaeEncode } from './vae.js';

/** A trained adapter set: our internal names (`<diffusers prefix>.lora_down/up.weight`), rank and alpha. */
export interface LoraWeights {
  rank: number;
  alpha: number;
  weights: Map<string, HostTensor>;
}

/** The attention projections LoRA adapts by default (self- and cross-attention). */
export const LORA_TARGETS = /\.attn[12]\.(to_q|to_k|to_v|to_out\.0)$/;

export function loraConfigFor(l: LoraWeights, strength?: LoraConfig['strength']): LoraConfig {
  const prefixes = new Set([...l.weights.keys()].map((n) => n.replace(/\.lora_(down|up)\.weight$/, '')));
  return { rank: l.rank, alpha: l.alpha, targets: (p) => prefixes.has(p), strength, params: new WeightsSource(l.weights) };
}

export type { SampleOutput, SampleRequest } from './text-to-image.js';

export interface SdPipelineOptions {
  /**
   * Feed the adapter to the UNet session as inputs read from `lora.weights` at every call, instead of initializers
   * fixed when the session is built: a trainer updating those tensors in place (DDPO) samples with its current
   * adapter from the same sessions.
   */
  loraAsInputs?: boolean;
  /**
   * 'fp16': the sessions compute in half precision (toFloat16: half the weight memory; fast on GPUs), the timestep
   * embedding in float32. Default 'fp32'. Trainers sample in float32, the precision they train in.
   */
  precision?: 'fp32' | 'fp16';
}

export class SdPipeline extends TextToImagePipeline {
  readonly schedule: NoiseSchedule;
  readonly resolution: number;
  private pool = new SessionPool();

  constructor(
    readonly model: SdModel,
    readonly lora?: LoraWeights,
    private readonly sessionOptions: SessionOptions = {},
    private readonly options: SdPipelineOptions = {},
  ) {
    super();
    this.schedule = new NoiseSchedule(model.scheduler);
    this.resolution = model.resolution;
  }

  get latentShape(): [number, number, number] {
    const s = this.model.resolution / vaeDownscale(this.model.vae.config);
    return [this.model.vae.config.latentChannels, s, s];
  }

  private session(key: string, build: () => GraphBuilder): Promise<Session> {
    return this.pool.get(key, () => {
      const graph = build().graph;
      return Session.fromGraph(this.options.precision === 'fp16' ? toFloat16(graph, { keepFloat32Inputs: ['timestep'] }) : graph, this.sessionOptions);
    });
  }

  /** Token ids -> final hidden states [B,77,D]. */
  async encodeText(prompts: string[], onTruncate?: (prompt: string) => void): Promise<HostTensor> {
    const { config, weights } = this.model.textEncoder;
    const n = prompts.length;
    const s = await this.session(`text:${n}`, () => {
      const b = new GraphBuilder();
      const ids = b.input('input_ids', [n, config.maxPositions], 'int64');
      b.output(clipText({ b, params: new WeightsSource(weights) }, config, ids).lastHidden, 'hidden');
      return b;
    });
    const ids = this.model.tokenizer.encodeBatch(prompts, { length: config.maxPositions, onTruncate: onTruncate && ((p) => onTruncate(p)) });
    return (await s.run({ input_ids: tensor('int64', [n, config.maxPositions], ids) })).hidden;
  }

  /** The noise predictor as the sampler's Denoiser (LoRA strength fed as an input, so changing it costs nothing). */
  denoiser(loraStrength = 1): Denoiser {
    return {
      predict: async (latents, timesteps, cond) => {
        const n = latents.shape[0];
        const s = await this.session(`unet:${n}`, () => {
          const b = new GraphBuilder();
          const sample = b.input('sample', [...latents.shape]);
          const t = b.input('timestep', [n]);
          const ctx = b.input('encoder_hidden_states', [...cond.shape]);
          const lora = this.lora ? loraConfigFor(this.lora, b.input('lora_strength', [])) : undefined;
          b.output(unet({ b, params: new WeightsSource(this.model.unet.weights), lora }, this.model.unet.config, sample, t, ctx), 'eps');
          if (this.lora && this.options.loraAsInputs) {
            const g = b.graph;
            for (const name of [...g.initializers.keys()].filter(isLoraParam)) {
              g.initializers.delete(name);
              g.constants.delete(name);
              g.inputs.push(name);
            }
          }
          return b;
        });
        const feeds: Record<string, HostTensor> = { sample: latents, timestep: tensor('float32', [n], Float32Array.from(timesteps)), encoder_hidden_states: cond };
        if (this.lora) feeds.lora_strength = tensor('float32', [], Float32Array.of(loraStrength));
        if (this.lora && this.options.loraAsInputs) for (const name of s.inputNames.filter(isLoraParam)) feeds[name] = this.lora.weights.get(name)!;
        return (await s.run(feeds)).eps;
      },
    };
  }

  /** Latents (scaled) -> images in [0,1]. */
  async decode(latents: HostTensor): Promise<ImageBatch> {
    const { config, weights } = this.model.vae;
    return decodeLatents(async (z) => {
      const s = await this.session(`decode:${z.shape[0]}`, () => {
        const b = new GraphBuilder();
        b.output(vaeDecode({ b, params: new WeightsSource(weights) }, config, b.input('latents', [...z.shape])), 'image');
        return b;
      });
      return (await s.run({ latents: z })).image;
    }, latents, config.scalingFactor);
  }

  /** Images in [0,1] -> scaled latents (the posterior mean, or a sample when an Rng is given). */
  async encode(images: ImageBatch, rng?: Rng): Promise<HostTensor> {
    const { config, weights } = this.model.vae;
    return encodeImages(async (x) => {
      const s = await this.session(`encode:${x.shape[0]}x${x.shape[2]}`, () => {
        const b = new GraphBuilder();
        const { mean, logvar } = vaeEncode({ b, params: new WeightsSource(weights) }, config, b.input('image', [...x.shape]));
        b.output(op.concat([mean, logvar], 1), 'moments');
        return b;
      });
      return (await s.run({ image: x })).moments;
    }, images, { scale: config.scalingFactor, rng, latentChannels: config.latentChannels });
  }

  async release(): Promise<void> {
    await this.pool.releaseAll();
  }
}
