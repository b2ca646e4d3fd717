// AutoencoderKL as diffusers computes it for Stable Diffusion: the encoder (to the latent posterior's mean and
// log-variance, after quant_conv) and the decoder (post_quant_conv first), parameters named by their diffusers keys
// (`encoder.down_blocks.0.resnets.0.conv1.weight`, `decoder.mid_block.attentions.0.to_q.weight`, `quant_conv.weight`).
// The latent scale (0.18215 for SD1.5) is the caller's business. PyTorch twin: scripts/torch/sd_modules.py.
import { GraphBuilder, type Sym } from '../onnx/builder.js';
import { conv2d, groupNorm, type LayerContext, silu } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { countParams, downsample2D, type NormOptions, recordParamShapes, resnetBlock2D, spatialSelfAttention, upsample2D } from './blocks.js';
import { checkVaeConfig, type VaeConfig } from './configs.js';

/** diffusers builds every VAE resnet, attention and output norm with eps 1e-6. */
const VAE_EPS = 1e-6;

/** Image side / latent side. */
export const vaeDownscale = (cfg: VaeConfig) => 2 ** (cfg.blockOutChannels.length - 1);

/** UNetMidBlock2D: resnet, single-head self-attention over the channels, resnet (no time embedding). */
function midBlock(ctx: LayerContext, prefix: string, x: Sym, norm: NormOptions): Sym {
  const c = x.shape[1];
  let h = resnetBlock2D(ctx, `${prefix}.resnets.0`, x, null, c, norm);
  h = spatialSelfAttention(ctx, `${prefix}.attentions.0`, h, norm);
  return resnetBlock2D(ctx, `${prefix}.resnets.1`, h, null, c, norm);
}

/**
 * image [B, 3, H, W] in [-1, 1] -> the latent posterior: mean and logvar, each [B, latent, H/f, W/f]. logvar is
 * clamped to [-30, 20] as diffusers' DiagonalGaussianDistribution does; a sample is mean + exp(logvar/2) * noise.
 */
export function vaeEncode(ctx: LayerContext, cfg: VaeConfig, image: Sym): { mean: Sym; logvar: Sym } {
  checkVaeConfig(cfg);
  if (image.rank !== 4 || image.shape[1] !== cfg.inChannels) throw new Error(`vaeEncode: image ${image} should be [B, ${cfg.inChannels}, H, W]`);
  const boc = cfg.blockOutChannels;
  const n = boc.length;
  const norm: NormOptions = { groups: cfg.normNumGroups, eps: VAE_EPS };
  let h = conv2d(ctx, 'encoder.conv_in', image, boc[0], 3, { padding: 1 });
  for (let i = 0; i < n; i++) {
    const p = `encoder.down_blocks.${i}`;
    for (let l = 0; l < cfg.layersPerBlock; l++) h = resnetBlock2D(ctx, `${p}.resnets.${l}`, h, null, boc[i], norm);
    if (i < n - 1) h = downsample2D(ctx, `${p}.downsamplers.0`, h, 0);
  }
  h = midBlock(ctx, 'encoder.mid_block', h, norm);
  const lc = cfg.latentChannels;
  h = conv2d(ctx, 'encoder.conv_out', silu(groupNorm(ctx, 'encoder.conv_norm_out', h, cfg.normNumGroups, VAE_EPS)), 2 * lc, 3, { padding: 1 });
  const [mean, logvar] = op.split(conv2d(ctx, 'quant_conv', h, 2 * lc, 1), [lc, lc], 1);
  return { mean, logvar: op.minimum(op.maximum(logvar, -30), 20) };
}

/** latents [B, latent, h, w] (unscaled: divide by the scaling factor first) -> image [B, 3, h*f, w*f], about [-1, 1]. */
export function vaeDecode(ctx: LayerContext, cfg: VaeConfig, latents: Sym): Sym {
  checkVaeConfig(cfg);
  const lc = cfg.latentChannels;
  if (latents.rank !== 4 || latents.shape[1] !== lc) throw new Error(`vaeDecode: latents ${latents} should be [B, ${lc}, h, w]`);
  const boc = cfg.blockOutChannels;
  const n = boc.length;
  const norm: NormOptions = { groups: cfg.normNumGroups, eps: VAE_EPS };
  let h = conv2d(ctx, 'post_quant_conv', latents, lc, 1);
  h = conv2d(ctx, 'decoder.conv_in', h, boc[n - 1], 3, { padding: 1 });
  h = midBlock(ctx, 'decoder.mid_block', h, norm);
  for (let i = 0; i < n; i++) {
    const p = `decoder.up_blocks.${i}`;
    for (let l = 0; l < cfg.layersPerBlock + 1; l++) h = resnetBlock2D(ctx, `${p}.resnets.${l}`, h, null, boc[n - 1 - i], norm);
    if (i < n - 1) h = upsample2D(ctx, `${p}.upsamplers.0`, h);
  }
  return conv2d(ctx, 'decoder.conv_out', silu(groupNorm(ctx, 'decoder.conv_norm_out', h, cfg.normNumGroups, VAE_EPS)), cfg.outChannels, 3, { padding: 1 });
}

/** Every parameter name and shape of the VAE (encoder, quant_conv, post_quant_conv, decoder), without weights. */
export function vaeParamShapes(cfg: VaeConfig): Map<string, number[]> {
  return recordParamShapes((params) => {
    const b = new GraphBuilder();
    const f = vaeDownscale(cfg);
    vaeEncode({ b, params }, cfg, b.input('image', [1, cfg.inChannels, f, f]));
    vaeDecode({ b, params }, cfg, b.input('latents', [1, cfg.latentChannels, 1, 1]));
  });
}

export const vaeParamCount = (cfg: VaeConfig) => countParams(vaeParamShapes(cfg));
