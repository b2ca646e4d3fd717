// LoRA files a workflow can name: models/loras/*.safetensors, and what SaveLoRA wrote to output/loras/ (shown as
// "name.safetensors [output]", ComfyUI's annotation for files picked from results).
import fs from 'node:fs';
import path from 'node:path';
import type { Folders } from '../../runtime/graph/node-api.js';
import type { LoraWeights as LoraFileWeights } from '../../runtime/models/weights/lora-files.js';
import type { LoraWeights } from '../../runtime/models/sd-pipeline.js';
import { byCodePoint, isFile, resolveInside } from './files.js';

const safetensorsIn = (dir: string): string[] => {
  try {
    return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((n) => n.endsWith('.safetensors') && isFile(path.join(dir, n)))
      .map((n) => n.split(path.sep).join('/'))
      .sort(byCodePoint);
  } catch {
    return [];
  }
};

export function listLoras(folders: Folders): string[] {
  return [...safetensorsIn(path.join(folders.models, 'loras')), ...safetensorsIn(path.join(folders.output, 'loras')).map((n) => `${n} [output]`)];
}

export function resolveLora(name: string, folders: Folders): { path: string } | { error: string } {
  const m = /^(.*) \[output\]$/.exec(name);
  const root = m ? path.join(folders.output, 'loras') : path.join(folders.models, 'loras');
  const full = resolveInside(root, m ? m[1] : name);
  if (!full) return { error: `LoRA name ${name} leaves the loras folder` };
  if (!isFile(full)) return { error: `LoRA file not found: ${name} (looked in ${root})` };
  return { path: full };
}

/** The pipeline's adapter set (UNet only) <-> the file format's (per component). */
export function toFileWeights(l: LoraWeights): LoraFileWeights {
  return { rank: l.rank, alpha: l.alpha, unet: l.weights };
}

export function fromFileWeights(l: LoraFileWeights, file: string): LoraWeights {
  if (l.text_encoder && l.text_encoder.size > 0 && l.unet.size === 0)
    throw new Error(`${file} adapts only the text encoder; this project's LoRAs adapt the UNet`);
  return { rank: l.rank, alpha: l.alpha, weights: l.unet };
}
