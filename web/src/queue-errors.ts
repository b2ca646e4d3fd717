// A prompt the server refused (ComfyUI's {error, node_errors}): the message, and each failing node marked with its
// errors.
import type { LGraph } from '@comfyorg/litegraph';
import { ApiError } from './api.js';
import type { LiveState } from './live.js';
import { toast } from './toast.js';

export function showQueueError(e: unknown, graph: LGraph, live: LiveState): void {
  if (!(e instanceof ApiError)) {
    toast(`Could not queue: ${(e as Error).message}`, 'error');
    return;
  }
  const body = e.body as { node_errors?: Record<string, { errors?: { message?: string; details?: string }[]; class_type?: string }> } | undefined;
  const lines: string[] = [];
  for (const [id, ne] of Object.entries(body?.node_errors ?? {})) {
    const messages = (ne.errors ?? []).map((x) => [x.message, x.details].filter(Boolean).join(': '));
    lines.push(`#${id} ${ne.class_type ?? ''}: ${messages.join('; ')}`);
    const node = graph.getNodeById(id);
    if (node) node.has_errors = true;
    live.ensure(id).error = { type: 'invalid input', message: messages.join('\n') };
  }
  toast(`Prompt refused: ${e.message}`, 'error', lines.join('\n') || undefined);
}
