// The MODEL value that flows between nodes: an SdModel (the networks' weights, possibly fine-tuned by DreamBooth), at
// most one LoRA on its UNet with a strength, and where to run. CLIP and VAE sockets carry the same handle (ComfyUI
// splits them; here they share weights, so passing the handle keeps one copy in memory).
import crypto from 'node:crypto';
import type { SessionOptions } from '../../runtime/engine/session.js';
import type { OnnxExportModel } from '../../runtime/models/onnx-export.js';
import { OnnxExportPipeline } from '../../runtime/models/onnx-export-pipeline.js';
import type { SdModel } from '../../runtime/models/sd-model.js';
import { type LoraWeights, SdPipeline } from '../../runtime/models/sd-pipeline.js';
import type { TextToImagePipeline } from '../../runtime/models/text-to-image.js';

export interface ModelHandle {
  readonly model: SdModel;
  readonly lora?: LoraWeights;
  /** Multiplies the LoRA's effect at sampling time (1 = as trained). */
  readonly loraStrength: number;
  readonly sessionOptions: SessionOptions;
  /** Precision of sampling sessions (training always runs in float32). Default fp32. */
  readonly precision?: 'fp32' | 'fp16';
  /**
   * A stable identity of the weights (checkpoint path and file stamps, plus every training applied), for disk caches
   * such as PriorClassGen's: same id, same outputs.
   */
  readonly id: string;
  /** For messages: "embedded", "v1-5-pruned.safetensors + DreamBooth(sks star)". */
  readonly label: string;
}

/**
 * A MODEL loaded from an ONNX export: it samples through the export's own sessions, but has no weights to train,
 * merge a LoRA into or save.
 */
export interface ExportedModelHandle {
  readonly exported: OnnxExportModel;
  readonly loraStrength: number;
  readonly sessionOptions: SessionOptions;
  readonly id: string;
  readonly label: string;
}

/** What a MODEL socket carries. */
export type AnyModelHandle = ModelHandle | ExportedModelHandle;

export const isExported = (h: AnyModelHandle): h is ExportedModelHandle => 'exported' in h;

/** Image side in pixels the model works at. */
export const resolutionOf = (h: AnyModelHandle): number => (isExported(h) ? h.exported.resolution : h.model.resolution);

const pipelines = new WeakMap<AnyModelHandle, TextToImagePipeline>();

/** One pipeline (and its sessions) per handle, built on first use. */
export function pipelineOf(h: ModelHandle): SdPipeline;
export function pipelineOf(h: AnyModelHandle): TextToImagePipeline;
export function pipelineOf(h: AnyModelHandle): TextToImagePipeline {
  let p = pipelines.get(h);
  if (!p) {
    p = isExported(h) ? new OnnxExportPipeline(h.exported, h.sessionOptions) : new SdPipeline(h.model, h.lora, h.sessionOptions, { precision: h.precision });
    pipelines.set(h, p);
  }
  return p;
}

export function deriveId(parent: string, change: unknown): string {
  return crypto.createHash('sha256').update(parent).update('\0').update(JSON.stringify(change)).digest('hex').slice(0, 16);
}

/** A handle built from another with some fields changed, its id derived from what changed. */
export function derive(h: ModelHandle, change: Partial<Omit<ModelHandle, 'id'>>, what: { label: string; fingerprint: unknown }): ModelHandle {
  return { ...h, ...change, id: deriveId(h.id, what.fingerprint), label: `${h.label} + ${what.label}` };
}

/** A MODEL input for nodes that only sample (Sample, PriorClassGen, Evaluate, the VAE nodes): an ONNX export will do. */
export function asSamplingModel(v: unknown, input = 'model'): AnyModelHandle {
  const h = v as AnyModelHandle;
  if (h && typeof h === 'object' && isExported(h) && h.exported?.files) return h;
  return asModel(v, input);
}

/**
 * A MODEL input whose weights the node needs (training, LoRA, saving). Checks it is a MODEL handle (the executor
 * type-checks links; this guards hand-written prompts) with weights, not an ONNX export.
 */
export function asModel(v: unknown, input = 'model'): ModelHandle {
  const h = v as AnyModelHandle;
  if (h && typeof h === 'object' && isExported(h))
    throw new Error(
      `input ${input}: ${h.label} is an ONNX export, which can sample (Sample, PriorClassGen, Evaluate, VAE nodes) but has no weights to train, ` +
        'merge or save: load the diffusers folder or .safetensors file it was exported from',
    );
  if (!h || typeof h !== 'object' || !h.model || !h.model.unet) throw new Error(`input ${input}: expected a MODEL (from LoadCheckpoint)`);
  return h;
}
