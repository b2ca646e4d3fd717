// Original LDM single-file key names (CompVis/stable-diffusion, what A1111 and ComfyUI save) <-> diffusers/transformers
// names, by rule from the layout, both ways. The rules are those of diffusers' convert_original_stable_diffusion_to_
// diffusers for SD1.x:
//
// UNet (prefix `model.diffusion_model.`; P = layersPerBlock + 1 entries per level):
//   time_embed.0 / .2                    <-> time_embedding.linear_1 / linear_2
//   input_blocks.0.0                     <-> conv_in
//   input_blocks.{P*l + j + 1}.0         <-> down_blocks.l.resnets.j          (j < layersPerBlock)
//   input_blocks.{P*l + j + 1}.1         <-> down_blocks.l.attentions.j       (levels with attention)
//   input_blocks.{P*(l + 1)}.0.op        <-> down_blocks.l.downsamplers.0.conv (all levels but the last)
//   middle_block.{2i} / .{2i + 1}        <-> mid_block.resnets.i / mid_block.attentions.i
//   output_blocks.{P*i + j}.0            <-> up_blocks.i.resnets.j            (j <= layersPerBlock)
//   output_blocks.{P*i + j}.1            <-> up_blocks.i.attentions.j         (up level i mirrors down level L-1-i)
//   output_blocks.{P*i + P-1}.{2|1}.conv <-> up_blocks.i.upsamplers.0.conv    (2 after an attention, else 1)
//   out.0 / out.2                        <-> conv_norm_out / conv_out
//   inside resnets: in_layers.0 norm1, in_layers.2 conv1, emb_layers.1 time_emb_proj, out_layers.0 norm2,
//   out_layers.3 conv2, skip_connection conv_shortcut; inside transformers the names are the same on both sides.
// VAE (prefix `first_stage_model.`; the decoder's levels are numbered in reverse):
//   encoder.down.l.block.j <-> encoder.down_blocks.l.resnets.j, encoder.down.l.downsample.conv <-> ...downsamplers.0.conv
//   decoder.up.{L-1-i}.block.j <-> decoder.up_blocks.i.resnets.j, decoder.up.{L-1-i}.upsample.conv <-> ...upsamplers.0.conv
//   X.mid.block_{i+1} <-> X.mid_block.resnets.i; X.mid.attn_1.{norm,q,k,v,proj_out} <-> X.mid_block.attentions.0.
//   {group_norm,to_q,to_k,to_v,to_out.0} (1x1 conv weights [C,C,1,1] there, Linear [C,C] here); nin_shortcut <->
//   conv_shortcut; norm_out <-> conv_norm_out; conv_in, conv_out, quant_conv, post_quant_conv unchanged.
// Text encoder (prefix `cond_stage_model.transformer.`): transformers names already; old files lack `text_model.`.
import { KNOWN_BUFFERS, SD15, type ComponentName, type SdLayout, type UNetLayout, type VaeLayout } from './sd15-layout.js';

export const LDM_PREFIX: Readonly<Record<ComponentName, string>> = {
  unet: 'model.diffusion_model.',
  vae: 'first_stage_model.',
  text_encoder: 'cond_stage_model.transformer.',
};

export interface MappedKey {
  component: ComponentName;
  /** diffusers/transformers name */
  name: string;
}

const PARAM = '(weight|bias)';

// Resnet leaves: LDM ResBlock <-> diffusers ResnetBlock2D (the UNet's; the VAE's only rename the shortcut).
const UNET_RESNET: ReadonlyArray<readonly [string, string]> = [
  ['in_layers.0', 'norm1'], ['in_layers.2', 'conv1'], ['emb_layers.1', 'time_emb_proj'],
  ['out_layers.0', 'norm2'], ['out_layers.3', 'conv2'], ['skip_connection', 'conv_shortcut'],
];
const VAE_RESNET: ReadonlyArray<readonly [string, string]> = [
  ['norm1', 'norm1'], ['conv1', 'conv1'], ['norm2', 'norm2'], ['conv2', 'conv2'], ['nin_shortcut', 'conv_shortcut'],
];
const VAE_ATTN: ReadonlyArray<readonly [string, string]> = [
  ['norm', 'group_norm'], ['q', 'to_q'], ['k', 'to_k'], ['v', 'to_v'], ['proj_out', 'to_out.0'],
];
/** Parameter paths inside a SD1.x Transformer2DModel / SpatialTransformer (identical on both sides). */
const TRANSFORMER_LEAF = new RegExp(
  `^(norm|proj_in|proj_out|transformer_blocks\\.\\d+\\.(norm[123]|attn[12]\\.(to_q|to_k|to_v|to_out\\.0)|ff\\.net\\.(0\\.proj|2)))\\.${PARAM}$`,
);

function leaf(pairs: ReadonlyArray<readonly [string, string]>, rest: string, fromLdm: boolean): string | undefined {
  for (const [ldm, diff] of pairs) {
    const [from, to] = fromLdm ? [ldm, diff] : [diff, ldm];
    if (rest.startsWith(`${from}.`) && /^(weight|bias)$/.test(rest.slice(from.length + 1))) return `${to}.${rest.slice(from.length + 1)}`;
  }
  return undefined;
}

const join = (head: string, rest: string | undefined) => (rest === undefined ? undefined : `${head}.${rest}`);
const transformerLeaf = (rest: string) => (TRANSFORMER_LEAF.test(rest) ? rest : undefined);

// ---- UNet ----

function unetFromLdm(k: string, l: UNetLayout): string | undefined {
  const levels = l.blockOutChannels.length;
  const L = l.layersPerBlock;
  const P = L + 1;
  let m: RegExpExecArray | null;
  if ((m = /^time_embed\.(0|2)\.(weight|bias)$/.exec(k))) return `time_embedding.linear_${m[1] === '0' ? 1 : 2}.${m[2]}`;
  if ((m = /^out\.(0|2)\.(weight|bias)$/.exec(k))) return `${m[1] === '0' ? 'conv_norm_out' : 'conv_out'}.${m[2]}`;
  if ((m = /^input_blocks\.0\.0\.(weight|bias)$/.exec(k))) return `conv_in.${m[1]}`;
  if ((m = /^input_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(k))) {
    const n = Number(m[1]);
    const sub = Number(m[2]);
    const rest = m[3];
    if (n < 1) return undefined;
    const level = Math.floor((n - 1) / P);
    const j = (n - 1) % P;
    if (level >= levels) return undefined;
    if (j === L) {
      const op = /^op\.(weight|bias)$/.exec(rest);
      return level < levels - 1 && sub === 0 && op ? `down_blocks.${level}.downsamplers.0.conv.${op[1]}` : undefined;
    }
    if (sub === 0) return join(`down_blocks.${level}.resnets.${j}`, leaf(UNET_RESNET, rest, true));
    if (sub === 1 && l.attention[level]) return join(`down_blocks.${level}.attentions.${j}`, transformerLeaf(rest));
    return undefined;
  }
  if ((m = /^middle_block\.(\d+)\.(.+)$/.exec(k))) {
    const n = Number(m[1]);
    if (n > 2) return undefined;
    return n % 2 === 0
      ? join(`mid_block.resnets.${n / 2}`, leaf(UNET_RESNET, m[2], true))
      : join(`mid_block.attentions.${(n - 1) / 2}`, transformerLeaf(m[2]));
  }
  if ((m = /^output_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(k))) {
    const n = Number(m[1]);
    const sub = Number(m[2]);
    const rest = m[3];
    const i = Math.floor(n / P);
    const j = n % P;
    if (i >= levels) return undefined;
    const attn = l.attention[levels - 1 - i];
    if (sub === 0) return join(`up_blocks.${i}.resnets.${j}`, leaf(UNET_RESNET, rest, true));
    if (sub === 1 && attn) return join(`up_blocks.${i}.attentions.${j}`, transformerLeaf(rest));
    const up = /^conv\.(weight|bias)$/.exec(rest);
    if (up && sub === (attn ? 2 : 1) && j === L && i < levels - 1) return `up_blocks.${i}.upsamplers.0.conv.${up[1]}`;
    return undefined;
  }
  return undefined;
}

function unetToLdm(name: string, l: UNetLayout): string | undefined {
  const levels = l.blockOutChannels.length;
  const L = l.layersPerBlock;
  const P = L + 1;
  let m: RegExpExecArray | null;
  if ((m = /^time_embedding\.linear_(1|2)\.(weight|bias)$/.exec(name))) return `time_embed.${m[1] === '1' ? 0 : 2}.${m[2]}`;
  if ((m = /^conv_in\.(weight|bias)$/.exec(name))) return `input_blocks.0.0.${m[1]}`;
  if ((m = /^conv_norm_out\.(weight|bias)$/.exec(name))) return `out.0.${m[1]}`;
  if ((m = /^conv_out\.(weight|bias)$/.exec(name))) return `out.2.${m[1]}`;
  if ((m = /^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(name))) {
    const [level, j] = [Number(m[1]), Number(m[3])];
    if (level >= levels || j >= L) return undefined;
    const n = P * level + j + 1;
    if (m[2] === 'resnets') return join(`input_blocks.${n}.0`, leaf(UNET_RESNET, m[4], false));
    return l.attention[level] ? join(`input_blocks.${n}.1`, transformerLeaf(m[4])) : undefined;
  }
  if ((m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(weight|bias)$/.exec(name))) {
    const level = Number(m[1]);
    return level < levels - 1 ? `input_blocks.${P * (level + 1)}.0.op.${m[2]}` : undefined;
  }
  if ((m = /^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(name))) {
    const i = Number(m[2]);
    if (m[1] === 'resnets') return i < 2 ? join(`middle_block.${2 * i}`, leaf(UNET_RESNET, m[3], false)) : undefined;
    return i < 1 ? join(`middle_block.${2 * i + 1}`, transformerLeaf(m[3])) : undefined;
  }
  if ((m = /^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(name))) {
    const [i, j] = [Number(m[1]), Number(m[3])];
    if (i >= levels || j > L) return undefined;
    const n = P * i + j;
    if (m[2] === 'resnets') return join(`output_blocks.${n}.0`, leaf(UNET_RESNET, m[4], false));
    return l.attention[levels - 1 - i] ? join(`output_blocks.${n}.1`, transformerLeaf(m[4])) : undefined;
  }
  if ((m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(weight|bias)$/.exec(name))) {
    const i = Number(m[1]);
    if (i >= levels - 1) return undefined;
    return `output_blocks.${P * i + L}.${l.attention[levels - 1 - i] ? 2 : 1}.conv.${m[2]}`;
  }
  return undefined;
}

// ---- VAE ----

function vaeFromLdm(k: string, l: VaeLayout): string | undefined {
  const levels = l.blockOutChannels.length;
  let m: RegExpExecArray | null;
  if (/^(encoder|decoder)\.(conv_in|conv_out)\.(weight|bias)$/.test(k) || /^(quant_conv|post_quant_conv)\.(weight|bias)$/.test(k)) return k;
  if ((m = /^(encoder|decoder)\.norm_out\.(weight|bias)$/.exec(k))) return `${m[1]}.conv_norm_out.${m[2]}`;
  if ((m = /^encoder\.down\.(\d+)\.block\.(\d+)\.(.+)$/.exec(k))) {
    const [level, j] = [Number(m[1]), Number(m[2])];
    return level < levels && j < l.layersPerBlock ? join(`encoder.down_blocks.${level}.resnets.${j}`, leaf(VAE_RESNET, m[3], true)) : undefined;
  }
  if ((m = /^encoder\.down\.(\d+)\.downsample\.conv\.(weight|bias)$/.exec(k))) {
    const level = Number(m[1]);
    return level < levels - 1 ? `encoder.down_blocks.${level}.downsamplers.0.conv.${m[2]}` : undefined;
  }
  if ((m = /^decoder\.up\.(\d+)\.block\.(\d+)\.(.+)$/.exec(k))) {
    const [level, j] = [Number(m[1]), Number(m[2])];
    if (level >= levels || j > l.layersPerBlock) return undefined;
    return join(`decoder.up_blocks.${levels - 1 - level}.resnets.${j}`, leaf(VAE_RESNET, m[3], true));
  }
  if ((m = /^decoder\.up\.(\d+)\.upsample\.conv\.(weight|bias)$/.exec(k))) {
    const level = Number(m[1]);
    return level >= 1 && level < levels ? `decoder.up_blocks.${levels - 1 - level}.upsamplers.0.conv.${m[2]}` : undefined;
  }
  if ((m = /^(encoder|decoder)\.mid\.block_(1|2)\.(.+)$/.exec(k))) {
    return join(`${m[1]}.mid_block.resnets.${Number(m[2]) - 1}`, leaf(VAE_RESNET, m[3], true));
  }
  if ((m = /^(encoder|decoder)\.mid\.attn_1\.(.+)$/.exec(k))) return join(`${m[1]}.mid_block.attentions.0`, leaf(VAE_ATTN, m[2], true));
  return undefined;
}

function vaeToLdm(name: string, l: VaeLayout): string | undefined {
  const levels = l.blockOutChannels.length;
  let m: RegExpExecArray | null;
  if (/^(encoder|decoder)\.(conv_in|conv_out)\.(weight|bias)$/.test(name) || /^(quant_conv|post_quant_conv)\.(weight|bias)$/.test(name)) return name;
  if ((m = /^(encoder|decoder)\.conv_norm_out\.(weight|bias)$/.exec(name))) return `${m[1]}.norm_out.${m[2]}`;
  if ((m = /^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(name))) {
    const [level, j] = [Number(m[1]), Number(m[2])];
    return level < levels && j < l.layersPerBlock ? join(`encoder.down.${level}.block.${j}`, leaf(VAE_RESNET, m[3], false)) : undefined;
  }
  if ((m = /^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(weight|bias)$/.exec(name))) {
    const level = Number(m[1]);
    return level < levels - 1 ? `encoder.down.${level}.downsample.conv.${m[2]}` : undefined;
  }
  if ((m = /^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(name))) {
    const [i, j] = [Number(m[1]), Number(m[2])];
    if (i >= levels || j > l.layersPerBlock) return undefined;
    return join(`decoder.up.${levels - 1 - i}.block.${j}`, leaf(VAE_RESNET, m[3], false));
  }
  if ((m = /^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(weight|bias)$/.exec(name))) {
    const i = Number(m[1]);
    return i < levels - 1 ? `decoder.up.${levels - 1 - i}.upsample.conv.${m[2]}` : undefined;
  }
  if ((m = /^(encoder|decoder)\.mid_block\.resnets\.(0|1)\.(.+)$/.exec(name))) {
    return join(`${m[1]}.mid.block_${Number(m[2]) + 1}`, leaf(VAE_RESNET, m[3], false));
  }
  if ((m = /^(encoder|decoder)\.mid_block\.attentions\.0\.(.+)$/.exec(name))) return join(`${m[1]}.mid.attn_1`, leaf(VAE_ATTN, m[2], false));
  return undefined;
}

/** VAE attention projections: Linear in diffusers, 1x1 conv in LDM. */
const VAE_ATTN_LINEAR = /^(encoder|decoder)\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

// ---- text encoder ----

const CLIP_LEGACY = /^(embeddings|encoder|final_layer_norm)\./;

// ---- public API ----

/**
 * The diffusers/transformers name of an LDM single-file key, or undefined when the key is not a parameter of the
 * layout (other components' keys with unknown structure, EMA copies, noise-schedule buffers...).
 */
export function ldmToDiffusers(key: string, layout: SdLayout = SD15): MappedKey | undefined {
  if (key.startsWith(LDM_PREFIX.unet)) {
    const name = unetFromLdm(key.slice(LDM_PREFIX.unet.length), layout.unet);
    return name === undefined ? undefined : { component: 'unet', name };
  }
  if (key.startsWith(LDM_PREFIX.vae)) {
    const name = vaeFromLdm(key.slice(LDM_PREFIX.vae.length), layout.vae);
    return name === undefined ? undefined : { component: 'vae', name };
  }
  if (key.startsWith(LDM_PREFIX.text_encoder)) {
    const rest = key.slice(LDM_PREFIX.text_encoder.length);
    if (rest.startsWith('text_model.')) return { component: 'text_encoder', name: rest };
    if (CLIP_LEGACY.test(rest)) return { component: 'text_encoder', name: `text_model.${rest}` };
  }
  return undefined;
}

/** The LDM key of a diffusers/transformers parameter name; throws naming the key when no rule applies. */
export function diffusersToLdm(component: ComponentName, name: string, layout: SdLayout = SD15): string {
  let rest: string | undefined;
  if (component === 'unet') rest = unetToLdm(name, layout.unet);
  else if (component === 'vae') rest = vaeToLdm(name, layout.vae);
  else if (name.startsWith('text_model.')) rest = name;
  if (rest === undefined) throw new Error(`no LDM key for ${component} parameter "${name}" (not part of the SD1.x layout)`);
  return LDM_PREFIX[component] + rest;
}

/** Shape as stored in the LDM file, from the diffusers shape (adds the 1x1 of the VAE attention convs). */
export function toLdmShape(component: ComponentName, name: string, shape: readonly number[]): number[] {
  return component === 'vae' && VAE_ATTN_LINEAR.test(name) && shape.length === 2 ? [...shape, 1, 1] : [...shape];
}

/** Shape in diffusers naming, from the shape stored in the LDM file (drops the 1x1 of the VAE attention convs). */
export function fromLdmShape(component: ComponentName, name: string, shape: readonly number[]): number[] {
  const squeeze = component === 'vae' && VAE_ATTN_LINEAR.test(name) && shape.length === 4 && shape[2] === 1 && shape[3] === 1;
  return squeeze ? shape.slice(0, 2) : [...shape];
}

/** Keys that are not parameters but are known to sit in LDM files (noise schedule, EMA bookkeeping, CLIP buffers). */
export function isLdmBookkeeping(key: string): boolean {
  if (key.startsWith('model_ema.')) return true;
  if (/^(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2|logvar)$/.test(key)) return true;
  const mapped = ldmToDiffusers(key);
  return mapped !== undefined && KNOWN_BUFFERS.has(mapped.name);
}

/** LitEma's key for a UNet parameter: the LDM key without `model.` and with every dot removed. */
export function ldmEmaKey(ldmKey: string): string {
  return `model_ema.${ldmKey.replace(/^model\./, '').replace(/\./g, '')}`;
}
