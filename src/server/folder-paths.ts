// File names from HTTP requests (/view, /upload/image) resolved inside the input, output or temp folder, never
// outside: absolute paths, "..", unknown folder types and symlinks that lead out are refused.
import fs from 'node:fs';
import path from 'node:path';
import type { Folders } from '../runtime/graph/node-api.js';
import { HttpError } from './http-errors.js';

export const FOLDER_TYPES = ['input', 'output', 'temp'] as const;
export type FolderType = (typeof FOLDER_TYPES)[number];

export function isFolderType(t: unknown): t is FolderType {
  return typeof t === 'string' && (FOLDER_TYPES as readonly string[]).includes(t);
}

/** The folder of a type name (400 for anything but input, output, temp). */
export function folderOfType(folders: Folders, type: unknown): { type: FolderType; root: string } {
  if (!isFolderType(type)) throw new HttpError(400, 'invalid_folder_type', `unknown folder type ${JSON.stringify(type)}; expected one of ${FOLDER_TYPES.join(', ')}`);
  return { type, root: path.resolve(folders[type]) };
}

/** ComfyUI's annotated file names: "name.png [output]" names a file in another folder than the default. */
export function splitAnnotation(name: string): { name: string; type?: FolderType } {
  const m = /^(.*) \[(input|output|temp)\]$/.exec(name);
  return m ? { name: m[1], type: m[2] as FolderType } : { name };
}

function isAbsoluteAnywhere(p: string): boolean {
  return path.isAbsolute(p) || path.win32.isAbsolute(p) || /^[a-zA-Z]:/.test(p);
}

/** A bare file name: no folder parts, no "..", nothing hidden behind a NUL. */
export function checkFileName(name: string, status = 400): string {
  if (name === '' || name.length > 255) throw new HttpError(status, 'invalid_filename', 'a file name is required (at most 255 characters)');
  if (name.includes('\0') || isAbsoluteAnywhere(name) || name.includes('..') || /[/\\]/.test(name) || name === '.')
    throw new HttpError(status, 'invalid_filename', `file name ${JSON.stringify(name)} is not allowed: give a plain name, without folders, ".." or an absolute path`);
  return name;
}

/** `root`/`subfolder`, refused (with `status`) when absolute or outside `root`. */
export function resolveSubfolder(root: string, subfolder: string, status: number): string {
  if (subfolder === '') return root;
  if (subfolder.includes('\0') || isAbsoluteAnywhere(subfolder))
    throw new HttpError(status, 'invalid_subfolder', `subfolder ${JSON.stringify(subfolder)} is not allowed: it must be relative to the folder`);
  const full = path.resolve(root, subfolder);
  if (!isInside(root, full)) throw new HttpError(status, 'invalid_subfolder', `subfolder ${JSON.stringify(subfolder)} leads outside the folder`);
  return full;
}

export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * `p` with every symlink resolved, when that real path lies inside `root`'s real path; undefined when it leads out
 * (or through a dangling or looping symlink). A path that does not exist yet is resolved through its deepest
 * existing ancestor, so a folder about to be created or a file about to be written is judged by where it would land.
 * /view and /upload/image both go through this before reading, hashing or writing.
 */
export function realPathInside(root: string, p: string): string | undefined {
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return undefined;
  }
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    let exists = true;
    try {
      fs.lstatSync(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
      exists = false;
    }
    if (exists) {
      let real: string;
      try {
        real = fs.realpathSync(cur); // fails for a dangling or looping symlink
      } catch {
        return undefined;
      }
      const full = path.join(real, ...rest);
      return isInside(realRoot, full) ? full : undefined;
    }
    const parent = path.dirname(cur);
    if (parent === cur) return undefined;
    rest.unshift(path.basename(cur));
    cur = parent;
  }
}

/** A subfolder as the client should send it back: '/'-separated, relative. */
export function subfolderText(root: string, dir: string): string {
  return path.relative(root, dir).split(path.sep).join('/');
}
