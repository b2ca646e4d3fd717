// Every built-in node; the CLI and the server build their registry from this list.
import { NodeRegistry } from '../runtime/graph/registry.js';
import type { NodeDefinition } from '../runtime/graph/node-api.js';
import type { RegistryModule } from '../runtime/graph/worker-protocol.js';
import { DDPOUpdate } from './ddpo-update.js';
import { DreamBoothTrain } from './dreambooth-train.js';
import { Evaluate } from './evaluate.js';
import { ImageGrid } from './image-grid.js';
import { LoadCheckpoint } from './load-checkpoint.js';
import { LoadImage } from './load-image.js';
import { LoadLoRA } from './load-lora.js';
import { LoadRewardModel } from './load-reward-model.js';
import { LoadSubjectImages } from './load-subject-images.js';
import { PreviewImage } from './preview-image.js';
import { PriorClassGen } from './prior-class-gen.js';
import { PrimitiveBoolean } from './primitive-boolean.js';
import { PrimitiveFloat } from './primitive-float.js';
import { PrimitiveInt } from './primitive-int.js';
import { PrimitiveString } from './primitive-string.js';
import { PrimitiveStringMultiline } from './primitive-string-multiline.js';
import { PromptTemplate } from './prompt-template.js';
import { RewardScore } from './reward-score.js';
import { Sample } from './sample.js';
import { SaveCheckpoint } from './save-checkpoint.js';
import { SaveImage } from './save-image.js';
import { SaveLoRA } from './save-lora.js';
import { VAEDecode } from './vae-decode.js';
import { VAEEncode } from './vae-encode.js';

export type { PromptSet } from './prompt-set.js';

export const builtinNodes: NodeDefinition[] = [
  LoadImage,
  LoadSubjectImages,
  SaveImage,
  PreviewImage,
  ImageGrid,
  PrimitiveString,
  PrimitiveStringMultiline,
  PrimitiveInt,
  PrimitiveFloat,
  PrimitiveBoolean,
  PromptTemplate,
  LoadCheckpoint,
  Sample,
  PriorClassGen,
  DreamBoothTrain,
  LoadRewardModel,
  RewardScore,
  DDPOUpdate,
  Evaluate,
  SaveLoRA,
  LoadLoRA,
  SaveCheckpoint,
  VAEEncode,
  VAEDecode,
];

/** This module's createRegistry, for a worker thread to build the same registry (WorkerExecutor). */
export const BUILTIN_REGISTRY: RegistryModule = { url: import.meta.url, exportName: 'createRegistry' };

export function createRegistry(): NodeRegistry {
  return new NodeRegistry(builtinNodes);
}
