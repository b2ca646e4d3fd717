// What WorkerExecutor (a worker thread) and ProcessExecutor (a child process) share: one prompt at a time sent to an
// executor elsewhere, its events relayed back, the remote started ahead of the first prompt and again after it ends,
// and a remote that goes away (a crash, out of memory) failing the running prompt with the reason.
import type { ExecutionEvent } from './events.js';
import type { GraphRunner, RunOptions, RunSummary } from './executor.js';
import type { Prompt } from './prompt.js';
import type { PortableRunOptions } from './worker-protocol.js';

/** What a remote executor sends back (the worker thread's and the execution process's messages alike). */
export type FromRemote =
  | { type: 'ready' }
  | { type: 'event'; id: number; event: ExecutionEvent }
  | { type: 'done'; id: number; summary: RunSummary }
  | { type: 'failed'; id: number; error: { name: string; message: string; stack?: string } };

export interface ActiveRun {
  id: number;
  promptId: string;
  resolve: (s: RunSummary) => void;
  reject: (e: Error) => void;
  onEvent?: (e: ExecutionEvent) => void;
}

/** A started remote: how to reach it. Its owner reports messages and its end through `message` and `gone`. */
export interface Remote {
  /** Starts `id` (its cancellation flag, where the remote can read shared memory, is `abort`). */
  run(id: number, prompt: Prompt, options: PortableRunOptions, abort: Int32Array): void;
  abort(id: number): void;
  clearCache(): void;
  stop(): Promise<void>;
}

export abstract class RemoteExecutor implements GraphRunner {
  private remote: Remote | undefined;
  /** Set from the moment run() is called (before it waits for the remote) until it settles. */
  private busy = false;
  private closed = false;
  protected active: ActiveRun | undefined;
  private nextId = 1;
  /** Resolves when the current remote has built its registry (rejects if it could not). */
  private ready: Promise<void> | undefined;
  /** Fails the current remote's pending readiness and run, once, when it goes away. */
  private fail: ((why: Error) => void) | undefined;

  /** What the remote is, in errors ("execution worker", "execution process"). */
  protected abstract readonly kind: string;
  /** Starts a remote; it must report through `message` and, once, `gone`. */
  protected abstract open(message: (m: FromRemote) => void, gone: (why: Error) => void): Remote;
  /** Called with the running prompt when its remote goes away, before the prompt fails. */
  protected onGone(_active: ActiveRun): void {}

  async run(prompt: Prompt, o: RunOptions): Promise<RunSummary> {
    if (this.closed) throw new Error(`the ${this.kind} executor is closed`);
    if (this.busy) throw new Error(`the ${this.kind} runs one prompt at a time`);
    this.busy = true;
    const abort = new Int32Array(new SharedArrayBuffer(4));
    const id = this.nextId++;
    let remote: Remote | undefined;
    const onAbort = () => {
      Atomics.store(abort, 0, 1);
      remote?.abort(id);
    };
    try {
      remote = this.start();
      await this.ready;
      const r = remote;
      // It may have gone after becoming ready, while no run was there to fail.
      if (this.remote !== r) throw new Error(`the ${this.kind} ended before the run could start`);
      return await new Promise<RunSummary>((resolve, reject) => {
        this.active = { id, promptId: o.promptId, resolve, reject, onEvent: o.onEvent };
        const { signal, onEvent: _listener, pollCancel: _poll, ...options } = o;
        r.run(id, prompt, options, abort);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      this.active = undefined;
      this.busy = false;
    }
  }

  clearCache(): void {
    this.remote?.clearCache();
  }

  /** Ends the remote; a running prompt fails with "closed" (callers that want it stored as interrupted cancel first). */
  async close(): Promise<void> {
    this.closed = true;
    const r = this.remote;
    if (!r) return;
    this.fail?.(new Error(`the ${this.kind} executor was closed`));
    await r.stop();
  }

  /** Starts the remote ahead of the first prompt (loading the nodes, onnxruntime and sharp, takes a while). */
  protected start(): Remote {
    if (this.remote) return this.remote;
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
    // Nobody may be waiting yet; the rejection is seen by the next run.
    this.ready.catch(() => undefined);
    let remote: Remote | undefined;
    let ended = false;
    const gone = (why: Error) => {
      // Once per remote, and only for the current one (a stale one's end concerns no run of the new one).
      if (ended) return;
      ended = true;
      if (this.remote !== remote) return;
      this.remote = undefined;
      this.fail = undefined;
      failReady(why);
      const a = this.active;
      if (a) {
        this.onGone(a);
        a.reject(why);
      }
    };
    const message = (m: FromRemote) => {
      if (m.type === 'ready') return markReady();
      const a = this.active;
      if (!a || a.id !== m.id) return;
      if (m.type === 'event') {
        try {
          a.onEvent?.(m.event);
        } catch (err) {
          console.error(`${this.kind}: event listener threw on ${m.event.type}:`, err);
        }
      } else if (m.type === 'done') a.resolve(m.summary);
      else a.reject(Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack }));
    };
    remote = this.open(message, gone);
    this.remote = remote;
    this.fail = gone;
    return remote;
  }
}
