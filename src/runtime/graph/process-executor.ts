// Runs prompts in a child process, so that a native crash in a node (a segmentation fault in a GPU provider, an
// out-of-memory kill) ends only the run: a worker thread shares its process, and such a crash would take the server
// with it. The child hosts a WorkerExecutor (process-host.ts), so cancelling reaches a node busy in native calls as
// it does in a worker. Same surface as WorkerExecutor; one prompt at a time. When the process dies, the running
// prompt fails with the signal or exit code, and the next run starts a new process (with an empty cache).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ToProcess } from './process-protocol.js';
import { type ActiveRun, type FromRemote, type Remote, RemoteExecutor } from './remote-executor.js';
import type { WorkerSetup } from './worker-protocol.js';

const BOOT = fileURLToPath(new URL('./process-host-boot.js', import.meta.url));

/** Why a process ended, in words: "killed by SIGSEGV (a native crash)". */
export function endOfProcess(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGSEGV' || signal === 'SIGBUS' || signal === 'SIGILL' || signal === 'SIGABRT' || signal === 'SIGFPE') return `was killed by ${signal} (a native crash)`;
  if (signal === 'SIGKILL') return 'was killed by SIGKILL (out of memory, or killed from outside)';
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code}`;
}

export class ProcessExecutor extends RemoteExecutor {
  protected readonly kind = 'execution process';
  /** The node the caller last heard of, and the one the process last named on its trace pipe, for the active run. */
  private reported: string | undefined;
  private traced: string | undefined;

  constructor(private readonly setup: WorkerSetup) {
    super();
    this.start();
  }

  protected open(message: (m: FromRemote) => void, gone: (why: Error) => void): Remote {
    // No inherited flags (a parent under `node --test` passes its own); the boot module loads TypeScript itself.
    // fd 4: the trace pipe, where the process names each node synchronously before running it.
    const child = fork(BOOT, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] });
    const send = (m: ToProcess) => {
      if (child.connected) child.send(m);
    };
    let partial = '';
    const trace = child.stdio[4] as NodeJS.ReadableStream;
    trace.setEncoding('utf8');
    trace.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const [promptId, node] = JSON.parse(line) as [string, string];
        if (this.active?.promptId === promptId) this.traced = node;
      }
    });
    child.on('message', (m: FromRemote) => {
      if (m.type === 'event' && m.event.type === 'executing' && m.event.node !== null && m.id === this.active?.id) this.reported = m.event.node;
      message(m);
    });
    child.on('error', (e) => gone(new Error(`the execution process failed: ${e.message}`, { cause: e })));
    // 'close': after the process exited and its pipes are drained, so the trace's last line has been read.
    child.on('close', (code, signal) => gone(new Error(`the execution process ${endOfProcess(code, signal)}`)));
    send({ type: 'setup', setup: this.setup });
    return {
      run: (id, prompt, options) => {
        [this.reported, this.traced] = [undefined, undefined];
        send({ type: 'run', id, prompt, options });
      },
      abort: (id) => send({ type: 'abort', id }),
      clearCache: () => send({ type: 'clear-cache' }),
      stop: async () => {
        const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      },
    };
  }

  /** The crash may have come before the node's 'executing' event crossed: tell the caller which node it was. */
  protected onGone(a: ActiveRun): void {
    if (this.traced !== undefined && this.traced !== this.reported) a.onEvent?.({ type: 'executing', promptId: a.promptId, node: this.traced });
  }
}
