// defineNode for the built-in nodes: the value each of their socket types carries, so a node's run gets its links
// typed (a MODEL input is a model handle, PROMPTS a prompt set) as well as its widgets.
import type { ImageBatch } from '../../runtime/engine/image.js';
import type { MaskBatch } from '../../runtime/engine/image-io.js';
import type { HostTensor } from '../../runtime/onnx/tensor.js';
import { nodeDefiner, type PrimitiveValues } from '../../runtime/graph/node-api.js';
import type { PromptSet } from '../prompt-set.js';
import type { AnyModelHandle } from './model.js';
import type { RewardHandle } from './reward.js';

/** What the LATENT socket carries: ComfyUI's {"samples": latents}. */
export interface Latent {
  samples: HostTensor;
}

export interface SocketValues extends PrimitiveValues {
  MODEL: AnyModelHandle;
  /** CLIP and VAE carry the MODEL's handle: they share its weights. */
  CLIP: AnyModelHandle;
  VAE: AnyModelHandle;
  IMAGE: ImageBatch;
  MASK: MaskBatch;
  LATENT: Latent;
  PROMPTS: PromptSet;
  REWARD_MODEL: RewardHandle;
}

export const defineNode = nodeDefiner<SocketValues>();
