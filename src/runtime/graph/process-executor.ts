// Runs prompts in a child process, so that a native crash in a node (a segmentation fault in a GPU provider, an
// out-of-memory kill) ends only the run: a worker thread shares its process, and such a crash would take the server
// with it. The child hosts a WorkerExecutor (process-host.ts), so cancelling reaches a node busy in native calls as
// it does in a worker. Same surface as WorkerExecutor; one prompt at a time. When the process dies, the running
// prompt fails with the signal or exit code, and the next run starts a new process (with an empty cache).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionEvent } from './events.js';
import type { GraphRunner, RunOptions, RunSummary } from './executor.js';
import type { FromProcess, ToProcess } from './process-protocol.js';
import type { Prompt } from './prompt.js';
import type { WorkerSetup } from './worker-protocol.js';

const BOOT = fileURLToPath(new URL('./process-host-boot.js', import.meta.url));

interface ActiveRun {
  id: number;
  promptId: string;
  /** The node the parent last told the caller about, and the one the process last said it runs (the trace pipe). */
  reported?: string;
  traced?: string;
  resolve: (s: RunSummary) => void;
  reject: (e: Error) => void;
  onEvent?: (e: ExecutionEvent) => void;
}

/** Why a process ended, in words: "killed by SIGSEGV (a native crash)". */
export function endOfProcess(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGSEGV' || signal === 'SIGBUS' || signal === 'SIGILL' || signal === 'SIGABRT' || signal === 'SIGFPE') return `was killed by ${signal} (a native crash)`;
  if (signal === 'SIGKILL') return 'was killed by SIGKILL (out of memory, or killed from outside)';
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code}`;
}

export class ProcessExecutor implements GraphRunner {
  private child: ChildProcess | undefined;
  private busy = false;
  private closed = false;
  private active: ActiveRun | undefined;
  private nextId = 1;
  private ready: Promise<void> | undefined;
  private fail: ((why: Error) => void) | undefined;

  constructor(private readonly setup: WorkerSetup) {
    // Started now: loading the nodes (onnxruntime, sharp) is done before the first prompt arrives.
    this.start();
  }

  async run(prompt: Prompt, o: RunOptions): Promise<RunSummary> {
    if (this.closed) throw new Error('the process executor is closed');
    if (this.busy) throw new Error('ProcessExecutor runs one prompt at a time');
    this.busy = true;
    const id = this.nextId++;
    let child: ChildProcess | undefined;
    const onAbort = () => this.send(child, { type: 'abort', id });
    try {
      child = this.start();
      await this.ready;
      const c = child;
      if (this.child !== c) throw new Error('the execution process ended before the run could start');
      return await new Promise<RunSummary>((resolve, reject) => {
        this.active = { id, promptId: o.promptId, resolve, reject, onEvent: o.onEvent };
        const { signal, onEvent: _listener, pollCancel: _poll, ...options } = o;
        this.send(c, { type: 'run', id, prompt, options });
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
    this.send(this.child, { type: 'clear-cache' });
  }

  /** Ends the process; a running prompt fails with "closed". */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.child;
    if (!c) return;
    this.fail?.(new Error('the process executor was closed'));
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await gone;
  }

  private send(c: ChildProcess | undefined, m: ToProcess): void {
    if (c?.connected) c.send(m);
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    // No inherited flags (a parent under `node --test` passes its own); the boot module loads TypeScript itself.
    // fd 4: the trace pipe, where the process names each node synchronously before running it.
    const child = fork(BOOT, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] });
    this.child = child;
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
    this.ready.catch(() => undefined);
    let traceText = '';
    const trace = child.stdio[4] as NodeJS.ReadableStream;
    trace.setEncoding('utf8');
    trace.on('data', (chunk: string) => {
      const lines = (traceText + chunk).split('\n');
      traceText = lines.pop()!;
      for (const line of lines) {
        const [promptId, node] = JSON.parse(line) as [string, string];
        if (this.active?.promptId === promptId) this.active.traced = node;
      }
    });
    const gone = (why: Error) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.fail = undefined;
      failReady(why);
      const a = this.active;
      // The crash may have come before the node's 'executing' event crossed: tell the caller which node it was.
      if (a?.traced !== undefined && a.traced !== a.reported) a.onEvent?.({ type: 'executing', promptId: a.promptId, node: a.traced });
      a?.reject(why);
    };
    this.fail = gone;
    child.on('message', (m: FromProcess) => {
      if (m.type === 'ready') return markReady();
      const a = this.active;
      if (!a || a.id !== m.id) return;
      if (m.type === 'event') {
        if (m.event.type === 'executing' && m.event.node !== null) a.reported = m.event.node;
        try {
          a.onEvent?.(m.event);
        } catch (err) {
          console.error(`process executor: event listener threw on ${m.event.type}:`, err);
        }
      } else if (m.type === 'done') a.resolve(m.summary);
      else a.reject(Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack }));
    });
    child.on('error', (e) => gone(new Error(`the execution process failed: ${e.message}`, { cause: e })));
    // 'close': after the process exited and its pipes are drained, so the trace's last line has been read.
    child.on('close', (code, signal) => gone(new Error(`the execution process ${endOfProcess(code, signal)}`)));
    child.send({ type: 'setup', setup: this.setup } satisfies ToProcess);
    return child;
  }
}
