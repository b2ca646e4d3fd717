// The MODEL value that flows between nodes: an SdModel (the networks' weights, possibly fine-tuned by DreamBooth), at
// most one LoRA on its UNet with a strength, and where to run. CLIP and VAE sockets carry the same handle (ComfyUI
// splits them; here they share weights, so passing the handle keeps one copy in memory).
import crypto from 'node:crypto';
import type { SessionOptions } from '../../runtime/engine/session.js';
import type { SdModel } from '../../runtime/models/sd-model.js';
import { type LoraWeights, SdPipeline } from '../../runtime/models/sd-pipeline.js';

export interface ModelHandle {
  readonly model: SdModel;
  readonly lora?: LoraWeights;
  /** Multiplies the LoRA's effect at sampling time (1 = as trained). */
  readonly loraStrength: number;
  readonly sessionOptions: SessionOptions;
  /**
   * A stable identity of the weights (checkpoint path and file stamps, plus every training applied), for disk caches
   * such as PriorClassGen's: same id, same outputs.
   */
  readonly id: string;
  /** For messages: "embedded", "v1-5-pruned.safetensors + DreamBooth(sks star)". */
  readonly label: string;
}

const pipelines = new WeakMap<ModelHandle, SdPipeline>();

/** One pipeline (and its sessions) per handle, built on first use. */
export function pipelineOf(h: ModelHandle): SdPipeline {
  let p = pipelines.get(h);
  if (!p) {
    p = new SdPipeline(h.model, h.lora, h.sessionOptions);
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

/** Checks a linked input is a MODEL handle (the executor type-checks links; this guards hand-written prompts). */
export function asModel(v: unknown, input = 'model'): ModelHandle {
  const h = v as ModelHandle;
  if (!h || typeof h !== 'object' || !h.model || !h.model.unet) throw new Error(`input ${input}: expected a MODEL (from LoadCheckpoint)`);
  return h;
}
