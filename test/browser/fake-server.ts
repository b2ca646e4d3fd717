// A tiny ComfyUI-compatible server for the editor's browser tests, until the real one (src/server) lands: serves
// web/dist, /api/object_info from the test node set, takes POST /api/prompt and plays a scripted, realistic run over
// the WebSocket (execution_start, executing, progress, training_metrics, a binary preview, executed with an image,
// execution_success), with knobs for tests: fail at a node, hold a training node mid-run, refuse a prompt.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { folders } from '../graph/fake-nodes.js';
import { fakeObjectInfoRegistry } from './fake-nodes.js';
import { testPicture } from './png-encode.js';

const here = fileURLToPath(new URL('.', import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
export const DIST_DIR = join(REPO_ROOT, 'web', 'dist');
export const WORKFLOWS_DIR = join(here, 'fixtures', 'workflows');

type Prompt = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title?: string } }>;

export interface PostedPrompt {
  prompt: Prompt;
  client_id?: string;
  extra_data?: { extra_pnginfo?: { workflow?: unknown } };
  [k: string]: unknown;
}

export interface Behavior {
  /** Fail with execution_error when reaching a node of this class or id. */
  failAt?: string;
  failMessage?: string;
  /** Steps a training node runs (its steps/epochs input, capped at this). */
  maxTrainingSteps: number;
  /** Milliseconds between steps. */
  stepDelayMs: number;
  /** Pause the first training node after this step until release() is called. */
  holdAtStep?: number;
  /** Refuse the next prompt with a validation error on this node id. */
  rejectNode?: { id: string; message: string };
  /** Serve GET /api/workflows (the project's addition to ComfyUI's API). */
  workflowsRoute: boolean;
}

export interface FakeServer {
  url: string;
  prompts: PostedPrompt[];
  behavior: Behavior;
  /** Messages sent on the WebSocket, in order (type and data). */
  sent: { type: string; data: unknown }[];
  /** Resolves when the run reaches behavior.holdAtStep. */
  held(): Promise<void>;
  release(): void;
  /** Resolves when no prompt is running or pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const TRAINING = new Set(['DreamBoothTrain', 'DDPOUpdate']);
const OUTPUT_IMAGE_NODES = new Set(['SaveImage', 'PreviewImage']);
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeServer(opts: { port?: number; distDir?: string; behavior?: Partial<Behavior> } = {}): Promise<FakeServer> {
  const distDir = opts.distDir ?? DIST_DIR;
  const registry = fakeObjectInfoRegistry();
  const objectInfo = registry.objectInfo(folders);
  const behavior: Behavior = { maxTrainingSteps: 12, stepDelayMs: 25, workflowsRoute: true, ...opts.behavior };
  const prompts: PostedPrompt[] = [];
  const sent: { type: string; data: unknown }[] = [];
  const clients = new Map<string, Set<WebSocket>>();
  const images = new Map<string, Buffer>();
  const history: Record<string, unknown> = {};
  const pending: { id: string; number: number; body: PostedPrompt }[] = [];
  let running: { id: string; number: number; body: PostedPrompt } | undefined;
  let counter = 0;
  let interrupted = false;
  let holdReached: () => void = () => {};
  let heldPromise = new Promise<void>((r) => (holdReached = r));
  let releaseHold: () => void = () => {};
  let idleWaiters: (() => void)[] = [];

  // ---- WebSocket ----
  const wss = new WebSocketServer({ noServer: true });
  const sendTo = (clientId: string | undefined, type: string, data: unknown) => {
    sent.push({ type, data });
    const text = JSON.stringify({ type, data });
    const targets = clientId && clients.has(clientId) ? clients.get(clientId)! : new Set([...clients.values()].flatMap((s) => [...s]));
    for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const sendBinary = (clientId: string | undefined, frame: Buffer) => {
    sent.push({ type: 'binary_preview', data: frame.length });
    const targets = clientId && clients.has(clientId) ? clients.get(clientId)! : new Set([...clients.values()].flatMap((s) => [...s]));
    for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(frame);
  };
  const status = () => ({ status: { exec_info: { queue_remaining: pending.length + (running ? 1 : 0) } } });
  const broadcastStatus = () => sendTo(undefined, 'status', status());

  // ---- the scripted run ----
  const order = (prompt: Prompt): string[] => {
    const seen = new Set<string>();
    const out: string[] = [];
    const visit = (id: string) => {
      if (seen.has(id) || !prompt[id]) return;
      seen.add(id);
      for (const v of Object.values(prompt[id].inputs ?? {})) if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string') visit(v[0]);
      out.push(id);
    };
    for (const id of Object.keys(prompt).sort((a, b) => Number(a) - Number(b))) visit(id);
    return out;
  };

  async function run(job: { id: string; number: number; body: PostedPrompt }): Promise<void> {
    const { id: promptId, body } = job;
    const client = body.client_id;
    const prompt = body.prompt;
    const messages: [string, unknown][] = [];
    const emit = (type: string, data: Record<string, unknown>) => {
      const d = { ...data, prompt_id: promptId };
      sendTo(client, type, d);
      if (type.startsWith('execution_')) messages.push([type, { ...d, timestamp: Date.now() }]);
    };
    const outputs: Record<string, unknown> = {};
    let statusStr = 'success';
    emit('execution_start', { timestamp: Date.now() });
    emit('execution_cached', { nodes: [] });
    let held = false;
    try {
      for (const nodeId of order(prompt)) {
        const node = prompt[nodeId];
        emit('executing', { node: nodeId, display_node: nodeId });
        await sleep(behavior.stepDelayMs);
        if (behavior.failAt && (behavior.failAt === nodeId || behavior.failAt === node.class_type)) {
          emit('execution_error', {
            node_id: nodeId,
            node_type: node.class_type,
            executed: [],
            exception_message: behavior.failMessage ?? 'out of memory while allocating a 512x512 latent batch',
            exception_type: 'RuntimeError',
            traceback: ['Traceback (most recent call last):', '  (fake server)'],
            current_inputs: {},
            current_outputs: {},
          });
          statusStr = 'error';
          return;
        }
        const training = TRAINING.has(node.class_type);
        const declared = Number(node.inputs.steps ?? node.inputs.epochs ?? 4);
        const steps = training ? Math.min(behavior.maxTrainingSteps, Math.max(1, declared)) : node.class_type === 'Sample' ? Math.min(6, declared) : 0;
        for (let step = 1; step <= steps; step++) {
          if (interrupted) {
            emit('execution_interrupted', { node_id: nodeId, node_type: node.class_type, executed: [] });
            statusStr = 'error';
            return;
          }
          emit('progress', { node: nodeId, value: step, max: steps });
          if (training) {
            const t = step / steps;
            const values: Record<string, number> = { loss: 0.08 + 0.4 * Math.exp(-3 * t) + 0.02 * Math.sin(step * 1.7), lr: 1e-4 };
            if (node.class_type === 'DDPOUpdate') Object.assign(values, { reward_mean: 0.2 + 0.6 * t, reward_std: 0.15 - 0.08 * t });
            emit('training_metrics', { node: nodeId, step, values });
            if (step === Math.ceil(steps / 2)) {
              // Binary preview: u32 BE event 1 (preview image), u32 image type 2 (PNG), bytes.
              const head = Buffer.alloc(8);
              head.writeUInt32BE(1, 0);
              head.writeUInt32BE(2, 4);
              sendBinary(client, Buffer.concat([head, testPicture(96, 20 + step * 10)]));
            }
            if (behavior.holdAtStep !== undefined && step === behavior.holdAtStep && !held) {
              held = true;
              const release = new Promise<void>((r) => (releaseHold = r));
              holdReached();
              await release;
            }
          }
          await sleep(behavior.stepDelayMs);
        }
        if (OUTPUT_IMAGE_NODES.has(node.class_type)) {
          const filename = `${String(node.inputs.filename_prefix ?? 'instructbooth')}_${String(++counter).padStart(5, '0')}_.png`;
          images.set(filename, testPicture(256, (counter * 67) % 360, { workflow: JSON.stringify(body.extra_data?.extra_pnginfo?.workflow ?? null), prompt: JSON.stringify(prompt) }));
          const output = { images: [{ filename, subfolder: '', type: 'output' }] };
          outputs[nodeId] = output;
          emit('executed', { node: nodeId, display_node: nodeId, output });
        }
      }
      emit('executing', { node: null });
      emit('execution_success', { timestamp: Date.now() });
    } finally {
      history[promptId] = {
        prompt: [job.number, promptId, prompt, { ...body.extra_data, client_id: client }, Object.keys(outputs)],
        outputs,
        status: { status_str: statusStr, completed: statusStr === 'success', messages },
        meta: {},
      };
    }
  }

  async function drain(): Promise<void> {
    while (!running && pending.length) {
      running = pending.shift()!;
      interrupted = false;
      broadcastStatus();
      try {
        await run(running);
      } finally {
        running = undefined;
        broadcastStatus();
      }
    }
    if (!running && !pending.length) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---- HTTP ----
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((ok, fail) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => ok(Buffer.concat(parts)));
      req.on('error', fail);
    });

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
      const method = req.method ?? 'GET';
      if (method === 'GET' && path === '/object_info') return json(res, 200, objectInfo);
      if (method === 'POST' && path === '/prompt') {
        let body: PostedPrompt;
        try {
          body = JSON.parse((await readBody(req)).toString('utf8'));
        } catch {
          return json(res, 400, { error: { type: 'invalid_prompt', message: 'Invalid prompt', details: 'body is not JSON', extra_info: {} }, node_errors: {} });
        }
        prompts.push(body);
        if (!body.prompt || typeof body.prompt !== 'object' || !Object.keys(body.prompt).length)
          return json(res, 400, { error: { type: 'no_prompt', message: 'No prompt provided', details: '', extra_info: {} }, node_errors: {} });
        if (behavior.rejectNode) {
          const { id, message } = behavior.rejectNode;
          behavior.rejectNode = undefined;
          return json(res, 400, {
            error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
            node_errors: { [id]: { errors: [{ type: 'value_bigger_than_max', message: 'Value bigger than max', details: message, extra_info: {} }], dependent_outputs: [], class_type: body.prompt[id]?.class_type } },
          });
        }
        const id = `fake-${Date.now().toString(36)}-${prompts.length}`;
        const number = prompts.length;
        pending.push({ id, number, body });
        json(res, 200, { prompt_id: id, number, node_errors: {} });
        setTimeout(() => void drain(), 10);
        return;
      }
      if (method === 'GET' && path === '/prompt') return json(res, 200, { exec_info: status().status.exec_info });
      if (method === 'GET' && path === '/queue') {
        const item = (j: { id: string; number: number; body: PostedPrompt }) => [j.number, j.id, j.body.prompt, j.body.extra_data ?? {}, []];
        return json(res, 200, { queue_running: running ? [item(running)] : [], queue_pending: pending.map(item) });
      }
      if (method === 'POST' && path === '/queue') {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
        if (body.clear) pending.length = 0;
        for (const id of body.delete ?? []) {
          const i = pending.findIndex((p) => p.id === id);
          if (i >= 0) pending.splice(i, 1);
        }
        broadcastStatus();
        return json(res, 200, {});
      }
      if (method === 'GET' && path === '/history') return json(res, 200, history);
      if (method === 'POST' && path === '/history') {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
        if (body.clear) for (const k of Object.keys(history)) delete history[k];
        return json(res, 200, {});
      }
      if (method === 'POST' && path === '/interrupt') {
        interrupted = true;
        releaseHold();
        return json(res, 200, {});
      }
      if (method === 'GET' && path === '/view') {
        const image = images.get(url.searchParams.get('filename') ?? '');
        if (!image) return json(res, 404, { error: 'not found' });
        res.writeHead(200, { 'Content-Type': 'image/png' });
        return res.end(image);
      }
      if (method === 'POST' && path === '/upload/image') {
        await readBody(req);
        return json(res, 200, { name: 'uploaded.png', subfolder: '', type: 'input' });
      }
      if (method === 'GET' && path === '/workflows' && behavior.workflowsRoute)
        return json(res, 200, readdirSync(WORKFLOWS_DIR).filter((f) => f.endsWith('.json')).sort());
      if (method === 'GET' && path.startsWith('/workflows/') && behavior.workflowsRoute) {
        const name = decodeURIComponent(path.slice('/workflows/'.length));
        if (!/^[\w.-]+\.json$/.test(name) || !existsSync(join(WORKFLOWS_DIR, name))) return json(res, 404, { error: 'no such workflow' });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(readFileSync(join(WORKFLOWS_DIR, name)));
      }
      if (url.pathname.startsWith('/api/')) return json(res, 404, { error: `no route ${method} ${url.pathname}` });
      // Static files from web/dist.
      const rel = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)).replace(/^([/\\])+/, '');
      const file = join(distDir, rel);
      if (!file.startsWith(distDir + sep) || !existsSync(file) || !statSync(file).isFile()) return json(res, 404, { error: 'not found' });
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch (e) {
      json(res, 500, { error: String(e) });
    }
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      const clientId = url.searchParams.get('clientId') ?? `anon-${Date.now()}`;
      let set = clients.get(clientId);
      if (!set) clients.set(clientId, (set = new Set()));
      set.add(ws);
      ws.on('close', () => set!.delete(ws));
      ws.send(JSON.stringify({ type: 'status', data: { ...status(), sid: clientId } }));
    });
  });

  await new Promise<void>((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    prompts,
    behavior,
    sent,
    held: () => heldPromise,
    release: () => {
      releaseHold();
      heldPromise = new Promise<void>((r) => (holdReached = r));
    },
    idle: () => (running || pending.length ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve()),
    close: async () => {
      releaseHold();
      for (const set of clients.values()) for (const ws of set) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

// Run by hand: `node --import tsx test/browser/fake-server.ts [port]` serves the editor with the fake API.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = await startFakeServer({ port: Number(process.argv[2] ?? 8189), behavior: { stepDelayMs: 150, maxTrainingSteps: 40 } });
  console.log(`fake ComfyUI-compatible server on ${s.url}`);
}
