// What the server speaks that the editor reads beyond the shared modules: HTTP answers and WebSocket messages. The
// shapes the server declares itself (/object_info entries, prompts, workflows, history, node errors) are imported
// from its own files, so there is one definition of each.
import type { NodeErrors } from '../../src/runtime/graph/errors.js';
import type { HistoryEntry } from '../../src/server/history-entry.js';
import type { QueueItem } from '../../src/server/job.js';

export type { HistoryEntry, QueueItem };

// ---- HTTP answers ----

export interface QueuePromptResponse {
  prompt_id: string;
  number: number;
  node_errors: NodeErrors;
}

export interface QueueState {
  queue_running: QueueItem[];
  queue_pending: QueueItem[];
}

/** What POST /upload/image answers. */
export interface UploadResult {
  name: string;
  subfolder?: string;
  type?: string;
}

/** An image in a node's output or a history entry, as /view takes it. */
export interface ImageRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

export type History = Record<string, HistoryEntry>;

// ---- WebSocket messages ----

export interface ExecutionErrorData {
  prompt_id: string;
  node_id: string;
  node_type: string;
  exception_message: string;
  exception_type: string;
  traceback?: string[] | string;
  executed?: string[];
}

export interface TrainingMetricsData {
  prompt_id: string;
  node: string;
  step: number;
  values: Record<string, number>;
}

export interface ServerMessages {
  status: { status: { exec_info: { queue_remaining: number } }; sid?: string };
  execution_start: { prompt_id: string; timestamp?: number };
  execution_cached: { prompt_id: string; nodes: string[] };
  executing: { prompt_id?: string; node: string | null; display_node?: string };
  progress: { prompt_id?: string; node?: string | null; value: number; max: number };
  executed: { prompt_id: string; node: string; display_node?: string; output: Record<string, unknown[]> };
  execution_success: { prompt_id: string; timestamp?: number };
  execution_error: ExecutionErrorData;
  execution_interrupted: { prompt_id: string; node_id?: string; node_type?: string; executed?: string[] };
  training_metrics: TrainingMetricsData;
}
