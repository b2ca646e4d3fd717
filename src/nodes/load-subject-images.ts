// The user's photos of the subject (DreamBooth's instance images): every file a folder holds, or a list of files,
// decoded, resized and centre-cropped to the training resolution, as one IMAGE batch.
import path from 'node:path';
import { decodeImage } from '../runtime/engine/image-io.js';
import { concatImages } from '../runtime/engine/image.js';
import type { Folders } from '../runtime/graph/node-api.js';
import { defineNode } from './common/define-node.js';
import { displayName, fileFingerprint, isDirectory, isFile, isInside, listImageFiles, resolveInside } from './common/files.js';

/** The files a `source` names, in order, or an error message. */
export function resolveSubjectFiles(source: string, folders: Folders): { files: string[] } | { error: string } {
  const text = String(source ?? '').trim();
  if (text === '') return { error: 'no subject images given: name a folder or list image files' };
  // A single existing path is taken whole, so a folder whose name has a comma still works.
  const whole = locate(text, folders);
  const entries = typeof whole === 'string' && (isFile(whole) || isDirectory(whole)) ? [text] : text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
  const files: string[] = [];
  for (const entry of entries) {
    const full = locate(entry, folders);
    if (typeof full !== 'string') return full;
    if (isDirectory(full)) {
      const names = listImageFiles(full);
      if (names.length === 0) return { error: `folder ${entry} has no image files` };
      files.push(...names.map((n) => path.join(full, n)));
    } else if (isFile(full)) files.push(full);
    else return { error: `subject image not found: ${entry}` };
  }
  return { files };
}

// Relative names live in the input folder; absolute ones must be inside the input, output or temp folder.
function locate(entry: string, folders: Folders): string | { error: string } {
  if (path.isAbsolute(entry)) {
    const allowed = [folders.input, folders.output, folders.temp];
    return allowed.some((f) => isInside(f, entry)) ? path.resolve(entry) : { error: `${entry} is outside the input, output and temp folders` };
  }
  return resolveInside(folders.input, entry) ?? { error: `${entry} is outside the input folder` };
}

export const LoadSubjectImages = defineNode({
  type: 'LoadSubjectImages',
  displayName: 'Load Subject Images',
  category: 'instructbooth/data',
  description:
    'Loads the photos of your subject (3-5 are typical) from a folder or a list of files, resized and centre-cropped to a square. ' +
    'Transparent pixels become white.',
  inputs: {
    source: {
      type: 'STRING',
      default: 'subject',
      multiline: true,
      placeholder: 'a folder in the input folder, or image files one per line (or comma-separated)',
      tooltip: 'A folder (relative to the input folder) whose images are loaded in name order, or a list of image files.',
    },
    resolution: { type: 'INT', default: 512, min: 8, max: 2048, step: 8, tooltip: 'Side of the square training images, in pixels.' },
  },
  outputs: [
    { name: 'images', type: 'IMAGE' },
    { name: 'count', type: 'INT' },
  ],
  isChanged: (inputs, folders) => {
    const r = resolveSubjectFiles(String(inputs.source), folders);
    if ('error' in r) return `error:${r.error}`;
    return r.files.map((f) => `${f}@${fileFingerprint(f)}`).join('|');
  },
  validate: (inputs, folders) => {
    const r = resolveSubjectFiles(String(inputs.source), folders);
    return 'error' in r ? r.error : undefined;
  },
  async run(inputs, ctx) {
    const size = inputs.resolution;
    if (!Number.isInteger(size) || size < 8 || size > 2048) throw new Error(`resolution must be an integer in 8..2048, got ${inputs.resolution}`);
    const r = resolveSubjectFiles(inputs.source, ctx.folders);
    if ('error' in r) throw new Error(r.error);
    const images = [];
    for (const [i, file] of r.files.entries()) {
      ctx.checkInterrupted();
      // Training wants the subject, not whatever RGB hides under transparency: composite onto white.
      images.push(await decodeImage(file, { size, background: [255, 255, 255], name: displayName(file, ctx.folders) }));
      ctx.progress(i + 1, r.files.length, path.basename(file));
    }
    return { outputs: [concatImages(images), images.length] };
  },
});
