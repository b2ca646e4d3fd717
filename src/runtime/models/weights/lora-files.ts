// LoRA files in the two interchange formats users load elsewhere (docs/algorithms.md), to and from our
// internal adapter names (`<diffusers prefix>.lora_down.weight` [rank, in], `<prefix>.lora_up.weight` [out, rank],
// W' = W + (alpha/rank) up @ down; see src/runtime/onnx/layers.ts):
//   kohya / A1111 / ComfyUI: `lora_unet_<prefix with '.' -> '_'>.lora_down.weight`, `.lora_up.weight`, `.alpha` (scalar),
//     text encoder `lora_te_...`, with ss_* metadata;
//   diffusers / PEFT: `unet.<prefix>.lora_A.weight` (= down), `.lora_B.weight` (= up), `text_encoder.<prefix>...`,
//     with the adapter config (r, lora_alpha, target_modules) under the `lora_adapter_metadata` metadata key as
//     diffusers' save_lora_weights writes it. Loading also reads plain PEFT (`base_model.model.`) and the older
//     diffusers attention-processor format (`...processor.to_q_lora.down.weight`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSafetensors, type SafetensorsFile } from '../../engine/safetensors.js';
import type { HostTensor } from '../../onnx/tensor.js';
import { shapeStr } from '../../onnx/ir.js';
import { loraNames } from '../../onnx/layers.js';
import { CheckpointError } from './checkpoint.js';
import { castFloat, writeSafetensorsStreamed, type PendingTensor } from './tensor-io.js';

export type LoraFormat = 'kohya' | 'peft';
export type LoraComponent = 'unet' | 'text_encoder';
const LORA_COMPONENTS: readonly LoraComponent[] = ['unet', 'text_encoder'];

/** Adapters in internal naming, per component, with one rank and alpha for all. */
export interface LoraWeights {
  rank: number;
  alpha: number;
  unet: Map<string, HostTensor>;
  text_encoder?: Map<string, HostTensor>;
}

export interface LoadedLora extends LoraWeights {
  format: LoraFormat | 'diffusers-attn-procs';
  metadata: Record<string, string>;
  /**
   * Modules whose own rank or alpha differed from the file's common one: their (alpha_i/rank_i) was folded into up
   * and down/up zero-padded to the largest rank, which leaves up @ down * alpha/rank unchanged.
   */
  adjusted: string[];
}

export interface LoraSaveOptions {
  format: LoraFormat;
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** extra safetensors __metadata__ entries */
  metadata?: Record<string, string>;
}

const KOHYA_PREFIX: Readonly<Record<LoraComponent, string>> = { unet: 'lora_unet_', text_encoder: 'lora_te_' };
export const LORA_ADAPTER_METADATA_KEY = 'lora_adapter_metadata';

/** kohya's module name: the diffusers path with dots turned into underscores. */
export function kohyaModuleName(component: LoraComponent, prefix: string): string {
  return KOHYA_PREFIX[component] + prefix.replace(/\./g, '_');
}

// Path segments that contain underscores themselves, in diffusers UNet/VAE and transformers CLIP names; the rest of an
// underscore-joined kohya name splits at every underscore. Longest match first.
const COMPOUND_SEGMENTS = [
  'conv_norm_out', 'time_emb_proj', 'final_layer_norm',
  'down_blocks', 'up_blocks', 'mid_block', 'transformer_blocks', 'proj_in', 'proj_out', 'to_q', 'to_k', 'to_v', 'to_out',
  'conv_shortcut', 'conv_in', 'conv_out', 'time_embedding', 'linear_1', 'linear_2', 'group_norm',
  'text_model', 'self_attn', 'q_proj', 'k_proj', 'v_proj', 'out_proj', 'layer_norm1', 'layer_norm2', 'token_embedding',
  'position_embedding',
].map((s) => s.split('_')).sort((a, b) => b.length - a.length);

/** The diffusers path of a kohya module name (`lora_unet_down_blocks_0_..._to_out_0` -> unet, `down_blocks.0....to_out.0`). */
export function moduleFromKohyaName(name: string): { component: LoraComponent; prefix: string } {
  const m = /^lora_(unet|te1?)_(.+)$/.exec(name);
  if (!m) throw new Error(`"${name}" is not a kohya LoRA module name (lora_unet_* or lora_te_*)`);
  const words = m[2].split('_');
  const segments: string[] = [];
  for (let i = 0; i < words.length;) {
    const hit = COMPOUND_SEGMENTS.find((c) => c.every((w, k) => words[i + k] === w));
    const n = hit ? hit.length : 1;
    segments.push(words.slice(i, i + n).join('_'));
    i += n;
  }
  return { component: m[1] === 'unet' ? 'unet' : 'text_encoder', prefix: segments.join('.') };
}

interface Module {
  component: LoraComponent;
  prefix: string;
  down: HostTensor;
  up: HostTensor;
  alpha?: number;
}

/** Groups internal adapter tensors into modules, checking names, pairs and ranks. */
function modulesOf(lora: LoraWeights): Module[] {
  const out: Module[] = [];
  for (const component of LORA_COMPONENTS) {
    const map = lora[component];
    if (!map) continue;
    const byPrefix = new Map<string, Partial<Module>>();
    for (const [name, t] of map) {
      const m = /^(.+)\.lora_(down|up)\.weight$/.exec(name);
      if (!m) throw new Error(`LoRA ${component} tensor "${name}" is not <prefix>.lora_down.weight or <prefix>.lora_up.weight`);
      const entry = byPrefix.get(m[1]) ?? { component, prefix: m[1] };
      entry[m[2] as 'down' | 'up'] = t;
      byPrefix.set(m[1], entry);
    }
    for (const [prefix, e] of byPrefix) {
      const names = loraNames(prefix);
      if (!e.down || !e.up) throw new Error(`LoRA ${component} module ${prefix} lacks ${e.down ? names.up : names.down}`);
      if (e.down.shape[0] !== lora.rank || e.up.shape[1] !== lora.rank) {
        throw new Error(`LoRA ${component} module ${prefix}: down ${shapeStr(e.down.shape)} and up ${shapeStr(e.up.shape)} do not have rank ${lora.rank}`);
      }
      out.push(e as Module);
    }
  }
  return out;
}

/** Writes adapters as a kohya or diffusers/PEFT safetensors file. */
export function saveLora(file: string, lora: LoraWeights, o: LoraSaveOptions): void {
  const dtype = o.dtype ?? 'float32';
  const modules = modulesOf(lora);
  const tensors: PendingTensor[] = [];
  const tensor = (name: string, t: HostTensor, what: string) => tensors.push({ name, dtype, shape: [...t.shape], data: () => castFloat(t, dtype, what) });
  let metadata: Record<string, string>;
  if (o.format === 'kohya') {
    for (const m of modules) {
      const base = kohyaModuleName(m.component, m.prefix);
      tensor(`${base}.lora_down.weight`, m.down, `${m.prefix} down`);
      tensor(`${base}.lora_up.weight`, m.up, `${m.prefix} up`);
      tensors.push({ name: `${base}.alpha`, dtype: 'float32', shape: [], data: () => Float32Array.of(lora.alpha) });
    }
    metadata = {
      ss_network_module: 'networks.lora',
      ss_network_dim: String(lora.rank),
      ss_network_alpha: String(lora.alpha),
      ss_base_model_version: 'sd_v1',
      software: 'instructbooth',
    };
  } else {
    const adapter: Record<string, unknown> = {};
    for (const c of LORA_COMPONENTS) {
      const ms = modules.filter((m) => m.component === c);
      if (ms.length === 0) continue;
      for (const m of ms) {
        tensor(`${c}.${m.prefix}.lora_A.weight`, m.down, `${m.prefix} down`);
        tensor(`${c}.${m.prefix}.lora_B.weight`, m.up, `${m.prefix} up`);
      }
      adapter[`${c}.r`] = lora.rank;
      adapter[`${c}.lora_alpha`] = lora.alpha;
      adapter[`${c}.target_modules`] = ms.map((m) => m.prefix).sort();
    }
    metadata = { format: 'pt', [LORA_ADAPTER_METADATA_KEY]: JSON.stringify(adapter), software: 'instructbooth' };
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeSafetensorsStreamed(file, tensors, { ...metadata, ...o.metadata });
}

const scalarOf = (st: SafetensorsFile, key: string) => (st.read(key, { as: 'float32' }).data as Float32Array)[0];
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Reads a LoRA file in any supported format into internal names, one rank and one alpha. */
export function loadLora(file: string): LoadedLora {
  let st: SafetensorsFile;
  try {
    st = openSafetensors(file);
  } catch (e) {
    throw new CheckpointError(`cannot read LoRA file ${file}: ${(e as Error).message}`, file);
  }
  try {
    const names = st.names();
    const bad = (what: string): never => { throw new CheckpointError(`LoRA file ${file}: ${what}`, file); };
    const modules = new Map<string, Partial<Module>>();
    const entry = (component: LoraComponent, prefix: string) => {
      const id = `${component}:${prefix}`;
      const e = modules.get(id) ?? { component, prefix };
      modules.set(id, e);
      return e;
    };
    const f32 = (key: string) => st.read(key, { as: 'float32' });
    let format: LoadedLora['format'];
    const adapterAlpha: Partial<Record<LoraComponent, number>> = {};

    if (names.some((n) => /^lora_(unet|te1?)_/.test(n))) {
      format = 'kohya';
      for (const key of names) {
        const m = /^(lora_(?:unet|te1?)_.+?)\.(lora_down\.weight|lora_up\.weight|alpha)$/.exec(key);
        if (!m) bad(`key "${key}" is not <module>.lora_down.weight, .lora_up.weight or .alpha (LoHa/LoKr/DoRA files are not supported)`);
        const { component, prefix } = moduleFromKohyaName(m![1]);
        const e = entry(component, prefix);
        if (m![2] === 'alpha') e.alpha = scalarOf(st, key);
        else e[m![2] === 'lora_down.weight' ? 'down' : 'up'] = f32(key);
      }
      const fallback = Number(st.metadata.ss_network_alpha);
      if (Number.isFinite(fallback)) for (const e of modules.values()) e.alpha ??= fallback;
    } else if (names.some((n) => /\.lora_[AB](\.default)?\.weight$/.test(n))) {
      format = 'peft';
      for (const key of names) {
        const m = /^(?:(unet|text_encoder)\.|base_model\.model\.)?(.+?)\.(lora_A|lora_B)(?:\.default)?\.weight$/.exec(key);
        const a = /^(?:(unet|text_encoder)\.)?(.+)\.alpha$/.exec(key);
        if (m) entry((m[1] as LoraComponent | undefined) ?? 'unet', m[2])[m[3] === 'lora_A' ? 'down' : 'up'] = f32(key);
        else if (a) entry((a[1] as LoraComponent | undefined) ?? 'unet', a[2]).alpha = scalarOf(st, key);
        else bad(`key "${key}" is not <module>.lora_A.weight or .lora_B.weight`);
      }
      // Alpha from the adapter config: diffusers' metadata key, else a PEFT adapter_config.json beside the file.
      const packed = st.metadata[LORA_ADAPTER_METADATA_KEY];
      if (packed) {
        let cfg: Record<string, unknown> = {};
        try { cfg = JSON.parse(packed) as Record<string, unknown>; } catch { bad(`metadata ${LORA_ADAPTER_METADATA_KEY} is not JSON`); }
        for (const c of LORA_COMPONENTS) {
          const v = cfg[`${c}.lora_alpha`] ?? (c === 'unet' ? cfg.lora_alpha : undefined);
          if (isNum(v)) adapterAlpha[c] = v;
        }
      } else {
        const sidecar = path.join(path.dirname(file), 'adapter_config.json');
        if (fs.existsSync(sidecar)) {
          const v = (JSON.parse(fs.readFileSync(sidecar, 'utf8')) as Record<string, unknown>).lora_alpha;
          if (isNum(v)) adapterAlpha.unet = v;
        }
      }
      for (const e of modules.values()) e.alpha ??= adapterAlpha[e.component!];
    } else if (names.some((n) => /\.processor\.\w+_lora\.(down|up)\.weight$/.test(n))) {
      format = 'diffusers-attn-procs';
      for (const key of names) {
        const m = /^(?:unet\.)?(.+)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/.exec(key);
        if (!m) bad(`key "${key}" is not <block>.processor.<to_q|to_k|to_v|to_out>_lora.<down|up>.weight`);
        entry('unet', `${m![1]}.${m![2] === 'to_out' ? 'to_out.0' : m![2]}`)[m![3] as 'down' | 'up'] = f32(key);
      }
    } else {
      return bad(`no LoRA keys (expected lora_unet_*, *.lora_A.weight or *.processor.*_lora.*; found ${names.slice(0, 3).join(', ')})`);
    }

    const list: Module[] = [];
    for (const e of modules.values()) {
      if (!e.down || !e.up) bad(`module ${e.prefix} has no ${e.down ? 'up (lora_B / lora_up)' : 'down (lora_A / lora_down)'} weight`);
      if (e.down!.shape[0] !== e.up!.shape[1]) bad(`module ${e.prefix}: down ${shapeStr(e.down!.shape)} and up ${shapeStr(e.up!.shape)} disagree on the rank`);
      list.push(e as Module);
    }
    if (list.length === 0) bad('no adapter modules');
    return { ...unify(list, bad), format, metadata: st.metadata };
  } finally {
    st.close();
  }
}

/** One rank and alpha for all modules (a module without alpha has alpha = its rank, the kohya/PEFT convention). */
function unify(list: Module[], bad: (what: string) => never): LoraWeights & { adjusted: string[] } {
  const rankOf = (m: Module) => m.down.shape[0];
  const alphaOf = (m: Module) => m.alpha ?? rankOf(m);
  const rank = Math.max(...list.map(rankOf));
  const uniform = list.every((m) => rankOf(m) === rank && alphaOf(m) === alphaOf(list[0]));
  const alpha = uniform ? alphaOf(list[0]) : rank;
  const adjusted: string[] = [];
  const out: LoraWeights = { rank, alpha, unet: new Map() };
  for (const m of list) {
    let { down, up } = m;
    if (!uniform && (rankOf(m) !== rank || alphaOf(m) !== alpha)) {
      if (down.shape.length !== 2 || up.shape.length !== 2) bad(`module ${m.prefix}: cannot unify the rank/alpha of a non-linear (conv) adapter`);
      const [r, inF] = down.shape;
      const outF = up.shape[0];
      const scale = alphaOf(m) / r;
      const d = new Float32Array(rank * inF);
      d.set(down.data as Float32Array);
      const u = new Float32Array(outF * rank);
      const src = up.data as Float32Array;
      for (let o = 0; o < outF; o++) for (let k = 0; k < r; k++) u[o * rank + k] = src[o * r + k] * scale;
      down = { dtype: 'float32', shape: [rank, inF], data: d };
      up = { dtype: 'float32', shape: [outF, rank], data: u };
      adjusted.push(m.prefix);
    }
    const map = m.component === 'unet' ? out.unet : (out.text_encoder ??= new Map());
    const names = loraNames(m.prefix);
    map.set(names.down, down);
    map.set(names.up, up);
  }
  return { ...out, adjusted };
}
