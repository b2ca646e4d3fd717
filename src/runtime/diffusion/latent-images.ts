// Between images and latents: the VAE is someone else's session, passed in as a function; this file owns the SD
// latent scale (z = 0.18215 E(x), x = D(z / 0.18215)) and the conversions between ImageBatch ([B,H,W,C] in [0, 1])
// and the VAE's [B,3,H,W] in [-1, 1].
import { imageBatch, type ImageBatch } from '../engine/image.js';
import type { Rng } from '../onnx/random.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';

export const SD_LATENT_SCALE = 0.18215;

/** VAE decoder: latents [B,4,h,w] (already divided by the scale) -> images [B,3,H,W] in [-1, 1]. */
export type LatentDecoder = (latents: HostTensor) => Promise<HostTensor>;
/**
 * VAE encoder: images [B,3,H,W] in [-1, 1] -> either latents [B,C,h,w] (before scaling) or the posterior's moments
 * [B,2C,h,w] (mean then log-variance, as diffusers' encoder + quant_conv output); C is 4 in SD1.5.
 */
export type ImageEncoder = (images: HostTensor) => Promise<HostTensor>;

/** ImageBatch [0,1] HWC -> [B,3,H,W] in [-1,1] (an alpha channel is dropped). */
export function imagesToTensor(images: ImageBatch): HostTensor {
  const { count, height, width, channels, data } = images;
  if (channels !== 3 && channels !== 4) throw new Error(`images must have 3 (RGB) or 4 (RGBA) channels, got ${channels}`);
  const plane = height * width;
  const out = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++)
    for (let p = 0; p < plane; p++) {
      const src = (n * plane + p) * channels;
      for (let ch = 0; ch < 3; ch++) out[(n * 3 + ch) * plane + p] = data[src + ch] * 2 - 1;
    }
  return tensor('float32', [count, 3, height, width], out);
}

/** [B,3,H,W] in [-1,1] -> ImageBatch [0,1] HWC, clamped (diffusers: (x / 2 + 0.5).clamp(0, 1)). */
export function tensorToImages(x: HostTensor): ImageBatch {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || x.shape[1] !== 3) throw new Error(`decoded images must be float32 [B,3,H,W], got ${x.dtype} [${x.shape}]`);
  const [count, , height, width] = x.shape;
  const plane = height * width;
  const d = x.data as Float32Array;
  const out = imageBatch(count, height, width, 3);
  for (let n = 0; n < count; n++)
    for (let ch = 0; ch < 3; ch++)
      for (let p = 0; p < plane; p++) {
        const v = d[(n * 3 + ch) * plane + p] / 2 + 0.5;
        out.data[(n * plane + p) * 3 + ch] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
  return out;
}

function scaled(x: HostTensor, s: number): HostTensor {
  return tensor('float32', x.shape, (x.data as Float32Array).map((v) => v * s));
}

/** Latents from the sampler -> images: D(z / scale). */
export async function decodeLatents(decode: LatentDecoder, latents: HostTensor, scale = SD_LATENT_SCALE): Promise<ImageBatch> {
  if (latents.dtype !== 'float32' || latents.shape.length !== 4) throw new Error(`latents must be float32 [B,C,h,w], got ${latents.dtype} [${latents.shape}]`);
  return tensorToImages(await decode(scaled(latents, 1 / scale)));
}

/**
 * Images -> scaled latents scale * E(x). When the encoder gives moments, `rng` draws mean + exp(logvar/2) n (diffusers'
 * latent_dist.sample(), log-variance clamped to [-30, 20]); without `rng` the mean is used (latent_dist.mode()).
 * `latentChannels` (4, as SD1.5) tells moments from latents.
 */
export async function encodeImages(
  encode: ImageEncoder,
  images: ImageBatch,
  o: { scale?: number; rng?: Rng; latentChannels?: number } = {},
): Promise<HostTensor> {
  const out = await encode(imagesToTensor(images));
  if (out.dtype !== 'float32' || out.shape.length !== 4) throw new Error(`the encoder returned ${out.dtype} [${out.shape}], expected float32 [B,C,h,w]`);
  const scale = o.scale ?? SD_LATENT_SCALE;
  const [b, ch, h, w] = out.shape;
  const c = o.latentChannels ?? 4;
  if (ch === c) return scaled(out, scale);
  if (ch !== 2 * c) throw new Error(`the encoder returned ${ch} channels; a VAE with ${c} latent channels gives ${c} (latents) or ${2 * c} (moments)`);
  const plane = c * h * w;
  const d = out.data as Float32Array;
  const z = new Float32Array(b * plane);
  for (let n = 0; n < b; n++)
    for (let k = 0; k < plane; k++) {
      const mean = d[n * 2 * plane + k];
      const logvar = Math.min(20, Math.max(-30, d[n * 2 * plane + plane + k]));
      z[n * plane + k] = scale * (o.rng ? mean + Math.exp(0.5 * logvar) * o.rng.normal() : mean);
    }
  return tensor('float32', [b, c, h, w], z);
}
