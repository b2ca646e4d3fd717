// Saving images the way ComfyUI's SaveImage/PreviewImage do (folder_paths.get_save_image_path), so file names,
// counters and the {filename, subfolder, type} the UI fetches through /view are the same.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImageBatch } from '../../runtime/engine/image.js';
import { asciiJson, encodePng } from '../../runtime/engine/image-io.js';
import type { FileRef, PngInfo, RunContext } from '../../runtime/graph/node-api.js';
import { isInside } from './files.js';
import { setOwn } from '../../runtime/graph/own-keys.js';

/** The run's PNG info (absent: embed nothing, like ComfyUI's --disable-metadata). */
export function pngInfoOf(ctx: RunContext): PngInfo | undefined {
  return ctx.pngInfo;
}

/** Text chunks as ComfyUI writes them: "prompt", then one per extra_pnginfo key, each JSON. */
export function pngInfoText(info: PngInfo | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  if (!info) return text;
  if (info.prompt !== undefined) text.prompt = asciiJson(info.prompt);
  // setOwn: the keys come from the client's extra_pnginfo and may be '__proto__'.
  for (const [k, v] of Object.entries(info.extraPngInfo ?? {})) setOwn(text, k, asciiJson(v));
  return text;
}

export interface SavePath {
  /** Absolute folder the files go in. */
  folder: string;
  /** File name stem (the prefix's last part). */
  filename: string;
  /** The first free counter. */
  counter: number;
  /** Folder below the root, '/'-separated, '' for none (what the UI sends back to /view). */
  subfolder: string;
}

/** ComfyUI's %width%, %height%, %year%, %month%, %day%, %hour%, %minute%, %second% in a prefix. */
export function expandPrefixVars(prefix: string, width: number, height: number, now = new Date()): string {
  if (!prefix.includes('%')) return prefix;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', p2(now.getMonth() + 1))
    .replaceAll('%day%', p2(now.getDate()))
    .replaceAll('%hour%', p2(now.getHours()))
    .replaceAll('%minute%', p2(now.getMinutes()))
    .replaceAll('%second%', p2(now.getSeconds()));
}

/** Why a filename prefix cannot be used under `root`, or undefined when it can. */
export function checkPrefix(prefix: string, root: string): string | undefined {
  if (typeof prefix !== 'string' || prefix.trim() === '') return 'filename_prefix is empty';
  if (prefix.includes('\0')) return 'filename_prefix contains a NUL character';
  if (path.isAbsolute(prefix)) return `filename_prefix "${prefix}" is an absolute path; give a name relative to the output folder`;
  const norm = path.normalize(prefix.replace(/[/\\]+$/, ''));
  const base = path.basename(norm);
  if (!isInside(root, path.resolve(root, norm)) || base === '..' || base === '.' || base === '')
    return `filename_prefix "${prefix}" would save outside the output folder`;
  return undefined;
}

/** Where images with this prefix go and the next free counter ("prefix_00001_.png" numbering continues). */
export async function saveImagePath(prefix: string, root: string, width = 0, height = 0): Promise<SavePath> {
  const expanded = expandPrefixVars(prefix, width, height);
  const problem = checkPrefix(expanded, root);
  if (problem) throw new Error(problem);
  const norm = path.normalize(expanded.replace(/[/\\]+$/, ''));
  const filename = path.basename(norm);
  const sub = path.dirname(norm);
  const subfolder = sub === '.' ? '' : sub.split(path.sep).join('/');
  const folder = path.resolve(root, sub);
  await mkdir(folder, { recursive: true });
  return { folder, filename, counter: nextCounter(await readdir(folder), filename), subfolder };
}

/** 1 + the largest N of files named "<filename>_<N>_..." (ComfyUI counts any "<filename>_..." file, N=0 if not numeric). */
export function nextCounter(names: string[], filename: string): number {
  let max = 0;
  let any = false;
  for (const name of names) {
    if (!name.startsWith(`${filename}_`)) continue;
    const digits = name.slice(filename.length + 1).split('_')[0];
    any = true;
    if (/^\d+$/.test(digits)) max = Math.max(max, Number(digits));
  }
  return any ? max + 1 : 1;
}

export interface SaveOptions {
  root: string;
  prefix: string;
  type: FileRef['type'];
  compressionLevel: number;
  text?: Record<string, string>;
  ctx?: RunContext;
}

/** Writes every image of the batch as a PNG; returns what the UI shows. */
export async function saveImages(images: ImageBatch, opts: SaveOptions): Promise<FileRef[]> {
  const { folder, filename, subfolder, counter: first } = await saveImagePath(opts.prefix, opts.root, images.width, images.height);
  let counter = first;
  const refs: FileRef[] = [];
  for (let i = 0; i < images.count; i++) {
    opts.ctx?.checkInterrupted();
    const png = await encodePng(images, { index: i, compressionLevel: opts.compressionLevel, text: opts.text });
    const stem = filename.replaceAll('%batch_num%', String(i));
    // Exclusive create: a concurrent save with the same prefix takes the next number instead of overwriting.
    for (;;) {
      const file = `${stem}_${String(counter).padStart(5, '0')}_.png`;
      try {
        await writeFile(path.join(folder, file), png, { flag: 'wx' });
        refs.push({ filename: file, subfolder, type: opts.type });
        counter++;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        counter++;
      }
    }
  }
  return refs;
}
