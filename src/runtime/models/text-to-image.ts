// What sampling needs of a Stable Diffusion model, whichever way its networks run: graphs built from the weights
// (SdPipeline) or the sessions of an ONNX export (OnnxExportPipeline). Text-to-image itself is the same for both.
import type { ImageBatch } from '../engine/image.js';
import type { Rng } from '../onnx/random.js';
import type { HostTensor } from '../onnx/tensor.js';
import { type Denoiser, type SamplerName, sampleLatents, type Trajectory } from '../diffusion/sampler.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';

export interface SampleRequest {
  prompts: string[];
  negativePrompt?: string;
  seeds: number[];
  steps: number;
  guidance: number;
  scheduler: SamplerName;
  eta?: number;
  loraStrength?: number;
  recordTrajectory?: boolean;
  onProgress?: (step: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SampleOutput {
  images: ImageBatch;
  latents: HostTensor;
  /** Prompt embeddings used (cond), [B,77,D]: DDPO trains on them. */
  cond: HostTensor;
  uncond: HostTensor;
  trajectories?: Trajectory[];
}

export abstract class TextToImagePipeline {
  abstract readonly schedule: NoiseSchedule;
  /** Image side in pixels the model works at. */
  abstract readonly resolution: number;
  /** [channels, h, w] of one latent. */
  abstract readonly latentShape: [number, number, number];

  /** Prompts -> the text encoder's final hidden states [B,77,D]. */
  abstract encodeText(prompts: string[], onTruncate?: (prompt: string) => void): Promise<HostTensor>;
  /** The noise predictor as the sampler's Denoiser. */
  abstract denoiser(loraStrength?: number): Denoiser;
  /** Latents (scaled) -> images in [0,1]. */
  abstract decode(latents: HostTensor): Promise<ImageBatch>;
  /** Images in [0,1] -> scaled latents. */
  abstract encode(images: ImageBatch, rng?: Rng): Promise<HostTensor>;
  abstract release(): Promise<void>;

  async sample(r: SampleRequest): Promise<SampleOutput> {
    const cond = await this.encodeText(r.prompts);
    const uncond = await this.encodeText([r.negativePrompt ?? '']);
    const { latents, trajectories } = await sampleLatents(this.denoiser(r.loraStrength ?? 1), this.schedule, {
      scheduler: r.scheduler, steps: r.steps, cond, uncond, latentShape: this.latentShape, seeds: r.seeds, guidance: r.guidance,
      eta: r.eta, recordTrajectory: r.recordTrajectory, onProgress: r.onProgress, signal: r.signal,
    });
    return { images: await this.decode(latents), latents, cond, uncond, trajectories };
  }
}
