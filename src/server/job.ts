// A queued prompt, as ComfyUI keeps it: [number, prompt_id, prompt, extra_data, outputs_to_execute].
import type { Prompt } from '../runtime/graph/prompt.js';

export interface Job {
  id: string;
  /** Priority: lower runs first (ComfyUI's `number`; `front` makes it negative). */
  number: number;
  /** Submission order, which breaks ties between equal numbers. */
  seq: number;
  /** The prompt as submitted (what /queue and /history show). */
  prompt: unknown;
  /** extra_data: client_id, extra_pnginfo, create_time (ms)... */
  extraData: Record<string, unknown>;
  /** Output node ids to execute (validation's good outputs). */
  outputs: string[];
  /** The validated prompt that runs (literals coerced, defaults filled). */
  runPrompt: Prompt;
}

/** ComfyUI's 5-element queue item. */
export type QueueItem = [number, string, unknown, Record<string, unknown>, string[]];

export function queueItem(job: Job): QueueItem {
  return [job.number, job.id, job.prompt, job.extraData, job.outputs];
}

/** The client that submitted the job (extra_data.client_id), whom its messages go to. */
export function clientIdOf(job: Job): string | undefined {
  const c = job.extraData.client_id;
  return typeof c === 'string' && c !== '' ? c : undefined;
}

/** Queue order: by number, then by submission. */
export function compareJobs(a: Job, b: Job): number {
  return a.number - b.number || a.seq - b.seq;
}
