// ComfyUI's history entry: {prompt: queue item, outputs: {node: ui}, status: {status_str, completed, messages}, meta}.
import type { UiOutput } from '../runtime/graph/node-api.js';
import type { QueueItem } from './job.js';

/** One status message: [event name, data], e.g. ["execution_start", {prompt_id, timestamp}]. */
export type StatusMessage = [string, Record<string, unknown>];

export interface HistoryStatus {
  status_str: 'success' | 'error';
  completed: boolean;
  messages: StatusMessage[];
}

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, UiOutput>;
  status: HistoryStatus;
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

/** How a finished job ended: ComfyUI's status_str ("error" covers interruptions too). */
export type Outcome = 'success' | 'error' | 'interrupted';

export function historyEntry(item: QueueItem, outputs: Record<string, UiOutput>, outcome: Outcome, messages: StatusMessage[]): HistoryEntry {
  // Object.fromEntries defines own properties: node ids may be any string, '__proto__' included.
  const meta: HistoryEntry['meta'] = Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]));
  return {
    prompt: item,
    outputs,
    status: { status_str: outcome === 'success' ? 'success' : 'error', completed: outcome === 'success', messages },
    meta,
  };
}
