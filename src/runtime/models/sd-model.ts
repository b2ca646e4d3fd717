// A Stable Diffusion model as the project holds it: the three networks' configs and weights (diffusers naming), the
// tokenizer and the noise schedule. Loaded from a diffusers folder (the embedded default model is one) or an SD1.5
// single-file checkpoint; saved as a diffusers folder that other tools load.
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors } from '../engine/safetensors.js';
import type { HostTensor } from '../onnx/tensor.js';
import { ClipTokenizer } from '../diffusion/tokenizer.js';
import { loadSchedulerConfig, type SchedulerConfig, SD15_SCHEDULER_CONFIG } from '../diffusion/schedule.js';
import { CLIP_TEXT_SD15, type ClipTextConfig, clipTextConfigFromJson, clipTextParamShapes } from './clip-text.js';
import { SD15_UNET, SD15_VAE, type UNetConfig, unetConfigFromDiffusers, unetConfigToDiffusers, type VaeConfig, vaeConfigFromDiffusers, vaeConfigToDiffusers } from './configs.js';
import { unetParamShapes } from './unet.js';
import { vaeDownscale, vaeParamShapes } from './vae.js';
import { CheckpointError, detectCheckpoint } from './weights/checkpoint.js';
import { formatReport, loadComponent } from './weights/checkpoint-load.js';

export interface SdModel {
  /** Where it came from (a path), for messages and cache keys. */
  source: string;
  unet: { config: UNetConfig; weights: Map<string, HostTensor> };
  vae: { config: VaeConfig; weights: Map<string, HostTensor> };
  textEncoder: { config: ClipTextConfig; weights: Map<string, HostTensor> };
  tokenizer: ClipTokenizer;
  scheduler: SchedulerConfig;
  /** Image size (pixels, square) the model was trained at. */
  resolution: number;
  /** The tokenizer's files (vocab.json, merges.txt), which saving a diffusers folder copies. */
  tokenizerDir?: string;
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

export interface LoadSdOptions {
  /** CLIP tokenizer files (vocab.json + merges.txt) for single-file checkpoints, which carry none. */
  tokenizerDir?: string;
}

export function loadSdModel(location: string, o: LoadSdOptions = {}): SdModel {
  const ckpt = detectCheckpoint(location);
  if (ckpt.kind === 'onnx') throw new CheckpointError(`${location}: an ONNX export runs as sessions only; training and LoRA need the safetensors weights (a diffusers folder or a single-file checkpoint)`);
  let unetCfg: UNetConfig, vaeCfg: VaeConfig, textCfg: ClipTextConfig, tokenizerDir: string | undefined, scheduler: SchedulerConfig;
  let resolution = 512;
  if (ckpt.kind === 'diffusers') {
    const sub = (c: string) => path.join(location, c, 'config.json');
    unetCfg = unetConfigFromDiffusers(readJson(sub('unet')));
    vaeCfg = vaeConfigFromDiffusers(readJson(sub('vae')));
    textCfg = clipTextConfigFromJson(readJson(sub('text_encoder')));
    tokenizerDir = ckpt.tokenizer ?? o.tokenizerDir;
    scheduler = ckpt.schedulerConfig ? loadSchedulerConfig(ckpt.schedulerConfig) : { ...SD15_SCHEDULER_CONFIG };
    const sample = readJson(sub('unet')).sample_size;
    if (typeof sample === 'number') resolution = sample * vaeDownscale(vaeCfg);
  } else {
    [unetCfg, vaeCfg, textCfg, scheduler] = [SD15_UNET, SD15_VAE, CLIP_TEXT_SD15, { ...SD15_SCHEDULER_CONFIG }];
    tokenizerDir = o.tokenizerDir;
  }
  if (!tokenizerDir)
    throw new CheckpointError(`${location} carries no tokenizer: put CLIP's vocab.json and merges.txt (the tokenizer/ folder of any SD1.5 diffusers model) in models/tokenizers/sd15/`);
  const load = (c: 'unet' | 'vae' | 'text_encoder', expected: Map<string, number[]>) => {
    const { weights, report } = loadComponent(ckpt, c, { expected, strict: false });
    if (report.missing.length || report.misshaped.length) throw new CheckpointError(`${location}: ${c} does not fit the model\n${formatReport(report)}`);
    return weights;
  };
  return {
    source: location,
    unet: { config: unetCfg, weights: load('unet', unetParamShapes(unetCfg)) },
    vae: { config: vaeCfg, weights: load('vae', vaeParamShapes(vaeCfg)) },
    textEncoder: { config: textCfg, weights: load('text_encoder', clipTextParamShapes(textCfg)) },
    tokenizer: ClipTokenizer.fromFolder(tokenizerDir),
    scheduler,
    resolution,
    tokenizerDir,
  };
}

/** Writes a diffusers folder (model_index.json, per-component config and safetensors, tokenizer, scheduler). */
export function saveSdModelFolder(dir: string, m: SdModel, tokenizerFiles: string): void {
  const write = (c: string, file: string, config: Record<string, unknown>, weights: Map<string, HostTensor>) => {
    fs.mkdirSync(path.join(dir, c), { recursive: true });
    fs.writeFileSync(path.join(dir, c, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeSafetensors(path.join(dir, c, file), Object.fromEntries(weights), { format: 'pt' });
  };
  const down = vaeDownscale(m.vae.config);
  write('unet', 'diffusion_pytorch_model.safetensors', { ...unetConfigToDiffusers(m.unet.config), sample_size: m.resolution / down }, m.unet.weights);
  write('vae', 'diffusion_pytorch_model.safetensors', { ...vaeConfigToDiffusers(m.vae.config), sample_size: m.resolution }, m.vae.weights);
  const t = m.textEncoder.config;
  write('text_encoder', 'model.safetensors', {
    architectures: ['CLIPTextModel'], vocab_size: t.vocabSize, hidden_size: t.width, num_hidden_layers: t.layers, num_attention_heads: t.heads,
    intermediate_size: t.intermediate, max_position_embeddings: t.maxPositions, layer_norm_eps: t.eps, hidden_act: t.act,
  }, m.textEncoder.weights);
  fs.mkdirSync(path.join(dir, 'tokenizer'), { recursive: true });
  for (const f of fs.readdirSync(tokenizerFiles)) fs.copyFileSync(path.join(tokenizerFiles, f), path.join(dir, 'tokenizer', f));
  fs.mkdirSync(path.join(dir, 'scheduler'), { recursive: true });
  const s = m.scheduler;
  fs.writeFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), `${JSON.stringify({
    _class_name: 'DDIMScheduler', num_train_timesteps: s.numTrainTimesteps, beta_start: s.betaStart, beta_end: s.betaEnd,
    beta_schedule: s.betaSchedule, steps_offset: s.stepsOffset, set_alpha_to_one: s.setAlphaToOne, timestep_spacing: s.timestepSpacing,
    prediction_type: s.predictionType, clip_sample: s.clipSample,
  }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'model_index.json'), `${JSON.stringify({
    _class_name: 'StableDiffusionPipeline', unet: ['diffusers', 'UNet2DConditionModel'], vae: ['diffusers', 'AutoencoderKL'],
    text_encoder: ['transformers', 'CLIPTextModel'], tokenizer: ['transformers', 'CLIPTokenizer'], scheduler: ['diffusers', 'DDIMScheduler'],
  }, null, 2)}\n`);
}
