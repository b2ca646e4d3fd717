// A Stable Diffusion model exported to ONNX in Optimum's folder layout (`optimum-cli export onnx --task
// text-to-image`, which diffusers' OnnxStableDiffusionPipeline also reads): text_encoder/, unet/, vae_decoder/ and
// optionally vae_encoder/, each with model.onnx (external weight files beside it are read by onnxruntime), plus
// tokenizer/ and scheduler/. Such a model samples (OnnxExportPipeline) but cannot train: its weights are compiled into
// the graphs, under names that no longer match the networks' parameters.
//
// The interface read (Optimum's names; element types are read from the models, so fp16 and int32/int64 exports work):
//   text_encoder  input_ids [B,77] int32|int64               -> last_hidden_state [B,77,D] (first output)
//   unet          sample [B,4,h,w], timestep [B]|[1]|[] float|int64, encoder_hidden_states [B,77,D] -> out_sample
//   vae_decoder   latent_sample [B,4,h,w] (unscaled)         -> sample [B,3,H,W] in [-1,1]
//   vae_encoder   sample [B,3,H,W] in [-1,1]                 -> latent_sample (unscaled), or [B,8,h,w] moments
// Resolution, latent scale and downscale come from unet/config.json and vae_decoder/config.json when present
// (Optimum copies the diffusers configs), else SD1.5's: 512 px, 0.18215, 8.
import fs from 'node:fs';
import path from 'node:path';
import { ClipTokenizer } from '../diffusion/tokenizer.js';
import { loadSchedulerConfig, type SchedulerConfig, SD15_SCHEDULER_CONFIG } from '../diffusion/schedule.js';
import { CheckpointError, detectCheckpoint, type OnnxCheckpoint } from './weights/checkpoint.js';

export interface OnnxExportModel {
  source: string;
  files: OnnxCheckpoint['files'] & { text_encoder: string; vae_decoder: string };
  tokenizer: ClipTokenizer;
  scheduler: SchedulerConfig;
  resolution: number;
  /** Latent scale (SD1.5: 0.18215) and the VAE's downscale factor (SD1.5: 8). */
  scalingFactor: number;
  downscale: number;
  latentChannels: number;
}

const readJson = (file: string): Record<string, unknown> | undefined =>
  fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d);

export function loadOnnxExport(location: string, o: { tokenizerDir?: string } = {}): OnnxExportModel {
  const ckpt = detectCheckpoint(location);
  if (ckpt.kind !== 'onnx') throw new CheckpointError(`${location} is not an ONNX export (no unet/model.onnx)`, location);
  const { files } = ckpt;
  for (const part of ['text_encoder', 'vae_decoder'] as const)
    if (!files[part]) throw new CheckpointError(`${location}: the ONNX export has no ${part}/model.onnx (sampling needs it)`, location);
  const tokenizerDir = ckpt.tokenizer ?? o.tokenizerDir;
  if (!tokenizerDir) throw new CheckpointError(`${location}: the ONNX export has no tokenizer/ folder (vocab.json and merges.txt)`, location);
  const schedulerFile = path.join(location, 'scheduler', 'scheduler_config.json');
  const unetCfg = readJson(path.join(location, 'unet', 'config.json'));
  const vaeCfg = readJson(path.join(location, 'vae_decoder', 'config.json'));
  const blocks = Array.isArray(vaeCfg?.block_out_channels) ? vaeCfg.block_out_channels.length : 4;
  const downscale = 2 ** (blocks - 1);
  return {
    source: location,
    files: files as OnnxExportModel['files'],
    tokenizer: ClipTokenizer.fromFolder(tokenizerDir),
    scheduler: fs.existsSync(schedulerFile) ? loadSchedulerConfig(schedulerFile) : { ...SD15_SCHEDULER_CONFIG },
    resolution: num(unetCfg?.sample_size, 64) * downscale,
    scalingFactor: num(vaeCfg?.scaling_factor, 0.18215),
    downscale,
    latentChannels: num(vaeCfg?.latent_channels, 4),
  };
}
