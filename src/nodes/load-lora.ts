// ComfyUI's LoraLoaderModelOnly: a LoRA file (kohya/A1111/ComfyUI or diffusers/PEFT format) on the MODEL's UNet at a
// strength. A MODEL that already carries a LoRA gets that one merged into its weights first, so LoRAs stack.
import { loadLora } from '../runtime/models/weights/lora-files.js';
import { bakeLora } from './common/bake-lora.js';
import { defineNode } from './common/define-node.js';
import { fileFingerprint } from './common/files.js';
import { fromFileWeights, listLoras, resolveLora } from './common/loras.js';
import { asModel, deriveId } from './common/model.js';

export const LoadLoRA = defineNode({
  type: 'LoadLoRA',
  displayName: 'Load LoRA',
  category: 'loaders',
  description:
    'Applies a LoRA file from models/loras (or one SaveLoRA wrote to output/loras) to the MODEL\'s UNet. Reads kohya/A1111/ComfyUI and ' +
    'diffusers/PEFT files; its adapted layers must exist in the model.',
  inputs: {
    model: { type: 'MODEL', link: true },
    lora_name: { type: 'COMBO', options: listLoras },
    strength: { type: 'FLOAT', default: 1, min: -4, max: 4, step: 0.05 },
  },
  outputs: [{ name: 'MODEL', type: 'MODEL' }],
  isChanged: (inputs, folders) => {
    const r = resolveLora(String(inputs.lora_name), folders);
    return 'error' in r ? `error:${r.error}` : fileFingerprint(r.path);
  },
  validate: (inputs, folders) => {
    const r = resolveLora(inputs.lora_name ?? '', folders);
    return 'error' in r ? r.error : undefined;
  },
  async run(inputs, ctx) {
    const model = bakeLora(asModel(inputs.model));
    const name = inputs.lora_name;
    const r = resolveLora(name, ctx.folders);
    if ('error' in r) throw new Error(r.error);
    const lora = fromFileWeights(loadLora(r.path), name);
    for (const key of lora.weights.keys()) {
      const base = `${key.replace(/\.lora_(down|up)\.weight$/, '')}.weight`;
      if (!model.model.unet.weights.has(base)) throw new Error(`${name} adapts ${base.replace(/\.weight$/, '')}, which this model's UNet does not have (a LoRA for another architecture?)`);
    }
    const strength = inputs.strength;
    return {
      outputs: [{ ...model, lora, loraStrength: strength, id: deriveId(model.id, { lora: name, stamp: fileFingerprint(r.path), strength }), label: `${model.label} + ${name}` }],
    };
  },
});
