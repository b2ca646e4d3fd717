// The execution process: hosts a WorkerExecutor (the prompt runs in its worker thread, so this thread is always free
// to read the parent's messages, a cancellation among them) and relays runs and events over IPC. A native crash in a
// node (a GPU provider's segfault) ends this process only; its ProcessExecutor fails the run and starts a new one.
import type { FromProcess, ToProcess } from './process-protocol.js';
import { WorkerExecutor } from './worker-executor.js';

const send = (m: FromProcess) => process.send!(m);
const TRACE_FD = 4;
let executor: WorkerExecutor | undefined;
const running = new Map<number, AbortController>();

async function run(m: Extract<ToProcess, { type: 'run' }>): Promise<void> {
  const abort = new AbortController();
  running.set(m.id, abort);
  try {
    if (!executor) throw new Error('the execution process was not set up');
    const summary = await executor.run(m.prompt, { ...m.options, signal: abort.signal, onEvent: (event) => send({ type: 'event', id: m.id, event }) });
    send({ type: 'done', id: m.id, summary });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'failed', id: m.id, error: { name: e.name, message: e.message, stack: e.stack } });
  } finally {
    running.delete(m.id);
  }
}

process.on('message', (m: ToProcess) => {
  switch (m.type) {
    case 'setup':
      // fd 4 is the trace pipe ProcessExecutor reads (stdio: ignore, inherit, inherit, ipc, pipe).
      executor = new WorkerExecutor({ ...m.setup, traceFd: TRACE_FD });
      send({ type: 'ready' });
      break;
    case 'run':
      void run(m);
      break;
    case 'abort':
      running.get(m.id)?.abort();
      break;
    case 'clear-cache':
      executor?.clearCache();
      break;
  }
});
// The parent went away (it closed us, or died): nothing is left to report to.
process.on('disconnect', () => process.exit(0));
