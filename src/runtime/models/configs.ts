// Architecture configs of the UNet and the VAE: SD1.5's, and tiny ones built by the same code (tests, the embedded
// default model). Fields mirror diffusers' config.json keys in camelCase; `*FromDiffusers` read those files.

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'UpBlock2D' | 'CrossAttnUpBlock2D';

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  /** Channels of each resolution level; the time embedding is 4x the first. */
  blockOutChannels: number[];
  /** Resnets per down block (up blocks have one more). */
  layersPerBlock: number;
  downBlockTypes: DownBlockType[];
  /** Listed from the lowest resolution up, as diffusers lists them. */
  upBlockTypes: UpBlockType[];
  crossAttentionDim: number;
  /**
   * Attention heads per block (one number for all). SD1.5's diffusers config says `attention_head_dim: 8` and means
   * 8 heads (head width = channels / 8); `unetConfigFromDiffusers` resolves that quirk.
   */
  attentionHeads: number | number[];
  transformerLayersPerBlock: number;
  normNumGroups: number;
  normEps: number;
  flipSinToCos: boolean;
  freqShift: number;
  /** Stride-2 conv padding of the down blocks' Downsample2D. */
  downsamplePadding: number;
}

export interface VaeConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  normNumGroups: number;
  /** z = scalingFactor * E(x) for the diffusion model; not used inside the VAE graph. */
  scalingFactor: number;
}

export const SD15_UNET: UNetConfig = {
  inChannels: 4,
  outChannels: 4,
  blockOutChannels: [320, 640, 1280, 1280],
  layersPerBlock: 2,
  downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  crossAttentionDim: 768,
  attentionHeads: 8,
  transformerLayersPerBlock: 1,
  normNumGroups: 32,
  normEps: 1e-5,
  flipSinToCos: true,
  freqShift: 0,
  downsamplePadding: 1,
};

export const SD15_VAE: VaeConfig = {
  inChannels: 3,
  outChannels: 3,
  latentChannels: 4,
  blockOutChannels: [128, 256, 512, 512],
  layersPerBlock: 2,
  normNumGroups: 32,
  scalingFactor: 0.18215,
};

/**
 * SD1.5's block layout at toy widths (test fixtures: scripts/torch/make-sd-fixtures.py): three levels so a
 * CrossAttn block sits below another and the lowest level is a plain DownBlock2D as in SD1.5, two resnets per down
 * block so up blocks have a middle resnet, per-level head counts, and a context width unlike any channel count.
 */
export const TINY_UNET: UNetConfig = {
  ...SD15_UNET,
  blockOutChannels: [16, 24, 32],
  layersPerBlock: 2,
  downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  crossAttentionDim: 20,
  attentionHeads: [2, 3, 4],
  normNumGroups: 4,
};

/** SD1.5's VAE layout at toy widths (test fixtures): three levels, one resnet per encoder block. */
export const TINY_VAE: VaeConfig = {
  ...SD15_VAE,
  blockOutChannels: [16, 24, 32],
  layersPerBlock: 1,
  normNumGroups: 4,
};

/** Heads of each block, from the top level down. */
export function headsPerBlock(cfg: UNetConfig): number[] {
  const n = cfg.blockOutChannels.length;
  const h = cfg.attentionHeads;
  if (Array.isArray(h)) {
    if (h.length !== n) throw new Error(`UNet config: attentionHeads has ${h.length} entries, blockOutChannels ${n}`);
    return h;
  }
  return Array(n).fill(h);
}

/** Checks the invariants the model code relies on, with messages naming the field. */
export function checkUNetConfig(cfg: UNetConfig): void {
  const n = cfg.blockOutChannels.length;
  if (cfg.downBlockTypes.length !== n || cfg.upBlockTypes.length !== n)
    throw new Error(`UNet config: ${n} blockOutChannels but ${cfg.downBlockTypes.length} down and ${cfg.upBlockTypes.length} up block types`);
  const heads = headsPerBlock(cfg);
  cfg.blockOutChannels.forEach((c, i) => {
    if (c % cfg.normNumGroups !== 0) throw new Error(`UNet config: blockOutChannels[${i}] = ${c} does not split into ${cfg.normNumGroups} groups`);
    if (c % heads[i] !== 0) throw new Error(`UNet config: blockOutChannels[${i}] = ${c} does not split into ${heads[i]} heads`);
  });
}

export function checkVaeConfig(cfg: VaeConfig): void {
  cfg.blockOutChannels.forEach((c, i) => {
    if (c % cfg.normNumGroups !== 0) throw new Error(`VAE config: blockOutChannels[${i}] = ${c} does not split into ${cfg.normNumGroups} groups`);
  });
}

type Json = Record<string, unknown>;

function pick<T>(j: Json, key: string, dflt: T): T {
  const v = j[key];
  return v === undefined || v === null ? dflt : (v as T);
}

function unsupported(what: string, j: Json, key: string, ok: (v: unknown) => boolean): void {
  const v = j[key];
  if (v !== undefined && v !== null && !ok(v)) throw new Error(`${what} config: ${key} = ${JSON.stringify(v)} is not supported`);
}

/** A diffusers `unet/config.json` (SD1.x layout) as a UNetConfig; features this model lacks are errors. */
export function unetConfigFromDiffusers(j: Json): UNetConfig {
  const w = 'UNet';
  unsupported(w, j, 'use_linear_projection', (v) => v === false);
  unsupported(w, j, 'act_fn', (v) => v === 'silu');
  unsupported(w, j, 'center_input_sample', (v) => v === false);
  unsupported(w, j, 'mid_block_type', (v) => v === 'UNetMidBlock2DCrossAttn');
  unsupported(w, j, 'mid_block_scale_factor', (v) => v === 1);
  unsupported(w, j, 'resnet_time_scale_shift', (v) => v === 'default');
  unsupported(w, j, 'class_embed_type', () => false);
  unsupported(w, j, 'addition_embed_type', () => false);
  unsupported(w, j, 'encoder_hid_dim', () => false);
  unsupported(w, j, 'only_cross_attention', (v) => v === false);
  unsupported(w, j, 'dual_cross_attention', (v) => v === false);
  unsupported(w, j, 'transformer_layers_per_block', (v) => typeof v === 'number');
  unsupported(w, j, 'time_embedding_type', (v) => v === 'positional');
  const headDim = pick<number | number[]>(j, 'attention_head_dim', 8);
  const cfg: UNetConfig = {
    inChannels: pick(j, 'in_channels', 4),
    outChannels: pick(j, 'out_channels', 4),
    blockOutChannels: pick(j, 'block_out_channels', SD15_UNET.blockOutChannels),
    layersPerBlock: pick(j, 'layers_per_block', 2),
    downBlockTypes: pick(j, 'down_block_types', SD15_UNET.downBlockTypes),
    upBlockTypes: pick(j, 'up_block_types', SD15_UNET.upBlockTypes),
    crossAttentionDim: pick(j, 'cross_attention_dim', 1280),
    // diffusers: num_attention_heads = num_attention_heads or attention_head_dim.
    attentionHeads: pick<number | number[]>(j, 'num_attention_heads', headDim),
    transformerLayersPerBlock: pick(j, 'transformer_layers_per_block', 1),
    normNumGroups: pick(j, 'norm_num_groups', 32),
    normEps: pick(j, 'norm_eps', 1e-5),
    flipSinToCos: pick(j, 'flip_sin_to_cos', true),
    freqShift: pick(j, 'freq_shift', 0),
    downsamplePadding: pick(j, 'downsample_padding', 1),
  };
  for (const t of cfg.downBlockTypes) if (t !== 'CrossAttnDownBlock2D' && t !== 'DownBlock2D') throw new Error(`UNet config: down block type ${t} is not supported`);
  for (const t of cfg.upBlockTypes) if (t !== 'CrossAttnUpBlock2D' && t !== 'UpBlock2D') throw new Error(`UNet config: up block type ${t} is not supported`);
  checkUNetConfig(cfg);
  return cfg;
}

/** A diffusers `vae/config.json` (AutoencoderKL) as a VaeConfig. */
export function vaeConfigFromDiffusers(j: Json): VaeConfig {
  const w = 'VAE';
  unsupported(w, j, 'act_fn', (v) => v === 'silu');
  unsupported(w, j, 'down_block_types', (v) => Array.isArray(v) && v.every((t) => t === 'DownEncoderBlock2D'));
  unsupported(w, j, 'up_block_types', (v) => Array.isArray(v) && v.every((t) => t === 'UpDecoderBlock2D'));
  unsupported(w, j, 'use_quant_conv', (v) => v === true);
  unsupported(w, j, 'use_post_quant_conv', (v) => v === true);
  unsupported(w, j, 'mid_block_add_attention', (v) => v === true);
  const cfg: VaeConfig = {
    inChannels: pick(j, 'in_channels', 3),
    outChannels: pick(j, 'out_channels', 3),
    latentChannels: pick(j, 'latent_channels', 4),
    blockOutChannels: pick(j, 'block_out_channels', SD15_VAE.blockOutChannels),
    layersPerBlock: pick(j, 'layers_per_block', 2),
    normNumGroups: pick(j, 'norm_num_groups', 32),
    scalingFactor: pick(j, 'scaling_factor', 0.18215),
  };
  checkVaeConfig(cfg);
  return cfg;
}


/** The diffusers `unet/config.json` of a UNetConfig (what `unetConfigFromDiffusers` reads back). */
export function unetConfigToDiffusers(c: UNetConfig): Json {
  return {
    _class_name: 'UNet2DConditionModel', act_fn: 'silu', center_input_sample: false, mid_block_scale_factor: 1,
    in_channels: c.inChannels, out_channels: c.outChannels, block_out_channels: c.blockOutChannels, layers_per_block: c.layersPerBlock,
    down_block_types: c.downBlockTypes, up_block_types: c.upBlockTypes, cross_attention_dim: c.crossAttentionDim,
    // diffusers' quirk: SD1.x configs give heads as attention_head_dim.
    attention_head_dim: c.attentionHeads, transformer_layers_per_block: c.transformerLayersPerBlock,
    norm_num_groups: c.normNumGroups, norm_eps: c.normEps, flip_sin_to_cos: c.flipSinToCos, freq_shift: c.freqShift,
    downsample_padding: c.downsamplePadding, use_linear_projection: false,
  };
}

/** The diffusers `vae/config.json` of a VaeConfig. */
export function vaeConfigToDiffusers(c: VaeConfig): Json {
  return {
    _class_name: 'AutoencoderKL', act_fn: 'silu', in_channels: c.inChannels, out_channels: c.outChannels,
    latent_channels: c.latentChannels, block_out_channels: c.blockOutChannels, layers_per_block: c.layersPerBlock,
    norm_num_groups: c.normNumGroups, scaling_factor: c.scalingFactor,
    down_block_types: c.blockOutChannels.map(() => 'DownEncoderBlock2D'), up_block_types: c.blockOutChannels.map(() => 'UpDecoderBlock2D'),
  };
}
