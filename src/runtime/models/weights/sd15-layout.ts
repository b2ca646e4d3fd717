// The Stable Diffusion 1.x layout: the configuration numbers of the three components and, derived from them by rule,
// every parameter's diffusers/transformers name and shape. These tables are what a loaded checkpoint is checked
// against by default, what the LDM key mapping is tested on, and what the random full-size checkpoint is made from.
// A layout with the same structure but tiny widths gives small test fakes with the real names.
import type { ClipTextConfig } from '../clip-text.js';
import type { UNetConfig, VaeConfig } from '../configs.js';

export type ComponentName = 'unet' | 'vae' | 'text_encoder';
export const COMPONENTS: readonly ComponentName[] = ['unet', 'vae', 'text_encoder'];

/** name -> shape, in diffusers/transformers naming */
export type ShapeTable = Map<string, number[]>;

export interface UNetLayout {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  /** per down level (up levels mirror it): whether the level has cross-attention transformers */
  attention: boolean[];
  crossAttentionDim: number;
  /** GEGLU feed-forward inner width = ffMult * channels */
  ffMult: number;
}

export interface VaeLayout {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
}

export interface ClipTextLayout {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  intermediateSize: number;
  maxPositions: number;
}

export interface SdLayout {
  unet: UNetLayout;
  vae: VaeLayout;
  text_encoder: ClipTextLayout;
}

/** SD1.5 (runwayml/stable-diffusion-v1-5 configs). */
export const SD15: SdLayout = {
  unet: {
    inChannels: 4, outChannels: 4, blockOutChannels: [320, 640, 1280, 1280], layersPerBlock: 2,
    attention: [true, true, true, false], crossAttentionDim: 768, ffMult: 4,
  },
  vae: { inChannels: 3, outChannels: 3, latentChannels: 4, blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2 },
  text_encoder: { vocabSize: 49408, hiddenSize: 768, layers: 12, intermediateSize: 3072, maxPositions: 77 },
};

/** The layout of a model given by its configs (for saving models of other widths with SD's key rules). */
export function layoutOfConfigs(unet: UNetConfig, vae: VaeConfig, text: ClipTextConfig): SdLayout {
  return {
    unet: {
      inChannels: unet.inChannels, outChannels: unet.outChannels, blockOutChannels: [...unet.blockOutChannels], layersPerBlock: unet.layersPerBlock,
      attention: unet.downBlockTypes.map((t) => t === 'CrossAttnDownBlock2D'), crossAttentionDim: unet.crossAttentionDim, ffMult: 4,
    },
    vae: { inChannels: vae.inChannels, outChannels: vae.outChannels, latentChannels: vae.latentChannels, blockOutChannels: [...vae.blockOutChannels], layersPerBlock: vae.layersPerBlock },
    text_encoder: { vocabSize: text.vocabSize, hiddenSize: text.width, layers: text.layers, intermediateSize: text.intermediate, maxPositions: text.maxPositions },
  };
}

/** Buffers some files carry next to the parameters (not weights: skipped when loading). */
export const KNOWN_BUFFERS: ReadonlySet<string> = new Set(['text_model.embeddings.position_ids']);

function put(t: ShapeTable, name: string, shape: number[]): void {
  if (t.has(name)) throw new Error(`layout: parameter ${name} defined twice`);
  t.set(name, shape);
}
const norm = (t: ShapeTable, p: string, c: number) => { put(t, `${p}.weight`, [c]); put(t, `${p}.bias`, [c]); };
const conv = (t: ShapeTable, p: string, out: number, inp: number, k: number) => {
  put(t, `${p}.weight`, [out, inp, k, k]);
  put(t, `${p}.bias`, [out]);
};
const linear = (t: ShapeTable, p: string, out: number, inp: number, bias = true) => {
  put(t, `${p}.weight`, [out, inp]);
  if (bias) put(t, `${p}.bias`, [out]);
};

/** ResnetBlock2D: norm1, conv1, [time_emb_proj], norm2, conv2, and a 1x1 conv_shortcut when the width changes. */
function resnet(t: ShapeTable, p: string, inp: number, out: number, temb?: number): void {
  norm(t, `${p}.norm1`, inp);
  conv(t, `${p}.conv1`, out, inp, 3);
  if (temb !== undefined) linear(t, `${p}.time_emb_proj`, out, temb);
  norm(t, `${p}.norm2`, out);
  conv(t, `${p}.conv2`, out, out, 3);
  if (inp !== out) conv(t, `${p}.conv_shortcut`, out, inp, 1);
}

/** Transformer2DModel as SD1.x uses it: 1x1-conv projections, one BasicTransformerBlock, GEGLU feed-forward. */
function transformer(t: ShapeTable, p: string, c: number, ctx: number, ffMult: number): void {
  norm(t, `${p}.norm`, c);
  conv(t, `${p}.proj_in`, c, c, 1);
  const b = `${p}.transformer_blocks.0`;
  for (const [attn, kv] of [['attn1', c], ['attn2', ctx]] as const) {
    linear(t, `${b}.${attn}.to_q`, c, c, false);
    linear(t, `${b}.${attn}.to_k`, c, kv, false);
    linear(t, `${b}.${attn}.to_v`, c, kv, false);
    linear(t, `${b}.${attn}.to_out.0`, c, c);
  }
  for (const n of ['norm1', 'norm2', 'norm3']) norm(t, `${b}.${n}`, c);
  linear(t, `${b}.ff.net.0.proj`, 2 * ffMult * c, c);
  linear(t, `${b}.ff.net.2`, c, ffMult * c);
  conv(t, `${p}.proj_out`, c, c, 1);
}

/**
 * UNet2DConditionModel. Skip widths come from replaying the skip stack: the down path pushes conv_in's output, every
 * resnet's output and every downsampler's output; each up resnet pops one and concatenates it to its input.
 */
export function unetShapes(l: UNetLayout): ShapeTable {
  const t: ShapeTable = new Map();
  const ch = l.blockOutChannels;
  const levels = ch.length;
  const temb = 4 * ch[0];
  conv(t, 'conv_in', ch[0], l.inChannels, 3);
  linear(t, 'time_embedding.linear_1', temb, ch[0]);
  linear(t, 'time_embedding.linear_2', temb, temb);
  const skips = [ch[0]];
  let h = ch[0];
  for (let level = 0; level < levels; level++) {
    for (let j = 0; j < l.layersPerBlock; j++) {
      resnet(t, `down_blocks.${level}.resnets.${j}`, h, ch[level], temb);
      h = ch[level];
      if (l.attention[level]) transformer(t, `down_blocks.${level}.attentions.${j}`, h, l.crossAttentionDim, l.ffMult);
      skips.push(h);
    }
    if (level < levels - 1) {
      conv(t, `down_blocks.${level}.downsamplers.0.conv`, h, h, 3);
      skips.push(h);
    }
  }
  resnet(t, 'mid_block.resnets.0', h, h, temb);
  transformer(t, 'mid_block.attentions.0', h, l.crossAttentionDim, l.ffMult);
  resnet(t, 'mid_block.resnets.1', h, h, temb);
  for (let i = 0; i < levels; i++) {
    const level = levels - 1 - i;
    for (let j = 0; j <= l.layersPerBlock; j++) {
      resnet(t, `up_blocks.${i}.resnets.${j}`, h + skips.pop()!, ch[level], temb);
      h = ch[level];
      if (l.attention[level]) transformer(t, `up_blocks.${i}.attentions.${j}`, h, l.crossAttentionDim, l.ffMult);
    }
    if (i < levels - 1) conv(t, `up_blocks.${i}.upsamplers.0.conv`, h, h, 3);
  }
  norm(t, 'conv_norm_out', ch[0]);
  conv(t, 'conv_out', l.outChannels, ch[0], 3);
  return t;
}

/** The VAE's mid-block attention (current diffusers naming: group_norm, to_q/k/v, to_out.0; all Linear). */
function vaeAttention(t: ShapeTable, p: string, c: number): void {
  norm(t, `${p}.group_norm`, c);
  for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(t, `${p}.${n}`, c, c);
}

function vaeMid(t: ShapeTable, p: string, c: number): void {
  resnet(t, `${p}.resnets.0`, c, c);
  vaeAttention(t, `${p}.attentions.0`, c);
  resnet(t, `${p}.resnets.1`, c, c);
}

/** AutoencoderKL: encoder with layersPerBlock resnets per level, decoder with layersPerBlock+1, levels reversed. */
export function vaeShapes(l: VaeLayout): ShapeTable {
  const t: ShapeTable = new Map();
  const ch = l.blockOutChannels;
  const levels = ch.length;
  const top = ch[levels - 1];
  conv(t, 'encoder.conv_in', ch[0], l.inChannels, 3);
  let h = ch[0];
  for (let level = 0; level < levels; level++) {
    for (let j = 0; j < l.layersPerBlock; j++) {
      resnet(t, `encoder.down_blocks.${level}.resnets.${j}`, h, ch[level]);
      h = ch[level];
    }
    if (level < levels - 1) conv(t, `encoder.down_blocks.${level}.downsamplers.0.conv`, h, h, 3);
  }
  vaeMid(t, 'encoder.mid_block', top);
  norm(t, 'encoder.conv_norm_out', top);
  conv(t, 'encoder.conv_out', 2 * l.latentChannels, top, 3);
  conv(t, 'quant_conv', 2 * l.latentChannels, 2 * l.latentChannels, 1);
  conv(t, 'post_quant_conv', l.latentChannels, l.latentChannels, 1);
  conv(t, 'decoder.conv_in', top, l.latentChannels, 3);
  vaeMid(t, 'decoder.mid_block', top);
  h = top;
  for (let i = 0; i < levels; i++) {
    const out = ch[levels - 1 - i];
    for (let j = 0; j <= l.layersPerBlock; j++) {
      resnet(t, `decoder.up_blocks.${i}.resnets.${j}`, h, out);
      h = out;
    }
    if (i < levels - 1) conv(t, `decoder.up_blocks.${i}.upsamplers.0.conv`, h, h, 3);
  }
  norm(t, 'decoder.conv_norm_out', ch[0]);
  conv(t, 'decoder.conv_out', l.outChannels, ch[0], 3);
  return t;
}

/** transformers' CLIPTextModel (parameters only; the position_ids buffer is in KNOWN_BUFFERS). */
export function clipTextShapes(l: ClipTextLayout): ShapeTable {
  const t: ShapeTable = new Map();
  const d = l.hiddenSize;
  put(t, 'text_model.embeddings.token_embedding.weight', [l.vocabSize, d]);
  put(t, 'text_model.embeddings.position_embedding.weight', [l.maxPositions, d]);
  for (let i = 0; i < l.layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    for (const n of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) linear(t, `${p}.self_attn.${n}`, d, d);
    norm(t, `${p}.layer_norm1`, d);
    linear(t, `${p}.mlp.fc1`, l.intermediateSize, d);
    linear(t, `${p}.mlp.fc2`, d, l.intermediateSize);
    norm(t, `${p}.layer_norm2`, d);
  }
  norm(t, 'text_model.final_layer_norm', d);
  return t;
}

export function componentShapes(component: ComponentName, layout: SdLayout = SD15): ShapeTable {
  switch (component) {
    case 'unet': return unetShapes(layout.unet);
    case 'vae': return vaeShapes(layout.vae);
    case 'text_encoder': return clipTextShapes(layout.text_encoder);
  }
}
