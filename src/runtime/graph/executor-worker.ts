// The executor worker thread: builds the node registry from the module it is given, keeps one Executor (so cached
// node results, loaded models among them, live across runs) and runs one prompt at a time for its WorkerExecutor,
// posting every execution event back as it happens.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Executor } from './executor.js';
import type { NodeRegistry } from './registry.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';
import { setOwn } from './own-keys.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const factory = (await import(setup.registry.url))[setup.registry.exportName];
if (typeof factory !== 'function') throw new Error(`${setup.registry.url} exports no registry factory named ${setup.registry.exportName}`);
const executor = new Executor((await factory()) as NodeRegistry, setup.folders, { cacheSize: setup.cacheSize });
let current: { id: number; abort: AbortController } | undefined;

/** Posts a message; one that the structured clone cannot copy (a function in a node's UI output) goes without it. */
function post(m: FromWorker): void {
  try {
    port.postMessage(m);
  } catch {
    port.postMessage(cloneable(m));
  }
}

/** `v` with what structured cloning refuses (functions, symbols) left out and everything else kept as it is. */
function cloneable(v: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return v;
  if (seen.has(v)) return seen.get(v);
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(cloneable(x, seen));
    return out;
  }
  if (v instanceof Map) {
    const out = new Map();
    seen.set(v, out);
    for (const [k, x] of v) out.set(cloneable(k, seen), cloneable(x, seen));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set();
    seen.set(v, out);
    for (const x of v) out.add(cloneable(x, seen));
    return out;
  }
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  // setOwn: keys (node ids in ui outputs, say) may be '__proto__'.
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'function' && typeof x !== 'symbol') setOwn(out, k, cloneable(x, seen));
  return out;
}

async function run(m: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  if (current) {
    post({ type: 'failed', id: m.id, error: { name: 'Error', message: `the execution worker is running prompt ${current.id} already` } });
    return;
  }
  const abort = new AbortController();
  current = { id: m.id, abort };
  const cancelled = () => {
    if (!abort.signal.aborted && Atomics.load(m.abort, 0) === 1) abort.abort();
  };
  try {
    const summary = await executor.run(m.prompt, {
      ...m.options,
      signal: abort.signal,
      pollCancel: cancelled,
      onEvent: (event) => {
        // A node busy in long native calls reads no messages between them: every event it emits, and every
        // cancellation check (pollCancel), reads the flag.
        cancelled();
        if (event.type === 'executing' && event.node !== null && setup.traceFd !== undefined) fs.writeSync(setup.traceFd, `${JSON.stringify([event.promptId, event.node])}\n`);
        post({ type: 'event', id: m.id, event });
      },
    });
    post({ type: 'done', id: m.id, summary });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'failed', id: m.id, error: { name: e.name, message: e.message, stack: e.stack } });
  } finally {
    current = undefined;
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'run':
      void run(m);
      break;
    case 'abort':
      if (current?.id === m.id) current.abort.abort();
      break;
    case 'clear-cache':
      executor.clearCache();
      break;
  }
});
post({ type: 'ready' });
