// Messages between a ProcessExecutor and its execution process (IPC with structured-clone serialization).
import type { ExecutionEvent } from './events.js';
import type { RunSummary } from './executor.js';
import type { Prompt } from './prompt.js';
import type { PortableRunOptions, WorkerSetup } from './worker-protocol.js';

export type ToProcess =
  | { type: 'setup'; setup: WorkerSetup }
  | { type: 'run'; id: number; prompt: Prompt; options: PortableRunOptions }
  | { type: 'abort'; id: number }
  | { type: 'clear-cache' };

export type FromProcess =
  | { type: 'ready' }
  | { type: 'event'; id: number; event: ExecutionEvent }
  | { type: 'done'; id: number; summary: RunSummary }
  | { type: 'failed'; id: number; error: { name: string; message: string; stack?: string } };
