// Where nodes may read and write: paths resolved inside the run's folders, never outside them (a workflow can come from
// anyone over HTTP, and its file names must not reach the rest of the disk).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Folders } from '../../runtime/graph/node-api.js';
import { isImageFileName } from '../../runtime/engine/image-io.js';

/** Whether `child` is `parent` or lies below it (lexically; both are resolved first). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** `rel` resolved against `root`, or undefined when it is absolute or climbs out of `root`. */
export function resolveInside(root: string, rel: string): string | undefined {
  if (rel.includes('\0') || path.isAbsolute(rel)) return undefined;
  const full = path.resolve(root, rel);
  return isInside(root, full) ? full : undefined;
}

/**
 * A file name as ComfyUI's LoadImage takes it: relative to the input folder, optionally annotated with the folder it
 * lives in ("name.png [output]", "name.png [temp]"), as the frontend does for images picked from results.
 */
export function resolveAnnotated(name: string, folders: Folders): string | undefined {
  const m = /^(.*) \[(input|output|temp)\]$/.exec(name);
  const [rel, folder] = m ? [m[1], m[2] as 'input' | 'output' | 'temp'] : [name, 'input' as const];
  return resolveInside(folders[folder], rel);
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Image files directly in `dir` (by extension, hidden files skipped), sorted by code point so order never varies. */
export function listImageFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => (e.isFile() || (e.isSymbolicLink() && isFile(path.join(dir, e.name)))) && isImageFileName(e.name))
    .map((e) => e.name)
    .sort(byCodePoint);
}

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A cache fingerprint of a file's state: mtime and size (cheap, and changes whenever the file is rewritten). */
export function fileFingerprint(p: string): string {
  try {
    const st = statSync(p);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

/** How errors name a file: relative to the input folder when inside it, else the full path. */
export function displayName(p: string, folders: Folders): string {
  return isInside(folders.input, p) ? path.relative(folders.input, p).split(path.sep).join('/') : p;
}
