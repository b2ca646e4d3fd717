// A MODEL whose LoRA (at its strength) is merged into the UNet weights, so it can take another LoRA, train further,
// or be saved as a plain checkpoint.
import { mergeLora } from '../../runtime/training/lora-merge.js';
import { type ModelHandle } from './model.js';

export function bakeLora(h: ModelHandle): ModelHandle {
  if (!h.lora) return h;
  const unet = { ...h.model.unet, weights: mergeLora(h.model.unet.weights, h.lora, h.loraStrength) };
  return { ...h, model: { ...h.model, unet }, lora: undefined, loraStrength: 1 };
}
