// Saves the MODEL's LoRA (from DDPOUpdate or DreamBoothTrain in LoRA mode) in the formats other tools load:
// kohya (A1111, ComfyUI's LoraLoader) or diffusers/PEFT (pipe.load_lora_weights).
import path from 'node:path';
import { saveLora } from '../runtime/models/weights/lora-files.js';
import { defineNode } from './common/define-node.js';
import { toFileWeights } from './common/loras.js';
import { asModel } from './common/model.js';
import { checkPrefix, saveImagePath } from './common/save-images.js';

export const SaveLoRA = defineNode({
  type: 'SaveLoRA',
  displayName: 'Save LoRA',
  category: 'instructbooth/model',
  description: 'Writes the MODEL\'s LoRA to output/loras/ as safetensors, in kohya format (A1111, ComfyUI) or diffusers/PEFT format.',
  inputs: {
    model: { type: 'MODEL', link: true },
    filename_prefix: { type: 'STRING', default: 'loras/instructbooth' },
    format: { type: 'COMBO', options: ['kohya', 'peft'], default: 'kohya', tooltip: 'kohya: lora_unet_* keys with alpha; peft: unet.*.lora_A/B keys (diffusers).' },
    dtype: { type: 'COMBO', options: ['float16', 'float32', 'bfloat16'], default: 'float16' },
  },
  outputs: [{ name: 'path', type: 'STRING' }],
  outputNode: true,
  validate: (inputs, folders) => checkPrefix(inputs.filename_prefix ?? '', folders.output),
  async run(inputs, ctx) {
    const model = asModel(inputs.model);
    if (!model.lora) throw new Error('input model: it carries no LoRA (train one with DDPOUpdate or DreamBoothTrain in lora mode, or load one with LoadLoRA)');
    const { folder, filename, counter, subfolder } = await saveImagePath(inputs.filename_prefix, ctx.folders.output);
    const name = `${filename}_${String(counter).padStart(5, '0')}_.safetensors`;
    const file = path.join(folder, name);
    saveLora(file, toFileWeights(model.lora), {
      format: inputs.format,
      dtype: inputs.dtype,
      metadata: { instructbooth_model: model.label, ss_training_comment: 'InstructBooth' },
    });
    ctx.log('info', `saved ${file}`);
    return { outputs: [file], ui: { text: [`${subfolder ? `${subfolder}/` : ''}${name}`] } };
  },
});
