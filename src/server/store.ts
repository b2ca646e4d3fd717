// The queue and history on disk (SQLite through better-sqlite3), so a restart loses no finished result and no queued
// prompt. The running job's row keeps its progress (current node, outputs so far, status messages), so a job cut off
// by a crash becomes an "interrupted" history entry at the next start with what it had produced.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { UiOutput } from '../runtime/graph/node-api.js';
import type { Prompt } from '../runtime/graph/prompt.js';
import type { HistoryEntry, StatusMessage } from './history-entry.js';
import type { Job } from './job.js';
import { type JobStatus, type JobSummary, historyJob } from './jobs-view.js';

/** ComfyUI's MAXIMUM_HISTORY_SIZE. */
export const MAX_HISTORY = 10_000;

/** A job that was running when the process stopped, with what it had done. */
export interface CutOffJob {
  job: Job;
  startedAt: number | undefined;
  currentNode: string | undefined;
  executed: string[];
  outputs: Record<string, UiOutput>;
  messages: StatusMessage[];
}

/** Per-node training metrics of a job: node id -> points in step order. */
export type MetricSeries = Record<string, { step: number; values: Record<string, number> }[]>;

interface QueueRow {
  id: string;
  seq: number;
  number: number;
  prompt: string;
  extra_data: string;
  outputs_to_execute: string;
  run_prompt: string;
  state: 'pending' | 'running';
  started: number | null;
  current_node: string | null;
  executed: string | null;
  outputs: string | null;
  messages: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  number REAL NOT NULL,
  prompt TEXT NOT NULL,
  extra_data TEXT NOT NULL,
  outputs_to_execute TEXT NOT NULL,
  run_prompt TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  started INTEGER,
  current_node TEXT,
  executed TEXT,
  outputs TEXT,
  messages TEXT
);
CREATE TABLE IF NOT EXISTS history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  summary TEXT NOT NULL,
  entry TEXT NOT NULL,
  metrics TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class JobStore {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(
    file: string,
    private readonly maxHistory = MAX_HISTORY,
  ) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertJob: db.prepare(
        'INSERT INTO queue (id, seq, number, prompt, extra_data, outputs_to_execute, run_prompt) VALUES (@id, @seq, @number, @prompt, @extra_data, @outputs_to_execute, @run_prompt)',
      ),
      allQueue: db.prepare<[], QueueRow>('SELECT * FROM queue ORDER BY number, seq'),
      deleteJob: db.prepare('DELETE FROM queue WHERE id = ?'),
      deletePending: db.prepare("DELETE FROM queue WHERE id = ? AND state = 'pending'"),
      clearPending: db.prepare("DELETE FROM queue WHERE state = 'pending'"),
      markRunning: db.prepare("UPDATE queue SET state = 'running', started = ?, messages = '[]', outputs = '{}', executed = '[]' WHERE id = ?"),
      setProgress: db.prepare('UPDATE queue SET current_node = ?, executed = ?, outputs = ?, messages = ? WHERE id = ?'),
      deleteHistoryId: db.prepare('DELETE FROM history WHERE id = ?'),
      insertHistory: db.prepare('INSERT INTO history (id, status, summary, entry, metrics) VALUES (?, ?, ?, ?, ?)'),
      trimHistory: db.prepare('DELETE FROM history WHERE seq <= (SELECT seq FROM history ORDER BY seq DESC LIMIT 1 OFFSET ?)'),
      historyCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM history'),
      historyPage: db.prepare<[number, number], { id: string; entry: string }>('SELECT id, entry FROM history ORDER BY seq LIMIT ? OFFSET ?'),
      historyOne: db.prepare<[string], { entry: string; metrics: string | null }>('SELECT entry, metrics FROM history WHERE id = ?'),
      historySummaries: db.prepare<[], { summary: string }>('SELECT summary FROM history ORDER BY seq'),
      clearHistory: db.prepare('DELETE FROM history'),
      maxNumber: db.prepare<[], { n: number | null }>('SELECT MAX(number) AS n FROM queue'),
      maxSeq: db.prepare<[], { n: number | null }>('SELECT MAX(seq) AS n FROM queue'),
    };
  }

  /** ComfyUI's `self.number`: the next default priority, kept across restarts so new prompts queue after old ones. */
  takeNumber(): number {
    const stored = Number(this.stmt.getMeta.get('next_number')?.value ?? 0);
    const queued = this.stmt.maxNumber.get()?.n;
    const n = Math.max(Number.isFinite(stored) ? stored : 0, queued !== null && queued !== undefined ? Math.floor(queued) + 1 : 0);
    this.stmt.setMeta.run('next_number', String(n + 1));
    return n;
  }

  /** The next submission sequence number. */
  takeSeq(): number {
    const stored = Number(this.stmt.getMeta.get('next_seq')?.value ?? 0);
    const queued = this.stmt.maxSeq.get()?.n ?? -1;
    const n = Math.max(Number.isFinite(stored) ? stored : 0, queued + 1);
    this.stmt.setMeta.run('next_seq', String(n + 1));
    return n;
  }

  addJob(job: Job): void {
    this.stmt.insertJob.run({
      id: job.id,
      seq: job.seq,
      number: job.number,
      prompt: JSON.stringify(job.prompt),
      extra_data: JSON.stringify(job.extraData),
      outputs_to_execute: JSON.stringify(job.outputs),
      run_prompt: JSON.stringify(job.runPrompt),
    });
  }

  markRunning(id: string, startedAt: number): void {
    this.stmt.markRunning.run(startedAt, id);
  }

  saveProgress(id: string, currentNode: string | null, executed: string[], outputs: Record<string, UiOutput>, messages: StatusMessage[]): void {
    this.stmt.setProgress.run(currentNode, JSON.stringify(executed), JSON.stringify(outputs), JSON.stringify(messages), id);
  }

  deletePending(id: string): boolean {
    return this.stmt.deletePending.run(id).changes > 0;
  }

  clearPending(): void {
    this.stmt.clearPending.run();
  }

  /** Pending jobs in queue order, and the jobs that were running when the process stopped. */
  loadQueue(): { pending: Job[]; cutOff: CutOffJob[] } {
    const pending: Job[] = [];
    const cutOff: CutOffJob[] = [];
    for (const row of this.stmt.allQueue.all()) {
      const job: Job = {
        id: row.id,
        seq: row.seq,
        number: row.number,
        prompt: JSON.parse(row.prompt),
        extraData: JSON.parse(row.extra_data),
        outputs: JSON.parse(row.outputs_to_execute),
        runPrompt: JSON.parse(row.run_prompt) as Prompt,
      };
      if (row.state === 'pending') pending.push(job);
      else
        cutOff.push({
          job,
          startedAt: row.started ?? undefined,
          currentNode: row.current_node ?? undefined,
          executed: row.executed ? JSON.parse(row.executed) : [],
          outputs: row.outputs ? JSON.parse(row.outputs) : {},
          messages: row.messages ? JSON.parse(row.messages) : [],
        });
    }
    return { pending, cutOff };
  }

  /** Moves a job from the queue to the history (replacing an older entry of the same id), keeping MAX_HISTORY. */
  finish(id: string, entry: HistoryEntry, metrics: MetricSeries | undefined): void {
    const summary = historyJob(id, entry);
    this.db.transaction(() => {
      this.stmt.deleteJob.run(id);
      this.stmt.deleteHistoryId.run(id);
      this.stmt.insertHistory.run(id, summary.status, JSON.stringify(summary), JSON.stringify(entry), metrics && Object.keys(metrics).length ? JSON.stringify(metrics) : null);
      this.stmt.trimHistory.run(this.maxHistory);
    })();
  }

  historySize(): number {
    return this.stmt.historyCount.get()!.n;
  }

  /** Entries oldest first, `limit` of them from `offset`. */
  historyPage(offset: number, limit: number): [string, HistoryEntry][] {
    return this.stmt.historyPage.all(limit, offset).map((r) => [r.id, JSON.parse(r.entry) as HistoryEntry]);
  }

  historyEntry(id: string): { entry: HistoryEntry; metrics: MetricSeries | undefined } | undefined {
    const row = this.stmt.historyOne.get(id);
    return row ? { entry: JSON.parse(row.entry) as HistoryEntry, metrics: row.metrics ? (JSON.parse(row.metrics) as MetricSeries) : undefined } : undefined;
  }

  /** Every history job's summary, oldest first, optionally only some statuses. */
  historySummaries(statuses?: ReadonlySet<JobStatus>): JobSummary[] {
    const out: JobSummary[] = [];
    for (const r of this.stmt.historySummaries.all()) {
      const s = JSON.parse(r.summary) as JobSummary;
      if (!statuses || statuses.has(s.status)) out.push(s);
    }
    return out;
  }

  deleteHistory(id: string): void {
    this.stmt.deleteHistoryId.run(id);
  }

  clearHistory(): void {
    this.stmt.clearHistory.run();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
