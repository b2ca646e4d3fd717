// Runs prompts in a worker thread. onnxruntime-node runs a session on the thread that calls it, so a UNet step or a
// session build holds that thread's event loop for as long as it takes: in a server, every request would wait behind
// it. In a worker, the caller's thread only relays events. Same surface as Executor; one prompt at a time. A worker
// that dies (out of memory, process.exit) fails the running prompt with the reason, and the next run starts a new
// one (with an empty cache); a native crash takes the whole process, which ProcessExecutor guards against.
import { Worker } from 'node:worker_threads';
import { type FromRemote, type Remote, RemoteExecutor } from './remote-executor.js';
import type { ToWorker, WorkerSetup } from './worker-protocol.js';

const BOOT = new URL('./worker-boot.js', import.meta.url);

export class WorkerExecutor extends RemoteExecutor {
  protected readonly kind = 'execution worker';

  constructor(private readonly setup: WorkerSetup) {
    super();
    this.start();
  }

  protected open(message: (m: FromRemote) => void, gone: (why: Error) => void): Remote {
    const worker = new Worker(BOOT, { workerData: this.setup });
    const send = (m: ToWorker) => worker.postMessage(m);
    worker.on('message', message);
    worker.on('error', (e) => gone(new Error(`the execution worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => gone(new Error(`the execution worker exited (code ${code})`)));
    return {
      run: (id, prompt, options, abort) => send({ type: 'run', id, prompt, options, abort }),
      abort: (id) => send({ type: 'abort', id }),
      clearCache: () => send({ type: 'clear-cache' }),
      stop: async () => void (await worker.terminate()),
    };
  }
}
