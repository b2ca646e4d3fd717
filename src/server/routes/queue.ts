// GET /queue (running and pending items), POST /queue {clear, delete}, POST /interrupt {prompt_id?}, POST /free.
import { Router } from 'express';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http-errors.js';
import { queueItem } from '../job.js';
import { bodyObject } from '../json-body.js';

/** {clear?: boolean, delete?: [id...]} as POST /queue and POST /history take it. */
export function readClearDelete(body: unknown): { clear: boolean; ids: string[] } {
  const b = bodyObject(body);
  let ids: string[] = [];
  if (b.delete !== undefined && b.delete !== null) {
    if (!Array.isArray(b.delete) || !b.delete.every((x) => typeof x === 'string'))
      throw new HttpError(400, 'invalid_body', "'delete' must be a list of prompt ids (strings)");
    ids = b.delete as string[];
  }
  return { clear: !!b.clear, ids };
}

export function queueRoutes(ctx: ServerContext): Router {
  const r = Router();

  r.get('/queue', (_req, res) => {
    const running = ctx.queue.running;
    res.json({ queue_running: running ? [queueItem(running)] : [], queue_pending: ctx.queue.pendingJobs().map(queueItem) });
  });

  r.post('/queue', (req, res) => {
    const { clear, ids } = readClearDelete(req.body);
    if (clear) ctx.queue.clear();
    if (ids.length) ctx.queue.delete(ids);
    res.json({});
  });

  r.post('/interrupt', (req, res) => {
    const b = bodyObject(req.body, true);
    const id = b.prompt_id;
    if (id !== undefined && id !== null && typeof id !== 'string') throw new HttpError(400, 'invalid_body', "'prompt_id' must be a string");
    // Without a prompt_id: whatever runs now (ComfyUI's global interrupt). With one: only if that prompt runs.
    const interrupted = ctx.runner.interrupt(id || undefined);
    if (interrupted) ctx.log(`interrupt requested${id ? ` for prompt ${id}` : ''}`);
    res.json({ interrupted });
  });

  r.post('/free', (req, res) => {
    const b = bodyObject(req.body, true);
    // No model manager here: both flags drop the executor's cached node results (loaded models among them).
    if (b.unload_models || b.free_memory) ctx.executor.clearCache();
    res.json({});
  });

  return r;
}
