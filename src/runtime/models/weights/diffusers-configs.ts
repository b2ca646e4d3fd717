// The JSON configs of a diffusers Stable Diffusion folder, written from a layout so that diffusers and transformers
// can load what we save (values as in runwayml/stable-diffusion-v1-5; the scheduler is the DDIM of
// docs/algorithms.md, which is what this project samples with).
import type { SdLayout } from './sd15-layout.js';

const DIFFUSERS_VERSION = '0.30.0';

export function modelIndexJson(o: { vae: boolean; textEncoder: boolean; tokenizer: boolean }): Record<string, unknown> {
  const none = [null, null];
  return {
    _class_name: 'StableDiffusionPipeline',
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: none,
    requires_safety_checker: false,
    safety_checker: none,
    scheduler: ['diffusers', 'DDIMScheduler'],
    text_encoder: o.textEncoder ? ['transformers', 'CLIPTextModel'] : none,
    tokenizer: o.tokenizer ? ['transformers', 'CLIPTokenizer'] : none,
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: o.vae ? ['diffusers', 'AutoencoderKL'] : none,
  };
}

export function unetConfigJson(layout: SdLayout): Record<string, unknown> {
  const u = layout.unet;
  const levels = u.blockOutChannels.length;
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    attention_head_dim: 8,
    block_out_channels: u.blockOutChannels,
    center_input_sample: false,
    cross_attention_dim: u.crossAttentionDim,
    down_block_types: u.attention.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    downsample_padding: 1,
    flip_sin_to_cos: true,
    freq_shift: 0,
    in_channels: u.inChannels,
    layers_per_block: u.layersPerBlock,
    mid_block_scale_factor: 1,
    norm_eps: 1e-5,
    norm_num_groups: 32,
    out_channels: u.outChannels,
    sample_size: 64,
    up_block_types: Array.from({ length: levels }, (_, i) => (u.attention[levels - 1 - i] ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
  };
}

export function vaeConfigJson(layout: SdLayout): Record<string, unknown> {
  const v = layout.vae;
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    block_out_channels: v.blockOutChannels,
    down_block_types: v.blockOutChannels.map(() => 'DownEncoderBlock2D'),
    in_channels: v.inChannels,
    latent_channels: v.latentChannels,
    layers_per_block: v.layersPerBlock,
    norm_num_groups: 32,
    out_channels: v.outChannels,
    sample_size: 512,
    scaling_factor: 0.18215,
    up_block_types: v.blockOutChannels.map(() => 'UpDecoderBlock2D'),
  };
}

export function textEncoderConfigJson(layout: SdLayout): Record<string, unknown> {
  const t = layout.text_encoder;
  return {
    architectures: ['CLIPTextModel'],
    attention_dropout: 0.0,
    bos_token_id: 0,
    dropout: 0.0,
    eos_token_id: 2,
    hidden_act: 'quick_gelu',
    hidden_size: t.hiddenSize,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: t.intermediateSize,
    layer_norm_eps: 1e-5,
    max_position_embeddings: t.maxPositions,
    model_type: 'clip_text_model',
    num_attention_heads: Math.max(1, Math.round(t.hiddenSize / 64)),
    num_hidden_layers: t.layers,
    pad_token_id: 1,
    projection_dim: t.hiddenSize,
    torch_dtype: 'float32',
    vocab_size: t.vocabSize,
  };
}

export function schedulerConfigJson(): Record<string, unknown> {
  return {
    _class_name: 'DDIMScheduler',
    _diffusers_version: DIFFUSERS_VERSION,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    num_train_timesteps: 1000,
    prediction_type: 'epsilon',
    set_alpha_to_one: false,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
  };
}
