// What route handlers share: the node registry and folders, the queue, the runner, the store and the WebSocket hub.
import type { GraphRunner } from '../runtime/graph/executor.js';
import type { Folders } from '../runtime/graph/node-api.js';
import type { NodeRegistry } from '../runtime/graph/registry.js';
import type { JobRunner } from './job-runner.js';
import type { PromptQueue } from './prompt-queue.js';
import type { JobStore } from './store.js';
import type { WsHub } from './ws-hub.js';

export interface ServerContext {
  registry: NodeRegistry;
  folders: Folders;
  store: JobStore;
  queue: PromptQueue;
  runner: JobRunner;
  executor: GraphRunner;
  hub: WsHub;
  maxUploadBytes: number;
  log: (line: string) => void;
}

/** ComfyUI's GET /prompt body and the status message's payload. */
export function queueInfo(ctx: Pick<ServerContext, 'queue'>): { exec_info: { queue_remaining: number } } {
  return { exec_info: { queue_remaining: ctx.queue.remaining } };
}

/** ComfyUI's server feature flags (GET /features and the WebSocket feature_flags reply). */
export function serverFeatures(ctx: Pick<ServerContext, 'maxUploadBytes'>): Record<string, unknown> {
  return { supports_preview_metadata: true, max_upload_size: ctx.maxUploadBytes };
}
