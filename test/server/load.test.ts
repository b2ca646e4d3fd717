// Load on the real server as `instructbooth serve` runs it (the built-in nodes in a worker thread): 20 WebSocket
// clients, each with its own clientId, submit 50 prompts at once, then a long run (DreamBooth training, then sampling)
// goes to the front of the queue. Nothing is lost (every
// prompt reaches /history with success and its submitter sees its run end), every client gets execution messages only
// for its own prompts (ComfyUI sends them to the submitting client's socket; status goes to all), and the server
// stays responsive: GET /queue answers within 100 ms while the long run runs (loading its checkpoint, making its
// onnxruntime sessions, training, sampling) with the 50 queued, and while they drain. That needs an event loop that
// nothing, inference included, blocks for long: onnxruntime runs sessions on the thread that calls them, so the nodes
// run in a worker thread (WorkerExecutor).
//
// Models: the long run trains and samples with the embedded model when models/embedded/unet exists (the issue asks for
// the embedded model), else with a random tiny checkpoint (test/nodes/tiny-checkpoint.ts) written to the test's own
// models folder. The 50 cheap prompts always use the tiny checkpoint: 1 DDIM step, 1 image, each its own seed so
// none is served from the cache.
//
// Latency on a loaded machine: server and client share this process, so a GET /queue's latency is the event loop's.
// When other processes hold every CPU (a training run at a higher priority), the main thread waits for a CPU without
// the server being at fault; that wait is read from Linux's per-thread schedstat and taken off. What is left, and
// asserted, is the time the request took on account of this process: JavaScript running, the thread blocked in
// native code (onnxruntime, SQLite) or waiting on I/O. Without schedstat it is plain wall-clock time. GET requests
// overlapping the burst of 50 simultaneous POSTs are measured and printed but not held to the bound: one arriving
// behind them waits for all of them on any single-threaded server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { BUILTIN_REGISTRY, createRegistry } from '../../src/nodes/index.js';
import { EMBEDDED_DIR } from '../../src/nodes/common/checkpoints.js';
import { imageAt } from '../../src/runtime/engine/image.js';
import { encodePng } from '../../src/runtime/engine/image-io.js';
import { defaultFolders } from '../../src/runtime/graph/folders.js';
import { subjectById, subjectReferences } from '../../src/runtime/world/index.js';
import { writeTinyCheckpoint } from '../nodes/tiny-checkpoint.js';
import { type TestServer, type WsMessage, WsClient, getJson, postJson, startServer, tempDir, until } from './helpers.js';

const CLIENTS = 20;
const PROMPTS = 50;
/** The longest GET /queue may take, in ms (the bound). */
const MAX_QUEUE_LATENCY_MS = 100;
const EMBEDDED = fs.existsSync(path.join(EMBEDDED_DIR, 'unet'));
/** The long run: seconds of training and sampling on either model, on one onnxruntime thread (the machine has few cores). */
const LONG = { ckpt: EMBEDDED ? 'embedded' : 'tiny', trainSteps: 20, steps: 50, images: 4 };

function samplePrompt(ckpt: string, prompt: string, seed: number, steps: number, images: number) {
  return {
    1: { class_type: 'LoadCheckpoint', inputs: { ckpt_name: ckpt, device: 'cpu', threads: 1 } },
    2: {
      class_type: 'Sample',
      inputs: { model: ['1', 0], prompt, negative_prompt: '', sampler: 'ddim', steps, guidance: 3, seed, images_per_prompt: images, lora_strength: 1, eta: 0 },
    },
    3: { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
  };
}

/** DreamBooth (full fine-tuning) on the world subject's images in input/subject, then Sample; the preview is node 3 too. */
function trainingPrompt() {
  return {
    1: { class_type: 'LoadCheckpoint', inputs: { ckpt_name: LONG.ckpt, device: 'cpu', threads: 1 } },
    4: { class_type: 'LoadSubjectImages', inputs: { source: 'subject', resolution: 32 } },
    5: {
      class_type: 'DreamBoothTrain',
      inputs: { model: ['1', 0], instance_images: ['4', 0], instance_prompt: 'a zwx square', class_prompt: 'a square', mode: 'full', steps: LONG.trainSteps, batch_size: 1, learning_rate: 1e-4, seed: 1, checkpoint_every: 0 },
    },
    2: {
      class_type: 'Sample',
      inputs: { model: ['5', 0], prompt: 'a zwx square', negative_prompt: '', sampler: 'ddim', steps: LONG.steps, guidance: 3, seed: 1, images_per_prompt: LONG.images, lora_strength: 1, eta: 0 },
    },
    3: { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
  };
}

/**
 * The main thread's scheduler counters (Linux /proc/<pid>/task/<pid>/schedstat): ms on a CPU, ms runnable but waiting
 * for one. Undefined where the kernel keeps none.
 */
const SCHEDSTAT = `/proc/${process.pid}/task/${process.pid}/schedstat`;
function mainThreadSched(): { cpuMs: number; waitMs: number } | undefined {
  try {
    const [cpu, wait] = fs.readFileSync(SCHEDSTAT, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(cpu) && Number.isFinite(wait) ? { cpuMs: cpu / 1e6, waitMs: wait / 1e6 } : undefined;
  } catch {
    return undefined;
  }
}

interface Probe {
  /** When it was sent (performance.now()). */
  at: number;
  /** Wall-clock ms from sending GET /queue to having its body. */
  wall: number;
  /** Of it, ms the main thread was runnable but got no CPU (other processes had them all). */
  starved: number;
  /** Of it, ms the main thread ran (JavaScript or native code called from it). */
  cpu: number;
}

/** A request's latency on this process's account: wall-clock time less the main thread's wait for a CPU. */
const own = (x: Probe) => x.wall - x.starved;

/**
 * GET /queue. Tried once more when a kept-alive connection turns out closed: the server drops idle connections after
 * 5 s, and when the event loop runs late, undici may reuse one just as that happens (the GET is then not the server's
 * failure; its time still counts from the first try).
 */
async function getQueue(url: string): Promise<Response> {
  try {
    return await fetch(`${url}/queue`);
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw e;
    return fetch(`${url}/queue`);
  }
}

/** Polls GET /queue (a request in flight nearly all the time, so a blocked event loop shows) until stopped. */
function probeQueue(url: string): { stop(): Promise<Probe[]> } {
  let running = true;
  const probes: Probe[] = [];
  const loop = (async () => {
    while (running) {
      const s0 = mainThreadSched();
      const at = performance.now();
      const res = await getQueue(url);
      await res.arrayBuffer();
      const wall = performance.now() - at;
      const s1 = mainThreadSched();
      assert.equal(res.status, 200);
      probes.push({ at, wall, starved: s0 && s1 ? s1.waitMs - s0.waitMs : 0, cpu: s0 && s1 ? s1.cpuMs - s0.cpuMs : wall });
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return probes;
    },
  };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)] ?? NaN, p99: s[Math.floor(s.length * 0.99)] ?? NaN, max: s.at(-1) ?? NaN };
};
const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
const describeProbes = (xs: Probe[]) =>
  `${xs.length} requests; ms on this process's account ${fmt(stats(xs.map(own)))}; wall clock ${fmt(stats(xs.map((x) => x.wall)))}; ` +
  `main-thread CPU ${fmt(stats(xs.map((x) => x.cpu)))}`;

let t: TestServer;
let clients: WsClient[] = [];
/** Prompt id -> the client (index) that submitted it. */
const owner = new Map<string, number>();
let longId = '';
let whileLong: Probe[] = [];
let whileDraining: Probe[] = [];
let duringPosts: Probe[] = [];
/** When the 50 POSTs were in flight. */
const burst = { from: 0, to: 0 };
/** From the long run's start to its end. */
const longRun = { from: 0, to: 0 };

before(async () => {
  const t0 = performance.now();
  const dir = tempDir();
  writeTinyCheckpoint(defaultFolders(dir));
  const subject = path.join(dir, 'input', 'subject');
  fs.mkdirSync(subject, { recursive: true });
  const { images } = subjectReferences(subjectById('checkered-square'));
  for (let i = 0; i < images.count; i++) fs.writeFileSync(path.join(subject, `${i}.png`), await encodePng(imageAt(images, i)));
  // As `instructbooth serve` runs them: the nodes in a worker thread.
  t = await startServer({ dir, registry: createRegistry(), registryModule: BUILTIN_REGISTRY });
  clients = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => WsClient.connect(`${t.wsUrl}?clientId=load-${i}`, { flags: { supports_preview_metadata: true } })),
  );
  const eventLoop = monitorEventLoopDelay({ resolution: 10 });
  eventLoop.enable();

  // GET /queue is measured from the first POST to the end.
  const probe = probeQueue(t.url);
  // Every client submits its share (client i: prompts i, i+20, i+40), all at once.
  burst.from = performance.now();
  await Promise.all(
    Array.from({ length: PROMPTS }, async (_, k) => {
      const c = k % CLIENTS;
      const res = await postJson(`${t.url}/prompt`, { prompt: samplePrompt('tiny', `client ${c} prompt ${k}`, 1000 + k, 1, 1), client_id: `load-${c}` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      owner.set(res.body.prompt_id, c);
    }),
  );
  burst.to = performance.now();
  assert.equal(owner.size, PROMPTS, 'every prompt got its own id');

  // Then the long run (client 0) at the front of the queue: it runs next, all of it (loading the checkpoint, making
  // its sessions, sampling) with the rest of the 50 queued behind it.
  const long = await postJson(`${t.url}/prompt`, { prompt: trainingPrompt(), client_id: 'load-0', front: true });
  assert.equal(long.status, 200, JSON.stringify(long.body));
  longId = long.body.prompt_id;
  owner.set(longId, 0);
  await clients[0].waitFor((m) => m.type === 'execution_start' && m.data.prompt_id === longId, 60_000);
  longRun.from = performance.now();
  await clients[0].waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === longId, 120_000);
  longRun.to = performance.now();
  const pendingAfterLong = (await getJson(`${t.url}/queue`)).body.queue_pending.length;

  // The rest drains.
  await until(async () => {
    const q = (await getJson(`${t.url}/queue`)).body;
    return q.queue_running.length === 0 && q.queue_pending.length === 0;
  }, 120_000, 'the queue to drain');
  const probes = await probe.stop();
  whileLong = probes.filter((x) => x.at >= burst.to && x.at < longRun.to);
  whileDraining = probes.filter((x) => x.at >= longRun.to);
  duringPosts = probes.filter((x) => x.at < burst.to && x.at + x.wall > burst.from);
  eventLoop.disable();
  // The last run's end message may still be on its way.
  await until(() => [...owner].every(([id, c]) => clients[c].messages.some((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === id)), 8000, 'every run\'s end message');

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const log = (line: string) => void process.stdout.write(`${line}\n`);
  log(`the ${PROMPTS} POSTs took ${s(burst.to - burst.from)}; the long run on ${LONG.ckpt} (${LONG.trainSteps} DreamBooth steps, ${LONG.steps} sampling steps x ${LONG.images} images) took ${s(longRun.to - longRun.from)}, ${pendingAfterLong} of ${PROMPTS} pending when it ended; they drained in ${s(performance.now() - longRun.to)}`);
  log(`GET /queue overlapping the ${PROMPTS} POSTs (not asserted): ${describeProbes(duringPosts)}`);
  log(`GET /queue after the POSTs until the long run ended: ${describeProbes(whileLong)}`);
  log(`GET /queue while the ${PROMPTS} drained: ${describeProbes(whileDraining)}`);
  log(`event loop delay max ${(eventLoop.max / 1e6).toFixed(1)} ms (wall clock); main-thread schedstat ${mainThreadSched() ? 'read' : 'unavailable: latencies are wall clock'}; ${s(performance.now() - t0)} in all`);
});

after(async () => {
  for (const c of clients) c.close();
  await t?.close();
});

test(`nothing lost: all ${PROMPTS + 1} prompts of ${CLIENTS} clients reach the history with success`, async () => {
  const history = (await getJson(`${t.url}/history?max_items=1000`)).body;
  for (const id of owner.keys()) {
    const h = history[id];
    assert.ok(h, `prompt ${id} is in the history`);
    const errors = h.status.messages.filter(([type]: [string]) => type === 'execution_error');
    assert.equal(h.status.status_str, 'success', `prompt ${id}: ${JSON.stringify(errors)}`);
    assert.equal(h.status.completed, true);
    assert.ok(h.outputs['3']?.images?.length >= 1, `prompt ${id} has its preview output`);
  }
  assert.equal(history[longId].outputs['3'].images.length, LONG.images);
});

test('each client gets the execution messages of its own prompts, and none of the others\'', () => {
  for (const [i, c] of clients.entries()) {
    const mine = new Set([...owner].filter(([, o]) => o === i).map(([id]) => id));
    const withId = c.messages.filter((m: WsMessage) => m.data && typeof m.data === 'object' && 'prompt_id' in m.data);
    const foreign = withId.filter((m) => !mine.has(m.data.prompt_id));
    assert.deepEqual(foreign.map((m) => `${m.type} ${m.data.prompt_id}`), [], `client ${i} got messages of others' prompts`);
    for (const id of mine) {
      const seq = c.of(id).map((m) => m.type);
      for (const type of ['execution_start', 'executed', 'execution_success']) assert.ok(seq.includes(type), `client ${i}, prompt ${id}: ${type} (got ${seq.join(', ')})`);
      assert.deepEqual(c.of(id).at(-1)?.data, { node: null, prompt_id: id }, `client ${i}, prompt ${id}: ends with executing null`);
    }
    // Previews with metadata (binary type 4) name their prompt: only the client's own.
    const previews = c.frames.filter((f) => f.readUInt32BE(0) === 4).map((f) => JSON.parse(f.subarray(8, 8 + f.readUInt32BE(4)).toString('utf8')).prompt_id);
    assert.deepEqual(previews.filter((id) => !mine.has(id)), [], `client ${i} got previews of others' prompts`);
    // Status goes to everyone (as in ComfyUI); the last one says the queue is empty.
    assert.equal(c.messages.filter((m) => m.type === 'status').at(-1)?.data.status.exec_info.queue_remaining, 0);
  }
});

test(`GET /queue answers within ${MAX_QUEUE_LATENCY_MS} ms while DreamBooth trains with ${PROMPTS} queued, and while they drain`, () => {
  // The burst of 50 simultaneous POSTs is left out: a GET arriving behind them waits for all of them on any
  // single-threaded server (its latency is printed above, not asserted).
  assert.ok(whileLong.length >= 10, `GET /queue was measured while the long run ran (${whileLong.length} requests after the POSTs)`);
  for (const [what, xs] of [['while the long Sample ran', whileLong], ['while the queue drained', whileDraining]] as const) {
    const worst = xs.reduce((a, b) => (own(b) > own(a) ? b : a));
    assert.ok(
      own(worst) < MAX_QUEUE_LATENCY_MS,
      `GET /queue took ${own(worst).toFixed(1)} ms ${what}: wall clock ${worst.wall.toFixed(1)} ms, less ${worst.starved.toFixed(1)} ms waiting ` +
        `for a CPU; the main thread ran ${worst.cpu.toFixed(1)} ms of it (${describeProbes(xs)})`,
    );
  }
});
