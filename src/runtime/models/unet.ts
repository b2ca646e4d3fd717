// UNet2DConditionModel as diffusers computes it for Stable Diffusion 1.x, every width from the config, parameters
// named by their diffusers state_dict keys (`down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight`).
// PyTorch twin: scripts/torch/sd_modules.py; test/models/unet.test.ts checks the two agree.
import { GraphBuilder, type Sym } from '../onnx/builder.js';
import { conv2d, groupNorm, type LayerContext, linear, silu, timestepEmbedding } from '../onnx/layers.js';
import * as op from '../onnx/ops/index.js';
import { countParams, downsample2D, type NormOptions, recordParamShapes, resnetBlock2D, transformer2D, upsample2D } from './blocks.js';
import { checkUNetConfig, headsPerBlock, type UNetConfig } from './configs.js';

/** Width of the time embedding the resnets receive (diffusers: block_out_channels[0] * 4). */
export const timeEmbedDim = (cfg: UNetConfig) => cfg.blockOutChannels[0] * 4;

/** Latent height and width must be multiples of this (one x2 upsampling per level below the top). */
export const unetSizeMultiple = (cfg: UNetConfig) => 2 ** (cfg.blockOutChannels.length - 1);

/**
 * eps = UNet(sample [B, in, H, W], timestep, encoder_hidden_states [B, T, crossAttentionDim]) -> [B, out, H, W].
 * The timestep is [B], [1] or a scalar, of any numeric dtype (int64 and float32 give the same result); it is cast to
 * float32 before the sinusoidal embedding, as diffusers does.
 */
export function unet(ctx: LayerContext, cfg: UNetConfig, sample: Sym, timestep: Sym, context: Sym): Sym {
  checkUNetConfig(cfg);
  const boc = cfg.blockOutChannels;
  const n = boc.length;
  const [batch, inC, height, width] = sample.shape;
  if (sample.rank !== 4 || inC !== cfg.inChannels) throw new Error(`unet: sample ${sample} should be [B, ${cfg.inChannels}, H, W]`);
  const mult = unetSizeMultiple(cfg);
  if (height % mult !== 0 || width % mult !== 0)
    throw new Error(`unet: latent size ${height}x${width} must be a multiple of ${mult} (image size a multiple of ${8 * mult})`);
  if (context.rank !== 3 || context.shape[0] !== batch || context.shape[2] !== cfg.crossAttentionDim)
    throw new Error(`unet: encoder_hidden_states ${context} should be [${batch}, T, ${cfg.crossAttentionDim}]`);

  const norm: NormOptions = { groups: cfg.normNumGroups, eps: cfg.normEps };
  const heads = headsPerBlock(cfg);
  const xf = (prefix: string, h: Sym, level: number) =>
    transformer2D(ctx, prefix, h, context, { heads: heads[level], groups: cfg.normNumGroups, layers: cfg.transformerLayersPerBlock });

  // Time embedding: Timesteps (sinusoidal) -> TimestepEmbedding (linear_1, SiLU, linear_2).
  const temb = linear(ctx, 'time_embedding.linear_2',
    silu(linear(ctx, 'time_embedding.linear_1', timestepEmbedding(batchTimesteps(timestep, batch), boc[0], 10000, cfg.flipSinToCos, cfg.freqShift), timeEmbedDim(cfg))),
    timeEmbedDim(cfg));

  let h = conv2d(ctx, 'conv_in', sample, boc[0], 3, { padding: 1 });
  const skips: Sym[] = [h];
  cfg.downBlockTypes.forEach((type, i) => {
    const p = `down_blocks.${i}`;
    for (let l = 0; l < cfg.layersPerBlock; l++) {
      h = resnetBlock2D(ctx, `${p}.resnets.${l}`, h, temb, boc[i], norm);
      if (type === 'CrossAttnDownBlock2D') h = xf(`${p}.attentions.${l}`, h, i);
      skips.push(h);
    }
    if (i < n - 1) {
      h = downsample2D(ctx, `${p}.downsamplers.0`, h, cfg.downsamplePadding);
      skips.push(h);
    }
  });

  h = resnetBlock2D(ctx, 'mid_block.resnets.0', h, temb, boc[n - 1], norm);
  h = xf('mid_block.attentions.0', h, n - 1);
  h = resnetBlock2D(ctx, 'mid_block.resnets.1', h, temb, boc[n - 1], norm);

  cfg.upBlockTypes.forEach((type, i) => {
    const p = `up_blocks.${i}`;
    const level = n - 1 - i;
    for (let l = 0; l < cfg.layersPerBlock + 1; l++) {
      h = resnetBlock2D(ctx, `${p}.resnets.${l}`, op.concat([h, skips.pop()!], 1), temb, boc[level], norm);
      if (type === 'CrossAttnUpBlock2D') h = xf(`${p}.attentions.${l}`, h, level);
    }
    if (i < n - 1) h = upsample2D(ctx, `${p}.upsamplers.0`, h);
  });

  return conv2d(ctx, 'conv_out', silu(groupNorm(ctx, 'conv_norm_out', h, cfg.normNumGroups, cfg.normEps)), cfg.outChannels, 3, { padding: 1 });
}

/** Timesteps as [B]: a scalar or [1] is broadcast to the batch, as diffusers does. */
function batchTimesteps(t: Sym, batch: number): Sym {
  if (t.rank === 0) t = op.reshape(t, [1]);
  if (t.rank !== 1 || (t.shape[0] !== batch && t.shape[0] !== 1)) throw new Error(`unet: timestep ${t} should be [${batch}], [1] or a scalar`);
  return op.expand(t, [batch]);
}

/** Every parameter name and shape of the UNet, without allocating weights (SD1.5: 686 tensors, 859,520,964 values). */
export function unetParamShapes(cfg: UNetConfig): Map<string, number[]> {
  return recordParamShapes((params) => {
    const b = new GraphBuilder();
    const m = unetSizeMultiple(cfg);
    const sample = b.input('sample', [1, cfg.inChannels, m, m]);
    const t = b.input('timestep', [1], 'int64');
    const context = b.input('encoder_hidden_states', [1, 1, cfg.crossAttentionDim]);
    unet({ b, params }, cfg, sample, t, context);
  });
}

export const unetParamCount = (cfg: UNetConfig) => countParams(unetParamShapes(cfg));
