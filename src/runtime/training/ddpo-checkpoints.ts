// A DDPO run's checkpoints: a folder named by the hash of every setting that changes the run, and after an epoch all
// the state the next epoch reads (adapter, AdamW moments, reward buffers, history), so a resumed run reproduces an
// uninterrupted one.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { HostTensor } from '../onnx/tensor.js';
import type { SdModel } from '../models/sd-model.js';
import type { LoraWeights } from '../models/sd-pipeline.js';
import { CheckpointStore } from './checkpoint-store.js';
import type { DdpoSettings, EpochStats } from './ddpo-options.js';
import type { StatTrackerState } from './stat-tracker.js';
import { hashWeightsSample } from './weights-fingerprint.js';

/** What a checkpoint gives back to continue from. */
export interface ResumedState {
  /** Epochs done. */
  epoch: number;
  lora: Map<string, HostTensor>;
  optim: Record<string, HostTensor>;
  tracker: StatTrackerState;
  history: EpochStats[];
}

export interface DdpoCheckpoints {
  store: CheckpointStore;
  /** The settings as JSON: a checkpoint is resumed only when it was written with the same. */
  fingerprint: string;
  /** The newest checkpoint of this run, if any. */
  resumed?: ResumedState;
}

/** What an epoch's checkpoint holds. */
export interface EpochState {
  lora: Map<string, HostTensor>;
  optim: Record<string, HostTensor>;
  rank: number;
  alpha: number;
  tracker: StatTrackerState;
  history: EpochStats[];
}

/** The run's checkpoint folder under `dir`, with the newest checkpoint there written by a run of the same settings. */
export function openCheckpoints(dir: string, model: SdModel, r: DdpoSettings, initial?: LoraWeights): DdpoCheckpoints {
  const fp = fingerprint(model, r, initial);
  const store = new CheckpointStore(path.join(dir, `ddpo-${fp.hash}`));
  const c = store.latest();
  if (!c || c.meta.fingerprint !== fp.text) return { store, fingerprint: fp.text };
  const lora = new Map<string, HostTensor>(), optim: Record<string, HostTensor> = {};
  for (const [k, t] of c.tensors) {
    if (k.startsWith('lora.')) lora.set(k.slice(5), t);
    else if (k.startsWith('optim.')) optim[k.slice(6)] = t;
  }
  return { store, fingerprint: fp.text, resumed: { epoch: c.step, lora, optim, tracker: c.meta.tracker as StatTrackerState, history: c.meta.history as EpochStats[] } };
}

export function saveCheckpoint(c: DdpoCheckpoints, epochsDone: number, s: EpochState): void {
  const tensors = new Map<string, HostTensor>();
  for (const [n, t] of s.lora) tensors.set(`lora.${n}`, t);
  for (const [k, t] of Object.entries(s.optim)) tensors.set(`optim.${k}`, t);
  c.store.save({ step: epochsDone, tensors, meta: { kind: 'ddpo', fingerprint: c.fingerprint, rank: s.rank, alpha: s.alpha, tracker: s.tracker, history: s.history } });
}

/** Settings that change the run, as JSON, and a short hash of them. */
function fingerprint(model: SdModel, r: DdpoSettings, initial?: LoraWeights): { text: string; hash: string } {
  const h = createHash('sha256');
  // The model: its source and architecture, and a sample of every UNet tensor (a retrained model at the same path, or
  // one that differs only in some layers, as a merged attention-only LoRA makes it, is another starting point).
  hashWeightsSample(h, model.unet.weights);
  if (initial) hashWeightsSample(h, initial.weights);
  const { epochs: _epochs, checkpointEvery: _every, ...settings } = r;
  const text = JSON.stringify({
    model: model.source, unet: model.unet.config, resolution: model.resolution, tensors: h.digest('hex').slice(0, 16),
    initialLora: initial ? { rank: initial.rank, alpha: initial.alpha } : null, ...settings,
  });
  return { text, hash: createHash('sha256').update(text).digest('hex').slice(0, 12) };
}
