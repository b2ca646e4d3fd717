// GET /system_stats, /features, /embeddings, /extensions, /models, /models/{folder}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Router } from 'express';
import { describeAdapter, machineAdapters } from '../../runtime/engine/gpu-adapter.js';
import { deviceDescription } from '../../runtime/engine/session.js';
import { PACKAGE_ROOT } from '../../runtime/graph/folders.js';
import { type ServerContext, serverFeatures } from '../context.js';
import { sendError } from '../http-errors.js';

const VERSION = readVersion();
const MODEL_FOLDER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
/** Deepest folder level listed below a model folder, and most files returned (a runaway tree stays cheap). */
const MAX_DEPTH = 8;
const MAX_FILES = 10_000;

function readVersion(): string {
  try {
    return String(JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}

function onnxruntimeVersion(): string | undefined {
  try {
    return String(JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version);
  } catch {
    return undefined;
  }
}

/** Sub-folders of the models folder (ComfyUI's model types: checkpoints, loras, ...). */
function modelFolders(root: string): string[] {
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Files below `dir`, relative and '/'-separated, hidden ones skipped, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string, depth: number) => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || out.length >= MAX_FILES) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r, depth + 1);
      else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  };
  walk(dir, '', 0);
  return out.sort();
}

/** Python's os.name, which ComfyUI reports as system_stats.os: "nt" on Windows, "posix" elsewhere. */
export function osName(platform: NodeJS.Platform = process.platform): 'nt' | 'posix' {
  return platform === 'win32' ? 'nt' : 'posix';
}

/**
 * ComfyUI's device list: the device that sessions with device 'auto' run on first, then any other WebGPU adapter
 * (a software one such as lavapipe runs only when asked for by name). Memory is not known to onnxruntime-node: 0.
 */
function devices() {
  const entry = (name: string, type: string, index: number, extra: Record<string, unknown> = {}) => ({ name, type, index, vram_total: 0, vram_free: 0, torch_vram_total: 0, torch_vram_free: 0, ...extra });
  const auto = deviceDescription('auto');
  const list = [auto.adapter
    ? entry(auto.text, 'webgpu', 0, { vendor: auto.adapter.vendor, backend: auto.adapter.backend, software: auto.adapter.software })
    : entry(auto.text, auto.provider, 0)];
  for (const a of machineAdapters())
    if (a !== auto.adapter) list.push(entry(`webgpu: ${describeAdapter(a)}`, 'webgpu', list.length, { vendor: a.vendor, backend: a.backend, software: a.software }));
  return list;
}

export function systemRoutes(ctx: ServerContext): Router {
  const r = Router();

  r.get('/system_stats', (_req, res) => {
    res.json({
      system: {
        os: osName(),
        ram_total: os.totalmem(),
        ram_free: os.freemem(),
        comfyui_version: VERSION,
        instructbooth_version: VERSION,
        python_version: `Node.js ${process.version}`,
        pytorch_version: `onnxruntime-node ${onnxruntimeVersion() ?? 'unknown'}`,
        embedded_python: false,
        argv: process.argv.slice(1),
      },
      devices: devices(),
    });
  });

  r.get('/features', (_req, res) => {
    res.json(serverFeatures(ctx));
  });

  r.get('/embeddings', (_req, res) => {
    res.json(listFiles(path.join(ctx.folders.models, 'embeddings')).map((f) => f.replace(/\.[^./]+$/, '')));
  });

  r.get('/extensions', (_req, res) => {
    res.json([]);
  });

  r.get('/models', (_req, res) => {
    res.json(modelFolders(ctx.folders.models));
  });

  r.get('/models/:folder', (req, res) => {
    const folder = req.params.folder;
    if (!MODEL_FOLDER_NAME.test(folder) || folder.includes('..') || !modelFolders(ctx.folders.models).includes(folder))
      return sendError(res, 404, 'not_found', `no model folder ${JSON.stringify(folder)}; GET /models lists them`);
    res.json(listFiles(path.join(ctx.folders.models, folder)));
  });

  return r;
}
