// Runs prompts in a worker thread. onnxruntime-node runs a session on the thread that calls it, so a UNet step or a
// session build holds that thread's event loop for as long as it takes: in a server, every request would wait behind
// it. In a worker, the caller's thread only relays events. Same surface as Executor; one prompt at a time. A worker
// that dies (a native crash, out of memory) fails the running prompt with the reason, and the next run starts a new
// one (with an empty cache).
import { Worker } from 'node:worker_threads';
import type { ExecutionEvent } from './events.js';
import type { GraphRunner, RunOptions, RunSummary } from './executor.js';
import type { Prompt } from './prompt.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';

const BOOT = new URL('./worker-boot.js', import.meta.url);

interface ActiveRun {
  id: number;
  resolve: (s: RunSummary) => void;
  reject: (e: Error) => void;
  onEvent?: (e: ExecutionEvent) => void;
}

export class WorkerExecutor implements GraphRunner {
  private worker: Worker | undefined;
  /** Set from the moment run() is called (before it waits for the worker) until it settles. */
  private busy = false;
  private closed = false;
  private active: ActiveRun | undefined;
  private nextId = 1;
  /** Resolves when the current worker has built its registry (rejects if it could not). */
  private ready: Promise<void> | undefined;
  /** Fails the current worker's pending readiness and run, once, when it goes away. */
  private fail: ((why: Error) => void) | undefined;

  constructor(private readonly setup: WorkerSetup) {
    // Started now, so that loading the nodes (onnxruntime, sharp) is done before the first prompt arrives.
    this.start();
  }

  async run(prompt: Prompt, o: RunOptions): Promise<RunSummary> {
    if (this.closed) throw new Error('the worker executor is closed');
    if (this.busy) throw new Error('WorkerExecutor runs one prompt at a time');
    this.busy = true;
    const abort = new Int32Array(new SharedArrayBuffer(4));
    const id = this.nextId++;
    let worker: Worker | undefined;
    const onAbort = () => {
      Atomics.store(abort, 0, 1);
      worker?.postMessage({ type: 'abort', id } satisfies ToWorker);
    };
    try {
      worker = this.start();
      await this.ready;
      const w = worker;
      // It may have died after becoming ready, while no run was there to fail.
      if (this.worker !== w) throw new Error('the execution worker exited before the run could start');
      return await new Promise<RunSummary>((resolve, reject) => {
        this.active = { id, resolve, reject, onEvent: o.onEvent };
        const { signal, onEvent: _listener, pollCancel: _poll, ...options } = o;
        w.postMessage({ type: 'run', id, prompt, options, abort } satisfies ToWorker);
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
    this.worker?.postMessage({ type: 'clear-cache' } satisfies ToWorker);
  }

  /** Ends the worker; a running prompt fails with "closed" (callers that want it stored as interrupted cancel first). */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    this.fail?.(new Error('the worker executor was closed'));
    await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(BOOT, { workerData: this.setup });
    this.worker = worker;
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
    // Nobody may be waiting yet; the rejection is seen by the next run.
    this.ready.catch(() => undefined);
    const gone = (why: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail = undefined;
      failReady(why);
      this.active?.reject(why);
    };
    this.fail = gone;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') return markReady();
      const a = this.active;
      if (!a || a.id !== m.id) return;
      if (m.type === 'event') {
        try {
          a.onEvent?.(m.event);
        } catch (err) {
          console.error(`worker executor: event listener threw on ${m.event.type}:`, err);
        }
      } else if (m.type === 'done') a.resolve(m.summary);
      else a.reject(Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack }));
    });
    worker.on('error', (e) => gone(new Error(`the execution worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => gone(new Error(`the execution worker exited (code ${code})`)));
    return worker;
  }
}
