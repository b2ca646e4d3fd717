// Saving full model weights where other tools load them: one LDM single-file safetensors (A1111, ComfyUI, what
// users download) or a diffusers folder. Tensors are cast and written one at a time (tensor-io.ts), so a float16 save
// never holds a second copy of the model. LoRA files are in lora-files.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostTensor } from '../../onnx/tensor.js';
import { modelIndexJson, schedulerConfigJson, textEncoderConfigJson, unetConfigJson, vaeConfigJson } from './diffusers-configs.js';
import { diffusersToLdm, LDM_PREFIX, toLdmShape } from './ldm-keys.js';
import { KNOWN_BUFFERS, SD15, type ComponentName, type SdLayout } from './sd15-layout.js';
import { castFloat, writeSafetensorsStreamed, type PendingTensor } from './tensor-io.js';

/** Weights per component in diffusers/transformers naming. */
export interface FullWeights {
  unet: Map<string, HostTensor>;
  vae?: Map<string, HostTensor>;
  text_encoder?: Map<string, HostTensor>;
}

export type SaveDType = 'float32' | 'float16' | 'bfloat16';

export interface SaveOptions {
  /** dtype of the saved weights (default float32) */
  dtype?: SaveDType;
  /** extra safetensors __metadata__ entries */
  metadata?: Record<string, string>;
  /** structure used for key names and configs (SD1.5 by default) */
  layout?: SdLayout;
}

const present = (w: FullWeights) => (['unet', 'vae', 'text_encoder'] as const).filter((c) => w[c]) as ComponentName[];

function pending(component: ComponentName, weights: Map<string, HostTensor>, dtype: SaveDType, rename: (name: string) => string, reshape: (name: string, s: number[]) => number[]): PendingTensor[] {
  const out: PendingTensor[] = [];
  for (const [name, t] of weights) {
    if (KNOWN_BUFFERS.has(name)) continue;
    out.push({ name: rename(name), dtype, shape: reshape(name, t.shape), data: () => castFloat(t, dtype, `${component} tensor "${name}"`) });
  }
  return out;
}

/** CLIP's position_ids buffer, which LDM files carry (int64 arange). */
function positionIds(textWeights: Map<string, HostTensor>, layout: SdLayout): PendingTensor {
  const n = textWeights.get('text_model.embeddings.position_embedding.weight')?.shape[0] ?? layout.text_encoder.maxPositions;
  return {
    name: `${LDM_PREFIX.text_encoder}text_model.embeddings.position_ids`, dtype: 'int64', shape: [1, n],
    data: () => BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
  };
}

/** One safetensors file in the original LDM naming (model.diffusion_model.*, first_stage_model.*, cond_stage_model.*). */
export function saveLdmCheckpoint(file: string, weights: FullWeights, o: SaveOptions = {}): void {
  const layout = o.layout ?? SD15;
  const dtype = o.dtype ?? 'float32';
  const tensors: PendingTensor[] = [];
  for (const c of present(weights)) {
    tensors.push(...pending(c, weights[c]!, dtype, (n) => diffusersToLdm(c, n, layout), (n, s) => toLdmShape(c, n, s)));
  }
  if (weights.text_encoder) tensors.push(positionIds(weights.text_encoder, layout));
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeSafetensorsStreamed(file, tensors, { format: 'pt', software: 'instructbooth', ...o.metadata });
}

export interface DiffusersSaveOptions extends SaveOptions {
  /** file name variant, e.g. 'fp16' -> diffusion_pytorch_model.fp16.safetensors */
  variant?: string;
  /** a tokenizer folder (vocab.json, merges.txt, ...) to copy into tokenizer/ */
  tokenizerDir?: string;
}

const writeJson = (file: string, v: unknown) => fs.writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);

/** A diffusers folder: model_index.json, scheduler config, and per component its config and weights. */
export function saveDiffusersFolder(dir: string, weights: FullWeights, o: DiffusersSaveOptions = {}): void {
  const layout = o.layout ?? SD15;
  const dtype = o.dtype ?? 'float32';
  const suffix = o.variant ? `.${o.variant}` : '';
  const meta = { format: 'pt', ...o.metadata };
  const same = (n: string) => n;
  const keep = (_: string, s: number[]) => [...s];
  fs.mkdirSync(dir, { recursive: true });
  const component = (c: ComponentName, file: string, config: Record<string, unknown>) => {
    const sub = path.join(dir, c);
    fs.mkdirSync(sub, { recursive: true });
    writeJson(path.join(sub, 'config.json'), { ...config, ...(c === 'text_encoder' ? { torch_dtype: dtype } : {}) });
    writeSafetensorsStreamed(path.join(sub, `${file}${suffix}.safetensors`), pending(c, weights[c]!, dtype, same, keep), meta);
  };
  component('unet', 'diffusion_pytorch_model', unetConfigJson(layout));
  if (weights.vae) component('vae', 'diffusion_pytorch_model', vaeConfigJson(layout));
  if (weights.text_encoder) component('text_encoder', 'model', textEncoderConfigJson(layout));
  fs.mkdirSync(path.join(dir, 'scheduler'), { recursive: true });
  writeJson(path.join(dir, 'scheduler', 'scheduler_config.json'), schedulerConfigJson());
  if (o.tokenizerDir) {
    const to = path.join(dir, 'tokenizer');
    fs.mkdirSync(to, { recursive: true });
    for (const f of fs.readdirSync(o.tokenizerDir)) {
      const from = path.join(o.tokenizerDir, f);
      if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(to, f));
    }
  }
  writeJson(path.join(dir, 'model_index.json'), modelIndexJson({ vae: !!weights.vae, textEncoder: !!weights.text_encoder, tokenizer: !!o.tokenizerDir }));
}
