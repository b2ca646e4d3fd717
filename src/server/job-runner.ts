// Runs queued jobs one at a time through one executor (its cache lives across jobs), sends each run's messages to
// the client that submitted it, and stores the history entry when the run ends. A failing job (or a throwing
// executor) ends as an error entry; the loop always goes on to the next job.
import type { ExecutionEvent } from '../runtime/graph/events.js';
import type { GraphRunner, RunSummary } from '../runtime/graph/executor.js';
import type { UiOutput } from '../runtime/graph/node-api.js';
import { encodePreview, progressTextFrame } from './binary-frames.js';
import { type Outcome, type StatusMessage, historyEntry } from './history-entry.js';
import { type Job, clientIdOf, queueItem } from './job.js';
import type { PromptQueue } from './prompt-queue.js';
import type { CutOffJob, JobStore, MetricSeries } from './store.js';
import { RunMessages, STATUS_MESSAGE_TYPES, type WireMessage } from './ws-messages.js';
import type { WsHub } from './ws-hub.js';

/** Most metric points kept per node; past it, every other point is dropped (the curve keeps its shape). */
const MAX_METRIC_POINTS = 5000;
/** Previews waiting to be encoded beyond this are skipped: a live view wants the latest, not a backlog. */
const MAX_PREVIEWS_IN_FLIGHT = 2;

interface ActiveRun {
  job: Job;
  abort: AbortController;
  messages: RunMessages;
  /** Per node id (a Map: ids may be any string). */
  metrics: Map<string, MetricSeries[string]>;
  done: Promise<void>;
}

export class JobRunner {
  private active: ActiveRun | undefined;
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  /** Set when the process goes away without finishing the running job (tests simulate a crash with it). */
  private abandoned = false;

  constructor(
    private readonly queue: PromptQueue,
    private readonly store: JobStore,
    private readonly executor: GraphRunner,
    private readonly hub: WsHub,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** The running job and its node, if any. */
  get current(): { job: Job; node: string | undefined } | undefined {
    return this.active && { job: this.active.job, node: this.active.messages.currentNode };
  }

  /** ComfyUI's progress_state payload of the running job (per-node value, max, state). */
  liveProgress(id: string): Record<string, unknown> | undefined {
    return this.active?.job.id === id ? this.active.messages.progressState() : undefined;
  }

  /** Training metrics of the running job so far. */
  liveMetrics(id: string): MetricSeries | undefined {
    return this.active?.job.id === id ? Object.fromEntries(this.active.metrics) : undefined;
  }

  /** Cancels the running job (only if it is `promptId`, when given). Whether a job was cancelled. */
  interrupt(promptId?: string): boolean {
    const a = this.active;
    if (!a || (promptId !== undefined && a.job.id !== promptId)) return false;
    a.abort.abort();
    return true;
  }

  /**
   * Stops taking jobs and cancels the running one. Graceful: waits for it to be stored as interrupted. Abandon:
   * stores nothing more (as if the process died), leaving it to the next start's recovery.
   */
  async close(mode: 'graceful' | 'abandon' = 'graceful'): Promise<void> {
    if (mode === 'abandon') this.abandoned = true;
    this.stop.abort();
    const a = this.active;
    a?.abort.abort();
    await a?.done;
    await this.loop;
  }

  /** Jobs that were running when the process stopped become interrupted history entries. */
  recover(cutOff: CutOffJob[]): void {
    for (const c of cutOff) {
      const node = c.currentNode ?? null;
      const interrupted: StatusMessage = [
        'execution_interrupted',
        { prompt_id: c.job.id, node_id: node, node_type: node ? (c.job.runPrompt[node]?.class_type ?? null) : null, executed: c.executed, timestamp: Date.now() },
      ];
      const messages = c.messages.filter(([t]) => t !== 'execution_interrupted');
      if (!messages.some(([t]) => t === 'execution_start')) messages.unshift(['execution_start', { prompt_id: c.job.id, timestamp: c.startedAt ?? Date.now() }]);
      this.store.finish(c.job.id, historyEntry(queueItem(c.job), c.outputs, 'interrupted', [...messages, interrupted]), undefined);
      this.log(`prompt ${c.job.id} was running when the server stopped: marked interrupted`);
    }
  }

  private async run(): Promise<void> {
    for (;;) {
      let job: Job | undefined;
      try {
        job = await this.queue.take(this.stop.signal);
      } catch (e) {
        // The store could not mark the job running (disk trouble): say so, wait a little, try again.
        this.log(`could not start the next job: ${(e as Error).stack ?? e}`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!job) return;
      let finished!: () => void;
      const done = new Promise<void>((r) => (finished = r));
      this.active = { job, abort: new AbortController(), messages: new RunMessages(job.id), metrics: new Map(), done };
      try {
        await this.execute(this.active);
      } catch (e) {
        // Storing the result failed (disk full, database closed): keep serving; the row stays for recovery.
        this.log(`prompt ${job.id}: could not record the result: ${(e as Error).stack ?? e}`);
      } finally {
        this.active = undefined;
        finished();
        if (!this.abandoned && this.queue.running?.id === job.id) this.queue.finishRunning();
      }
      if (this.abandoned) return;
    }
  }

  private async execute(a: ActiveRun): Promise<void> {
    const { job } = a;
    const sid = clientIdOf(job);
    const started = Date.now();
    const status: StatusMessage[] = [];
    // Maps, turned into objects with Object.fromEntries: node ids may be any string, '__proto__' included.
    const outputs = new Map<string, UiOutput>();
    const executed: string[] = [];
    let currentNode: string | null = null;
    let outbox = Promise.resolve();
    let previewsInFlight = 0;
    this.log(`prompt ${job.id}: started`);

    const save = () => {
      if (!this.abandoned) this.store.saveProgress(job.id, currentNode, executed, Object.fromEntries(outputs), status);
    };
    const deliver = (w: WireMessage) => {
      if (w.kind === 'json') {
        if (STATUS_MESSAGE_TYPES.has(w.type)) status.push([w.type, w.data]);
        outbox = outbox.then(() => this.hub.sendJson(w.type, w.data, sid, w.droppable)).catch((err) => this.log(`prompt ${job.id}: cannot send ${w.type}: ${err}`));
      } else if (w.kind === 'text') {
        outbox = outbox.then(() => this.hub.sendBinary(progressTextFrame(w.node, w.text), sid));
      } else {
        if (!this.hub.hasTarget(sid) || previewsInFlight >= MAX_PREVIEWS_IN_FLIGHT) return;
        previewsInFlight++;
        const encoded = encodePreview(w.image).catch((e) => {
          this.log(`prompt ${job.id}: preview of node ${w.node} could not be encoded: ${(e as Error).message}`);
          return undefined;
        });
        outbox = outbox.then(async () => {
          const jpeg = await encoded;
          previewsInFlight--;
          if (jpeg) this.hub.sendPreview(jpeg, w.promptId, w.node, sid);
        });
      }
    };
    const onEvent = (event: ExecutionEvent) => {
      // ComfyUI sends the run's `executing {node: null}` after storing history: held back until then.
      if (event.type === 'executing' && event.node === null) return;
      // A node's UI output goes into JSON (messages, the database): anything JSON cannot hold is made so here.
      const e = event.type === 'executed' ? { ...event, output: jsonSafe(event.output) } : event;
      if (e.type === 'executing') {
        // The node that ran before this one is done.
        if (currentNode !== null) executed.push(currentNode);
        currentNode = e.node;
      }
      for (const w of a.messages.toWire(e)) deliver(w);
      switch (e.type) {
        case 'executing':
        case 'executed':
        case 'execution_cached':
          if (e.type === 'executed') outputs.set(e.node, e.output);
          save();
          break;
        case 'metrics':
          addMetric(a.metrics, e.node, e.step, e.values);
          break;
        case 'log':
          if (e.level === 'warn' || e.level === 'error') this.log(`prompt ${job.id} node ${e.node} ${e.level}: ${e.message}`);
          break;
      }
    };

    const extra = job.extraData.extra_pnginfo;
    let summary: RunSummary;
    try {
      summary = await this.executor.run(job.runPrompt, {
        promptId: job.id,
        signal: a.abort.signal,
        onEvent,
        outputs: job.outputs,
        pngInfo: { prompt: job.runPrompt, extraPngInfo: extra && typeof extra === 'object' && !Array.isArray(extra) ? (extra as Record<string, unknown>) : undefined },
      });
    } catch (err) {
      // The executor itself failed (a bug, not a node): report it like a node error so the client is not left waiting.
      const e = err instanceof Error ? err : new Error(String(err));
      onEvent({
        type: 'execution_error', promptId: job.id, timestamp: Date.now(), node: currentNode ?? '', nodeType: currentNode ? (job.runPrompt[currentNode]?.class_type ?? '') : '',
        message: e.message, exceptionType: e.name, traceback: (e.stack ?? '').split('\n').slice(1).map((l) => `${l}\n`), executed: [...executed], currentInputs: {},
      });
      summary = { status: 'error', outputs: Object.fromEntries(outputs), executed: [...executed], cached: [] };
    }
    await outbox.catch((e) => this.log(`prompt ${job.id}: sending messages failed: ${e}`));
    if (this.abandoned) return;

    const outcome: Outcome = summary.status;
    // `outputs` holds what `executed` carried (made JSON-safe), the executor's summary.outputs as clients saw them.
    this.store.finish(job.id, historyEntry(queueItem(job), Object.fromEntries(outputs), outcome, status), Object.fromEntries(a.metrics));
    this.queue.finishRunning();
    this.hub.sendJson('executing', { node: null, prompt_id: job.id }, sid);
    this.log(`prompt ${job.id}: ${outcome} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  }
}

/** `v` as JSON would carry it: bigints as strings, values JSON cannot encode (cycles) replaced by a note. */
function jsonSafe<T>(v: T): T {
  try {
    return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))) as T;
  } catch (e) {
    return { error: [`output not representable as JSON: ${(e as Error).message}`] } as T;
  }
}

function addMetric(series: Map<string, MetricSeries[string]>, node: string, step: number, values: Record<string, number>): void {
  let points = series.get(node);
  if (!points) series.set(node, (points = []));
  points.push({ step, values: { ...values } });
  if (points.length > MAX_METRIC_POINTS) series.set(node, points.filter((_, i) => i % 2 === 0 || i === points.length - 1));
}
