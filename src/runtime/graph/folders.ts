// Where workflows read and write: ComfyUI's input, output and temp folders plus the models folder. Nothing a workflow
// does reaches outside these.
import fs from 'node:fs';
import path from 'node:path';
import type { Folders } from './node-api.js';

/** The embedded default model ships in the package's own models/ folder. */
export const PACKAGE_ROOT = path.resolve(import.meta.dirname, '../../..');

/** Folders under `base` (default: the working directory); INSTRUCTBOOTH_<NAME>_DIR overrides each. */
export function defaultFolders(base = process.cwd(), overrides: Partial<Folders> = {}): Folders {
  const pick = (name: keyof Folders) =>
    path.resolve(overrides[name] ?? process.env[`INSTRUCTBOOTH_${name.toUpperCase()}_DIR`] ?? path.join(base, name));
  return { input: pick('input'), output: pick('output'), temp: pick('temp'), models: pick('models') };
}

export function ensureFolders(f: Folders): void {
  for (const dir of Object.values(f)) fs.mkdirSync(dir, { recursive: true });
}
