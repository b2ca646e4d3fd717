// Jobs in the shape of ComfyUI's newer /api/jobs (comfy_execution/jobs.py): one record per prompt whatever its state.
import type { HistoryEntry } from './history-entry.js';
import type { QueueItem } from './job.js';

export const JOB_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Our names for the same states, accepted in ?status= too. */
export const STATUS_ALIASES: Record<string, JobStatus> = { running: 'in_progress', interrupted: 'cancelled', success: 'completed', error: 'failed' };

export interface JobSummary {
  id: string;
  status: JobStatus;
  priority: number;
  create_time?: number;
  execution_start_time?: number;
  execution_end_time?: number;
  execution_error?: Record<string, unknown>;
  outputs_count: number;
  previewable_outputs_count: number;
  preview_output?: Record<string, unknown>;
  workflow_id?: string;
}

const PREVIEWABLE = new Set(['images', 'video', 'audio', '3d', 'text']);

function workflowIdOf(extra: Record<string, unknown>): string | undefined {
  const info = extra.extra_pnginfo as { workflow?: { id?: unknown } } | undefined;
  const id = info && typeof info === 'object' ? info.workflow?.id : undefined;
  return typeof id === 'string' ? id : undefined;
}

function createTimeOf(extra: Record<string, unknown>): number | undefined {
  return typeof extra.create_time === 'number' ? extra.create_time : undefined;
}

function prune<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

export function queueJob(item: QueueItem, status: 'pending' | 'in_progress'): JobSummary {
  const [priority, id, , extra] = item;
  return prune({
    id,
    status,
    priority,
    create_time: createTimeOf(extra),
    outputs_count: 0,
    previewable_outputs_count: 0,
    workflow_id: workflowIdOf(extra),
  });
}

export function historyJob(id: string, entry: HistoryEntry): JobSummary {
  const [priority, , , extra] = entry.prompt;
  let start: number | undefined;
  let end: number | undefined;
  let error: Record<string, unknown> | undefined;
  let interrupted = false;
  for (const [event, data] of entry.status.messages) {
    if (event === 'execution_start') start = data.timestamp as number;
    else if (event === 'execution_success' || event === 'execution_error' || event === 'execution_interrupted') {
      end = data.timestamp as number;
      if (event === 'execution_error') error = data;
      if (event === 'execution_interrupted') interrupted = true;
    }
  }
  const status: JobStatus = entry.status.status_str === 'success' ? 'completed' : interrupted ? 'cancelled' : 'failed';
  let count = 0;
  let previewable = 0;
  let preview: Record<string, unknown> | undefined;
  let fallback: Record<string, unknown> | undefined;
  for (const [nodeId, ui] of Object.entries(entry.outputs)) {
    for (const [mediaType, items] of Object.entries(ui ?? {})) {
      if (mediaType === 'animated' || !Array.isArray(items)) continue;
      for (const item of items) {
        if (!item || typeof item !== 'object') continue;
        count++;
        if (!PREVIEWABLE.has(mediaType)) continue;
        previewable++;
        const enriched = { ...(item as Record<string, unknown>), nodeId, mediaType };
        if ((item as { type?: unknown }).type === 'output') preview ??= enriched;
        else fallback ??= enriched;
      }
    }
  }
  return prune({
    id,
    status,
    priority,
    create_time: createTimeOf(extra),
    execution_start_time: start,
    execution_end_time: end,
    execution_error: error,
    outputs_count: count,
    previewable_outputs_count: previewable,
    preview_output: preview ?? fallback,
    workflow_id: workflowIdOf(extra),
  });
}

/** A job's full record (GET /api/jobs/{id}): the summary plus outputs, status and the prompt it ran. */
export function historyJobDetail(id: string, entry: HistoryEntry): Record<string, unknown> {
  const [, , prompt, extra] = entry.prompt;
  return { ...historyJob(id, entry), outputs: entry.outputs, execution_status: entry.status, workflow: { prompt, extra_data: extra } };
}

export function queueJobDetail(item: QueueItem, status: 'pending' | 'in_progress'): Record<string, unknown> {
  const [, , prompt, extra] = item;
  return { ...queueJob(item, status), workflow: { prompt, extra_data: extra } };
}
