// Training checkpoints: parameters, optimizer state, step and free-form JSON in one safetensors file, so a run can
// resume exactly and other tools can still open the file. Tensors are "param.<name>" and "optim.<key>"; the rest
// lives in __metadata__ (string values only, hence meta as JSON text).
import type { HostTensor } from '../../onnx/tensor.js';
import { openSafetensors, writeSafetensors } from '../safetensors.js';
import { f32Tensor, type Optimizer, type ParamMap } from './common.js';

const FORMAT = 'instructbooth-training-state';
const VERSION = '1';

export interface TrainingState {
  params: ParamMap;
  /** pass to optimizer.loadStateDict() */
  optimizer: Record<string, HostTensor>;
  step: number;
  meta: unknown;
}

export interface SaveTrainingStateInput {
  params: ParamMap;
  optimizer: Optimizer | Record<string, HostTensor>;
  step: number;
  /** anything JSON.stringify accepts (hyperparameters, data order, RNG seeds...) */
  meta?: unknown;
}

const isOptimizer = (o: SaveTrainingStateInput['optimizer']): o is Optimizer => typeof (o as Optimizer).stateDict === 'function';

export function saveTrainingState(path: string, { params, optimizer, step, meta = null }: SaveTrainingStateInput): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`saveTrainingState: step must be an integer >= 0, got ${step}`);
  const tensors: Record<string, HostTensor> = {};
  for (const [name, data] of params) tensors[`param.${name}`] = f32Tensor(data);
  const sd = isOptimizer(optimizer) ? optimizer.stateDict() : optimizer;
  for (const [key, t] of Object.entries(sd)) tensors[`optim.${key}`] = t;
  const metaJson = JSON.stringify(meta);
  if (metaJson === undefined) throw new Error('saveTrainingState: meta is not JSON-serializable');
  writeSafetensors(path, tensors, { format: FORMAT, version: VERSION, step: String(step), meta: metaJson });
}

/** Reads a checkpoint one tensor at a time (never the whole file at once). */
export function loadTrainingState(path: string): TrainingState {
  const file = openSafetensors(path);
  try {
    const { format, version, step: stepText, meta } = file.metadata;
    if (format !== FORMAT) throw new Error(`loadTrainingState ${path}: not a training state (format "${format ?? ''}")`);
    if (version !== VERSION) throw new Error(`loadTrainingState ${path}: unsupported version "${version ?? ''}"`);
    const step = Number(stepText);
    if (!Number.isSafeInteger(step) || step < 0) throw new Error(`loadTrainingState ${path}: bad step "${stepText ?? ''}"`);
    const params: ParamMap = new Map();
    const optimizer: Record<string, HostTensor> = {};
    for (const key of file.names()) {
      if (key.startsWith('param.')) params.set(key.slice(6), file.read(key, { as: 'float32' }).data as Float32Array);
      else if (key.startsWith('optim.')) optimizer[key.slice(6)] = file.read(key);
      else throw new Error(`loadTrainingState ${path}: unexpected tensor "${key}"`);
    }
    return { params, optimizer, step, meta: JSON.parse(meta ?? 'null') as unknown };
  } finally {
    file.close();
  }
}
