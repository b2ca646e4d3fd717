// ComfyUI's newer jobs API, mounted under /api: GET /jobs?status=&workflow_id=&sort_by=&sort_order=&limit=&offset=,
// GET /jobs/{id} (with the job's training metrics, a project addition), POST /jobs/{id}/cancel.
import { Router } from 'express';
import type { ServerContext } from '../context.js';
import { HttpError, sendError } from '../http-errors.js';
import { queueItem } from '../job.js';
import { JOB_STATUSES, type JobStatus, type JobSummary, STATUS_ALIASES, historyJobDetail, queueJob, queueJobDetail } from '../jobs-view.js';
import { queryInt, queryString } from '../query.js';

export function jobsRoutes(ctx: ServerContext): Router {
  const r = Router();

  r.get('/jobs', (req, res) => {
    const statusParam = queryString(req, 'status');
    let statuses: Set<JobStatus> | undefined;
    if (statusParam) {
      const asked = statusParam.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      const bad = asked.filter((s) => !(JOB_STATUSES as readonly string[]).includes(s) && !(s in STATUS_ALIASES));
      if (bad.length)
        throw new HttpError(400, 'invalid_parameter', `Invalid status value(s): ${bad.join(', ')}. Valid values: ${[...JOB_STATUSES, ...Object.keys(STATUS_ALIASES)].join(', ')}`);
      statuses = new Set(asked.map((s) => STATUS_ALIASES[s] ?? (s as JobStatus)));
    }
    const sortBy = (queryString(req, 'sort_by') ?? 'created_at').toLowerCase();
    if (sortBy !== 'created_at' && sortBy !== 'execution_duration') throw new HttpError(400, 'invalid_parameter', "sort_by must be 'created_at' or 'execution_duration'");
    const sortOrder = (queryString(req, 'sort_order') ?? 'desc').toLowerCase();
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw new HttpError(400, 'invalid_parameter', "sort_order must be 'asc' or 'desc'");
    const limit = queryInt(req, 'limit', { min: 1 });
    const offset = Math.max(0, queryInt(req, 'offset') ?? 0);
    const workflowId = queryString(req, 'workflow_id');

    const want = (s: JobStatus) => !statuses || statuses.has(s);
    let jobs: JobSummary[] = [];
    const running = ctx.queue.running;
    if (running && want('in_progress')) jobs.push(queueJob(queueItem(running), 'in_progress'));
    if (want('pending')) for (const j of ctx.queue.pendingJobs()) jobs.push(queueJob(queueItem(j), 'pending'));
    const historyStatuses = new Set<JobStatus>((['completed', 'failed', 'cancelled'] as const).filter(want));
    if (historyStatuses.size) jobs.push(...ctx.store.historySummaries(historyStatuses));
    if (workflowId) jobs = jobs.filter((j) => j.workflow_id === workflowId);

    const key =
      sortBy === 'execution_duration'
        ? (j: JobSummary) => (j.execution_start_time && j.execution_end_time ? j.execution_end_time - j.execution_start_time : 0)
        : (j: JobSummary) => j.create_time ?? 0;
    const sign = sortOrder === 'desc' ? -1 : 1;
    jobs.sort((a, b) => sign * (key(a) - key(b)));

    const total = jobs.length;
    const page = jobs.slice(offset, limit === undefined ? undefined : offset + limit);
    res.json({ jobs: page, pagination: { offset, limit: limit ?? null, total, has_more: offset + page.length < total } });
  });

  r.get('/jobs/:id', (req, res) => {
    const id = req.params.id;
    const stored = ctx.store.historyEntry(id);
    if (stored) return void res.json({ ...historyJobDetail(id, stored.entry), training_metrics: stored.metrics ?? {} });
    const current = ctx.runner.current;
    if (current?.job.id === id)
      return void res.json({
        ...queueJobDetail(queueItem(current.job), 'in_progress'),
        current_node: current.node ?? null,
        progress_state: ctx.runner.liveProgress(id) ?? null,
        training_metrics: ctx.runner.liveMetrics(id) ?? {},
      });
    const pending = ctx.queue.pendingJobs().find((j) => j.id === id);
    if (pending) return void res.json({ ...queueJobDetail(queueItem(pending), 'pending'), training_metrics: {} });
    sendError(res, 404, 'not_found', `Job not found: ${id}`);
  });

  r.post('/jobs/:id/cancel', (req, res) => {
    const id = req.params.id;
    const cancelled = ctx.queue.delete([id]) > 0 || ctx.runner.interrupt(id);
    res.json({ cancelled });
  });

  return r;
}
