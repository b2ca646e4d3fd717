// Stable Diffusion files users already have (docs/algorithms.md): recognizing them (loading one component at a
// time is checkpoint-load.ts).
//   - LDM single file (`v1-5-pruned-emaonly.safetensors`): keys mapped by rule (ldm-keys.ts); SD2/SDXL/... refused;
//   - diffusers folder: model_index.json + <component>/<weights>.safetensors (also .fp16 variants and sharded indexes);
//   - ONNX export (diffusers/optimum): initializers taken by name; the UNet file can also be run as a session as is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSafetensors, type SafetensorsFile } from '../../engine/safetensors.js';
import type { DType } from '../../onnx/tensor.js';
import { shapeStr } from '../../onnx/ir.js';
import { LDM_PREFIX } from './ldm-keys.js';
import type { ComponentName } from './sd15-layout.js';

/** An error about a user's file: names the file (and keys) and what was expected. */
export class CheckpointError extends Error {
  constructor(message: string, readonly file?: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface LdmCheckpoint {
  kind: 'ldm';
  path: string;
  family: 'sd1';
  crossAttentionDim: number;
  /** components with weights in the file (a UNet is always there) */
  components: ComponentName[];
  /** whether the text encoder keys carry `text_model.` (newer transformers) or not (old files) */
  textEncoderKeys?: 'text_model' | 'legacy';
  /** a non-pruned file also holds LitEma copies of the UNet (`model_ema.*`) */
  hasEma: boolean;
  unetDtype: DType;
  /** 4, or 9 for inpainting models */
  unetInChannels: number;
}

export interface DiffusersCheckpoint {
  kind: 'diffusers';
  path: string;
  family: 'sd1';
  crossAttentionDim: number;
  modelIndex?: Record<string, unknown>;
  /** safetensors files per component (several when sharded) */
  files: Partial<Record<ComponentName, string[]>>;
  /** folder with vocab.json and merges.txt */
  tokenizer?: string;
  schedulerConfig?: string;
}

export interface OnnxCheckpoint {
  kind: 'onnx';
  path: string;
  /** model files; `unet` can be given to an inference session directly */
  files: { unet: string; text_encoder?: string; vae_encoder?: string; vae_decoder?: string };
  /** external data files found beside the models (weights.pb, model.onnx_data) */
  externalData: string[];
  tokenizer?: string;
  modelIndex?: Record<string, unknown>;
}

export type Checkpoint = LdmCheckpoint | DiffusersCheckpoint | OnnxCheckpoint;

export interface DetectOptions {
  /** in diffusers folders, prefer `<weights>.<variant>.safetensors` (e.g. 'fp16') over the plain files */
  variant?: string;
}

const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
const examples = (keys: string[], n = 3) => keys.slice(0, n).join(', ') + (keys.length > n ? `, ... (${keys.length} keys)` : '');

/** Opens a safetensors header, turning failures into errors that name the file and say it is damaged. */
export function openChecked(file: string): SafetensorsFile {
  try {
    return openSafetensors(file);
  } catch (e) {
    const msg = (e as Error).message;
    let hint = '';
    try {
      const fd = fs.openSync(file, 'r');
      const magic = Buffer.alloc(2);
      fs.readSync(fd, magic, 0, 2, 0);
      fs.closeSync(fd);
      if (magic.toString('latin1') === 'PK') hint = ' (it is a zip archive: a PyTorch pickle checkpoint, not safetensors)';
    } catch { /* the original error says enough */ }
    throw new CheckpointError(`cannot read checkpoint ${file}${hint}: ${msg}`, file);
  }
}

function readJson(file: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`cannot read ${file}: ${(e as Error).message}`, file);
  }
}

/** Recognizes an SD1.x checkpoint (single file, diffusers folder or ONNX export); refuses others saying what it saw. */
export function detectCheckpoint(p: string, o: DetectOptions = {}): Checkpoint {
  if (!fs.existsSync(p)) throw new CheckpointError(`checkpoint not found: ${p}`, p);
  if (isDir(p)) {
    if (isFile(path.join(p, 'unet', 'model.onnx'))) return detectOnnx(p);
    if (isFile(path.join(p, 'model_index.json')) || isDir(path.join(p, 'unet'))) return detectDiffusers(p, o);
    throw new CheckpointError(`unsupported checkpoint folder ${p}: neither a diffusers folder (model_index.json, unet/) nor an ONNX export (unet/model.onnx)`, p);
  }
  const ext = path.extname(p).toLowerCase();
  if (['.ckpt', '.pt', '.pth', '.bin'].includes(ext)) {
    throw new CheckpointError(`unsupported checkpoint ${p}: PyTorch pickle files (${ext}) are not read (loading them can run code); convert it to .safetensors`, p);
  }
  if (ext === '.onnx') throw new CheckpointError(`unsupported checkpoint ${p}: give the ONNX export folder (with unet/, text_encoder/, vae_decoder/), not one model file`, p);
  return detectLdm(p);
}

/** Signatures of checkpoints we refuse, checked on key prefixes. */
const FOREIGN: ReadonlyArray<readonly [string, RegExp]> = [
  ['SDXL', /^(conditioner\.embedders\.|model\.diffusion_model\.label_emb\.)/],
  ['SD3', /^model\.diffusion_model\.joint_blocks\./],
  ['Flux', /^(model\.diffusion_model\.)?double_blocks\./],
  ['a LoRA file, not a checkpoint', /^(lora_unet_|lora_te\d?_)|\.lora_(A|B|down|up)\.weight$/],
];

/**
 * SD1.x has cross-attention width 768. A diffusers folder at another width (not SD2's 1024 or SDXL's 2048) is an SD1
 * layout at its own size, like the embedded default model: its config.json files say how to build it.
 */
function crossAttentionFamily(dim: number, where: string, file: string, customWidthOk = false): 'sd1' {
  if (dim === 768 || (customWidthOk && dim !== 1024 && dim !== 2048)) return 'sd1';
  const what = dim === 1024 ? 'SD2.x' : dim === 2048 ? 'SDXL' : `an unknown model`;
  throw new CheckpointError(`unsupported checkpoint: looks like ${what} (cross-attention dim ${dim} from ${where}); only SD1.x (768) is supported: ${file}`, file);
}

function detectLdm(file: string): LdmCheckpoint {
  const st = openChecked(file);
  try {
    const names = st.names();
    for (const [what, re] of FOREIGN) {
      const hits = names.filter((n) => re.test(n));
      if (hits.length > 0) {
        const label = what.startsWith('a ') ? what : `looks like ${what}`;
        throw new CheckpointError(`unsupported checkpoint: ${label} (found ${examples(hits, 2)}): ${file}`, file);
      }
    }
    const unetKeys = names.filter((n) => n.startsWith(LDM_PREFIX.unet));
    if (unetKeys.length === 0) {
      const diffusersLike = names.some((n) => /^(conv_in|down_blocks\.0|encoder\.down_blocks|text_model)\./.test(n));
      const why = diffusersLike
        ? 'its keys are in diffusers naming (one component file); give the diffusers folder instead'
        : `no ${LDM_PREFIX.unet}* keys (found ${examples(names)})`;
      throw new CheckpointError(`unsupported checkpoint ${file}: not an LDM Stable Diffusion file: ${why}`, file);
    }
    const toK = unetKeys.find((n) => /attn2\.to_k\.weight$/.test(n));
    if (!toK) throw new CheckpointError(`unsupported checkpoint ${file}: no cross-attention weights (${LDM_PREFIX.unet}*.attn2.to_k.weight)`, file);
    const toKShape = st.info(toK).shape;
    const openClip = names.filter((n) => n.startsWith('cond_stage_model.model.'));
    if (openClip.length > 0 && toKShape[1] === 768) {
      throw new CheckpointError(`unsupported checkpoint: looks like SD2.x (found OpenCLIP keys ${examples(openClip, 2)}): ${file}`, file);
    }
    crossAttentionFamily(toKShape[1], `${toK} ${shapeStr(toKShape)}`, file);
    const components: ComponentName[] = ['unet'];
    if (names.some((n) => n.startsWith(LDM_PREFIX.vae))) components.push('vae');
    const text = names.filter((n) => n.startsWith(LDM_PREFIX.text_encoder));
    if (text.length > 0) components.push('text_encoder');
    const convIn = `${LDM_PREFIX.unet}input_blocks.0.0.weight`;
    if (!st.has(convIn)) throw new CheckpointError(`unsupported checkpoint ${file}: no ${convIn}`, file);
    return {
      kind: 'ldm',
      path: file,
      family: 'sd1',
      crossAttentionDim: toKShape[1],
      components,
      textEncoderKeys: text.length === 0 ? undefined : text.some((n) => n.startsWith(`${LDM_PREFIX.text_encoder}text_model.`)) ? 'text_model' : 'legacy',
      hasEma: names.some((n) => n.startsWith('model_ema.diffusion_model')),
      unetDtype: st.info(convIn).dtype,
      unetInChannels: st.info(convIn).shape[1],
    };
  } finally {
    st.close();
  }
}

const WEIGHTS_STEM: Readonly<Record<ComponentName, string>> = {
  unet: 'diffusion_pytorch_model', vae: 'diffusion_pytorch_model', text_encoder: 'model',
};

/** The safetensors files of one diffusers component, or undefined when the component folder is absent. */
function diffusersFiles(root: string, component: ComponentName, variant?: string): string[] | undefined {
  const dir = path.join(root, component);
  if (!isDir(dir)) return undefined;
  const stem = WEIGHTS_STEM[component];
  const variants = variant ? [`${stem}.${variant}`, stem] : [stem, `${stem}.fp16`];
  for (const v of variants) {
    const single = path.join(dir, `${v}.safetensors`);
    if (isFile(single)) return [single];
    const index = path.join(dir, `${v}.safetensors.index.json`);
    if (isFile(index)) {
      const map = readJson(index).weight_map;
      if (typeof map !== 'object' || map === null) throw new CheckpointError(`${index}: no weight_map`, index);
      const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
      return shards.map((s) => {
        const f = path.resolve(dir, s);
        if (path.relative(dir, f).startsWith('..')) throw new CheckpointError(`${index}: shard "${s}" points outside ${dir}`, index);
        if (!isFile(f)) throw new CheckpointError(`${index}: shard file ${f} is missing`, index);
        return f;
      });
    }
  }
  const pickles = fs.readdirSync(dir).filter((f) => f.endsWith('.bin') || f.endsWith('.ckpt'));
  if (pickles.length > 0) {
    throw new CheckpointError(`${dir} holds only PyTorch pickle weights (${pickles.join(', ')}), which are not read; convert them to safetensors`, dir);
  }
  throw new CheckpointError(`${dir} has no ${stem}.safetensors`, dir);
}

function detectDiffusers(root: string, o: DetectOptions): DiffusersCheckpoint {
  const indexFile = path.join(root, 'model_index.json');
  const modelIndex = isFile(indexFile) ? readJson(indexFile) : undefined;
  const cls = String(modelIndex?._class_name ?? '');
  if (/XL/.test(cls) || isDir(path.join(root, 'text_encoder_2'))) {
    const found = [cls && `model_index.json _class_name ${cls}`, isDir(path.join(root, 'text_encoder_2')) && 'text_encoder_2/'].filter(Boolean);
    throw new CheckpointError(`unsupported checkpoint: looks like SDXL (found ${found.join(', ')}): ${root}`, root);
  }
  const files: Partial<Record<ComponentName, string[]>> = {};
  for (const c of ['unet', 'vae', 'text_encoder'] as const) {
    const f = diffusersFiles(root, c, o.variant);
    if (f) files[c] = f;
  }
  if (!files.unet) throw new CheckpointError(`diffusers folder ${root} has no unet/`, root);

  // Cross-attention width: from unet/config.json, else from the weights' header.
  let crossAttentionDim: number | undefined;
  let where = '';
  const configFile = path.join(root, 'unet', 'config.json');
  if (isFile(configFile)) {
    const config = readJson(configFile);
    if (config.addition_embed_type === 'text_time') {
      throw new CheckpointError(`unsupported checkpoint: looks like SDXL (found addition_embed_type "text_time" in ${configFile})`, configFile);
    }
    const d = config.cross_attention_dim;
    if (typeof d === 'number') { crossAttentionDim = d; where = `cross_attention_dim in ${configFile}`; }
  }
  // Every weight file's header is opened now, so a damaged download fails here with its name.
  for (const list of Object.values(files)) {
    for (const f of list) {
      const st = openChecked(f);
      if (crossAttentionDim === undefined) {
        const toK = st.names().find((n) => /attn2\.to_k\.weight$/.test(n));
        if (toK) { crossAttentionDim = st.info(toK).shape[1]; where = `${toK} ${shapeStr(st.info(toK).shape)} in ${f}`; }
      }
      st.close();
    }
  }
  if (crossAttentionDim === undefined) throw new CheckpointError(`diffusers folder ${root}: no cross-attention weights (attn2.to_k) in the UNet`, root);
  crossAttentionFamily(crossAttentionDim, where, root, true);
  const tokenizer = path.join(root, 'tokenizer');
  const scheduler = path.join(root, 'scheduler', 'scheduler_config.json');
  return {
    kind: 'diffusers',
    path: root,
    family: 'sd1',
    crossAttentionDim,
    modelIndex,
    files,
    tokenizer: isFile(path.join(tokenizer, 'vocab.json')) && isFile(path.join(tokenizer, 'merges.txt')) ? tokenizer : undefined,
    schedulerConfig: isFile(scheduler) ? scheduler : undefined,
  };
}

function detectOnnx(root: string): OnnxCheckpoint {
  const model = (c: string) => (isFile(path.join(root, c, 'model.onnx')) ? path.join(root, c, 'model.onnx') : undefined);
  const files = { unet: model('unet')!, text_encoder: model('text_encoder'), vae_encoder: model('vae_encoder'), vae_decoder: model('vae_decoder') };
  const externalData: string[] = [];
  for (const f of Object.values(files)) {
    if (!f) continue;
    const dir = path.dirname(f);
    for (const n of fs.readdirSync(dir)) if (n === 'weights.pb' || n.endsWith('.onnx_data') || n.endsWith('.onnx.data')) externalData.push(path.join(dir, n));
  }
  const tokenizer = path.join(root, 'tokenizer');
  const indexFile = path.join(root, 'model_index.json');
  return {
    kind: 'onnx',
    path: root,
    files,
    externalData,
    tokenizer: isFile(path.join(tokenizer, 'vocab.json')) ? tokenizer : undefined,
    modelIndex: isFile(indexFile) ? readJson(indexFile) : undefined,
  };
}

/** Components a checkpoint holds weights for. */
export function checkpointComponents(ckpt: Checkpoint): ComponentName[] {
  if (ckpt.kind === 'ldm') return [...ckpt.components];
  if (ckpt.kind === 'diffusers') return (['unet', 'vae', 'text_encoder'] as const).filter((c) => ckpt.files[c]);
  return (['unet', 'vae', 'text_encoder'] as const).filter((c) =>
    c === 'vae' ? ckpt.files.vae_encoder || ckpt.files.vae_decoder : ckpt.files[c]);
}
