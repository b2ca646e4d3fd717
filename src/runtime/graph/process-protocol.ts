// Messages between a ProcessExecutor and its execution process (IPC with structured-clone serialization).
import type { Prompt } from './prompt.js';
import type { PortableRunOptions, WorkerSetup } from './worker-protocol.js';

export type ToProcess =
  | { type: 'setup'; setup: WorkerSetup }
  | { type: 'run'; id: number; prompt: Prompt; options: PortableRunOptions }
  | { type: 'abort'; id: number }
  | { type: 'clear-cache' };

/** The process answers as a worker thread does (remote-executor.ts). */
export type { FromRemote as FromProcess } from './remote-executor.js';
