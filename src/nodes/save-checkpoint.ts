// Saves the MODEL (a DreamBooth-tuned UNet, any LoRA merged in at its strength) with its VAE and text encoder, as a
// diffusers folder or an SD1.5 single-file checkpoint (LDM key names, what A1111 and ComfyUI load).
import path from 'node:path';
import { saveSdModelFolder } from '../runtime/models/sd-model.js';
import { saveLdmCheckpoint } from '../runtime/models/weights/save.js';
import { layoutOfConfigs, SD15 } from '../runtime/models/weights/sd15-layout.js';
import { bakeLora } from './common/bake-lora.js';
import { defineNode } from './common/define-node.js';
import { asModel } from './common/model.js';
import { checkPrefix, saveImagePath } from './common/save-images.js';

export const SaveCheckpoint = defineNode({
  type: 'SaveCheckpoint',
  displayName: 'Save Checkpoint',
  category: 'instructbooth/model',
  description:
    'Writes the whole model to output/checkpoints/: a diffusers folder, or one .safetensors file with the original SD key names ' +
    '(what A1111 and ComfyUI load; SD1.5-sized models only). A LoRA on the MODEL is merged in.',
  inputs: {
    model: { type: 'MODEL', link: true },
    filename_prefix: { type: 'STRING', default: 'checkpoints/instructbooth' },
    format: { type: 'COMBO', options: ['diffusers', 'single-file'], default: 'diffusers' },
    dtype: { type: 'COMBO', options: ['float32', 'float16'], default: 'float32' },
  },
  outputs: [{ name: 'path', type: 'STRING' }],
  outputNode: true,
  validate: (inputs, folders) => checkPrefix(inputs.filename_prefix ?? '', folders.output),
  async run(inputs, ctx) {
    const h = bakeLora(asModel(inputs.model));
    const m = h.model;
    const { folder, filename, counter } = await saveImagePath(inputs.filename_prefix, ctx.folders.output);
    const stem = path.join(folder, `${filename}_${String(counter).padStart(5, '0')}_`);
    ctx.progress(0, 1, 'saving');
    let out: string;
    if (inputs.format === 'single-file') {
      // A single file carries no config: every tool (this one too) reads it as SD1.5, so only SD1.5 shapes go there.
      if (JSON.stringify(layoutOfConfigs(m.unet.config, m.vae.config, m.textEncoder.config)) !== JSON.stringify(SD15))
        throw new Error(`format single-file: ${h.label} is not SD1.5-sized, and single files carry no config to say so; save it as a diffusers folder`);
      out = `${stem}.safetensors`;
      saveLdmCheckpoint(out, { unet: m.unet.weights, vae: m.vae.weights, text_encoder: m.textEncoder.weights }, { dtype: inputs.dtype });
    } else {
      if (!m.tokenizerDir) throw new Error('the model has no tokenizer folder to copy (load it from a diffusers folder, or give the single-file checkpoint a tokenizer)');
      if (inputs.dtype === 'float16') throw new Error('dtype float16: diffusers folders are written in float32 here; choose float32 or the single-file format');
      out = stem;
      saveSdModelFolder(out, m, m.tokenizerDir);
    }
    ctx.progress(1, 1);
    ctx.log('info', `saved ${out}`);
    return { outputs: [out], ui: { text: [path.relative(ctx.folders.output, out)] } };
  },
});
