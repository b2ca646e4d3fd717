// Text-to-image for nodes: prompts and seeds in chunks of a fixed batch (each batch size compiles its own sessions,
// so a fixed chunk keeps to one or two), progress over every denoising step, a preview per chunk, cancellation.
import { concatImages, type ImageBatch } from '../../runtime/engine/image.js';
import type { HostTensor } from '../../runtime/onnx/tensor.js';
import type { SamplerName } from '../../runtime/diffusion/sampler.js';
import type { RunContext } from '../../runtime/graph/node-api.js';
import { type AnyModelHandle, pipelineOf } from './model.js';

export interface GenerateOptions {
  prompts: string[];
  seeds: number[];
  steps: number;
  guidance: number;
  sampler: SamplerName;
  negativePrompt?: string;
  eta?: number;
  /** Images per session run. */
  chunk?: number;
  /** Overrides the handle's LoRA strength (an input of the same sessions, so free to change). */
  loraStrength?: number;
  /** Progress text prefix ("class image"). */
  label?: string;
}

export const SAMPLERS: readonly SamplerName[] = ['ddim', 'euler_a'];

/**
 * The most sampling steps a node admits: 999, not the 1000 training timesteps. SD1.5's scheduler spaces timesteps
 * "leading" with steps_offset 1, so 1000 steps would start at timestep 1000, past the last one (999); diffusers'
 * DDIMScheduler.set_timesteps makes the same 1000 ... 1 and its step() then indexes alphas_cumprod[1000], out of
 * range. Every count from 1 to 999 gives timesteps in 1 ... 999.
 */
export const MAX_SAMPLING_STEPS = 999;

export async function generate(h: AnyModelHandle, o: GenerateOptions, ctx: RunContext): Promise<{ images: ImageBatch; latents: HostTensor }> {
  if (o.prompts.length !== o.seeds.length) throw new Error(`${o.prompts.length} prompts but ${o.seeds.length} seeds`);
  const pipe = pipelineOf(h);
  const chunk = Math.max(1, Math.min(o.chunk ?? 16, o.prompts.length));
  const total = o.prompts.length;
  const images: ImageBatch[] = [];
  const latents: Float32Array[] = [];
  let shape: number[] = [];
  for (let start = 0; start < total; start += chunk) {
    ctx.checkInterrupted();
    const prompts = o.prompts.slice(start, start + chunk);
    const r = await pipe.sample({
      prompts,
      seeds: o.seeds.slice(start, start + chunk),
      steps: o.steps,
      guidance: o.guidance,
      scheduler: o.sampler,
      eta: o.eta,
      negativePrompt: o.negativePrompt,
      loraStrength: o.loraStrength ?? h.loraStrength,
      signal: ctx.signal,
      onProgress: (step, steps) => ctx.progress(start * steps + step * prompts.length, total * steps, `${o.label ?? 'image'} ${Math.min(start + chunk, total)}/${total}`),
    });
    images.push(r.images);
    latents.push(r.latents.data as Float32Array);
    shape = r.latents.shape.slice(1);
    ctx.preview(r.images);
  }
  const per = shape.reduce((a, b) => a * b, 1);
  const all = new Float32Array(total * per);
  latents.forEach((l, i) => all.set(l, i * chunk * per));
  return { images: concatImages(images), latents: { dtype: 'float32', shape: [total, ...shape], data: all } };
}

/** Non-empty lines of a multiline prompt widget. */
export function promptLines(text: unknown, input = 'prompt'): string[] {
  const lines = String(text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) throw new Error(`input ${input}: no prompt given (one prompt per line)`);
  return lines;
}
