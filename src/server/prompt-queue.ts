// The jobs waiting to run, in priority order, and the one running; every change is written through to the store and
// announced (the WebSocket status message). One job runs at a time.
import { type Job, compareJobs } from './job.js';
import type { JobStore } from './store.js';

export class PromptQueue {
  private pending: Job[] = [];
  private runningJob: Job | undefined;
  private waiters: (() => void)[] = [];
  private listeners: (() => void)[] = [];

  constructor(private readonly store: JobStore) {}

  /** Called after every change (a job added, started, finished, deleted). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Jobs from the store at startup (no announcement). */
  restore(jobs: Job[]): void {
    this.pending.push(...jobs);
    this.pending.sort(compareJobs);
    this.wake();
  }

  put(job: Job): void {
    this.store.addJob(job);
    const at = this.pending.findIndex((j) => compareJobs(job, j) < 0);
    if (at < 0) this.pending.push(job);
    else this.pending.splice(at, 0, job);
    this.changed();
    this.wake();
  }

  get running(): Job | undefined {
    return this.runningJob;
  }

  pendingJobs(): readonly Job[] {
    return this.pending;
  }

  /** Pending plus running (ComfyUI's queue_remaining). */
  get remaining(): number {
    return this.pending.length + (this.runningJob ? 1 : 0);
  }

  has(id: string): boolean {
    return this.runningJob?.id === id || this.pending.some((j) => j.id === id);
  }

  /** The next job, marked running; waits while the queue is empty. Resolves undefined once `stop` is signalled. */
  async take(stop: AbortSignal): Promise<Job | undefined> {
    while (this.pending.length === 0) {
      if (stop.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          stop.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        stop.addEventListener('abort', done, { once: true });
      });
    }
    if (stop.aborted) return undefined;
    const job = this.pending[0];
    // On disk first: if that fails, the job is still pending, in memory as on disk.
    this.store.markRunning(job.id, Date.now());
    this.pending.shift();
    this.runningJob = job;
    this.changed();
    return job;
  }

  /** The running job is over (its history entry is already stored). */
  finishRunning(): void {
    this.runningJob = undefined;
    this.changed();
  }

  /** Removes pending jobs by id (a running job is not touched: interrupt it instead). */
  delete(ids: readonly string[]): number {
    const drop = new Set(ids);
    const before = this.pending.length;
    this.pending = this.pending.filter((j) => {
      if (!drop.has(j.id)) return true;
      this.store.deletePending(j.id);
      return false;
    });
    const removed = before - this.pending.length;
    if (removed > 0) this.changed();
    return removed;
  }

  clear(): void {
    if (this.pending.length === 0) return;
    this.pending = [];
    this.store.clearPending();
    this.changed();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        console.error('queue listener failed:', e);
      }
    }
  }
}
