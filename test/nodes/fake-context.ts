// A RunContext for node tests: real folders under the OS temp dir, and a record of what the node reported.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageBatch } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { type Folders, InterruptedError, type LogLevel, type RunContext } from '../../src/runtime/graph/node-api.js';
import type { PngInfo } from '../../src/runtime/graph/node-api.js';

export interface TestFolders extends Folders {
  root: string;
  cleanup(): Promise<void>;
}

export async function makeFolders(): Promise<TestFolders> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'instructbooth-nodes-'));
  const f = { input: path.join(root, 'input'), output: path.join(root, 'output'), temp: path.join(root, 'temp'), models: path.join(root, 'models') };
  for (const dir of Object.values(f)) await mkdir(dir, { recursive: true });
  return { ...f, root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export interface FakeContext extends RunContext {
  pngInfo?: PngInfo;
  readonly calls: {
    progress: { value: number; max: number; text?: string }[];
    metrics: { values: Record<string, number>; step: number }[];
    previews: ImageBatch[];
    logs: { level: LogLevel; message: string }[];
  };
  /** Cancels the run: the next checkInterrupted() throws. */
  abort(): void;
}

export function fakeContext(folders: Folders, opts: { nodeId?: string; seed?: number; pngInfo?: PngInfo } = {}): FakeContext {
  const controller = new AbortController();
  const calls: FakeContext['calls'] = { progress: [], metrics: [], previews: [], logs: [] };
  return {
    nodeId: opts.nodeId ?? '1',
    promptId: 'test-prompt',
    signal: controller.signal,
    rng: new Rng(opts.seed ?? 0),
    folders,
    pngInfo: opts.pngInfo,
    calls,
    progress: (value, max, text) => void calls.progress.push({ value, max, text }),
    metrics: (values, step) => void calls.metrics.push({ values, step }),
    preview: (image) => void calls.previews.push(image),
    log: (level, message) => void calls.logs.push({ level, message }),
    checkInterrupted() {
      if (controller.signal.aborted) throw new InterruptedError();
    },
    abort: () => controller.abort(),
  };
}
