// Messages between a WorkerExecutor (the caller's thread) and its executor worker thread.
import type { RunOptions } from './executor.js';
import type { Folders } from './node-api.js';
import type { Prompt } from './prompt.js';

/** Where the worker finds its nodes: a module and its exported factory, called without arguments. */
export interface RegistryModule {
  url: string;
  exportName: string;
}

export interface WorkerSetup {
  registry: RegistryModule;
  folders: Folders;
  cacheSize?: number;
  /**
   * A file descriptor the worker writes each running node to (JSON lines [promptId, node id]), synchronously, before the
   * node runs: a parent process reads it to name the node when a native crash ends the process before the
   * 'executing' event could cross (ProcessExecutor).
   */
  traceFd?: number;
}

/** RunOptions that cross the thread boundary (the signal and the callbacks stay on the caller's side). */
export type PortableRunOptions = Omit<RunOptions, 'signal' | 'onEvent' | 'pollCancel'>;

export type ToWorker =
  /** `abort[0]` turns 1 when the caller cancels: the worker reads it even when it has no time to read messages. */
  | { type: 'run'; id: number; prompt: Prompt; options: PortableRunOptions; abort: Int32Array }
  | { type: 'abort'; id: number }
  | { type: 'clear-cache' };

export type { FromRemote as FromWorker } from './remote-executor.js';
