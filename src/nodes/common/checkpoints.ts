// Checkpoints a workflow can name: "embedded" (the project's own tiny model, shipped in the package), or a file or
// folder under <models>/checkpoints (SD1.5 single-file safetensors, diffusers folder, ONNX export).
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../runtime/graph/folders.js';
import type { Folders } from '../../runtime/graph/node-api.js';
import { byCodePoint, fileFingerprint, isDirectory, isFile, resolveInside } from './files.js';

export const EMBEDDED = 'embedded';
export const EMBEDDED_DIR = path.join(PACKAGE_ROOT, 'models', 'embedded');

/** What the checkpoint combo offers: the embedded model first, then what the checkpoints folder holds. */
export function listCheckpoints(folders: Folders): string[] {
  const dir = path.join(folders.models, 'checkpoints');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => !n.startsWith('.') && (n.endsWith('.safetensors') || isDirectory(path.join(dir, n)))).sort(byCodePoint);
  } catch {
    /* no checkpoints folder yet */
  }
  return [EMBEDDED, ...names];
}

/** The path a checkpoint name stands for, or an error message. */
export function resolveCheckpoint(name: string, folders: Folders): { path: string } | { error: string } {
  if (name === EMBEDDED) {
    return isDirectory(path.join(EMBEDDED_DIR, 'unet'))
      ? { path: EMBEDDED_DIR }
      : { error: `the embedded model is missing at ${EMBEDDED_DIR} (run \`npm run train:world\` to build it)` };
  }
  const full = resolveInside(path.join(folders.models, 'checkpoints'), name);
  if (!full) return { error: `checkpoint name ${name} leaves the checkpoints folder` };
  if (!isFile(full) && !isDirectory(full)) return { error: `checkpoint not found: ${name} (looked in ${path.join(folders.models, 'checkpoints')})` };
  return { path: full };
}

/** Changes when the checkpoint's files change (file stamps of the file, or of the folder's weight files). */
export function checkpointFingerprint(p: string): string {
  if (isFile(p)) return fileFingerprint(p);
  const parts: string[] = [];
  for (const c of ['unet', 'vae', 'text_encoder', 'vae_decoder', 'vae_encoder']) {
    const d = path.join(p, c);
    if (!isDirectory(d)) continue;
    for (const f of fs.readdirSync(d).sort(byCodePoint)) parts.push(`${c}/${f}@${fileFingerprint(path.join(d, f))}`);
  }
  return parts.join('|');
}

/**
 * CLIP tokenizer files for a single-file checkpoint (which carries none): a `tokenizer` folder beside the file, or
 * <models>/tokenizers/clip-vit-large-patch14, or <models>/tokenizer.
 */
export function findTokenizer(checkpoint: string, folders: Folders): string | undefined {
  const candidates = [
    path.join(path.dirname(checkpoint), 'tokenizer'),
    path.join(folders.models, 'tokenizers', 'clip-vit-large-patch14'),
    path.join(folders.models, 'tokenizer'),
  ];
  return candidates.find((d) => isFile(path.join(d, 'vocab.json')) && isFile(path.join(d, 'merges.txt')));
}
