// A server per test on 127.0.0.1 with a free port, temp folders and quick fake nodes, plus small HTTP and WebSocket
// clients. Tests never listen on anything but loopback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { imageBatch } from '../../src/runtime/engine/image.js';
import { defaultFolders } from '../../src/runtime/graph/folders.js';
import { InterruptedError, defineNode, type NodeDefinition } from '../../src/runtime/graph/node-api.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { LoadImage } from '../../src/nodes/load-image.js';
import { PreviewImage } from '../../src/nodes/preview-image.js';
import { SaveImage } from '../../src/nodes/save-image.js';
import { createServer, type InstructboothServer } from '../../src/server/app.js';
import { databasePath } from '../../src/server/serve-command.js';
import type { ServerOptions } from '../../src/server/options.js';

/** Quick nodes: each does little, fast, and reports what the server must carry (progress, previews, metrics). */
export function fakeNodes(): NodeDefinition[] {
  return [
    defineNode({
      type: 'Const',
      displayName: 'Constant',
      category: 'test',
      description: 'An integer.',
      inputs: { value: { type: 'INT', default: 1, min: 0, max: 100 } },
      outputs: [{ name: 'INT', type: 'INT' }],
      run: async (inputs) => ({ outputs: [inputs.value] }),
    }),
    defineNode({
      type: 'Train',
      displayName: 'Fake Training',
      category: 'test',
      description: 'Steps with progress, metrics, a preview and a log line.',
      inputs: {
        steps: { type: 'INT', default: 3, min: 1, max: 1000 },
        delay_ms: { type: 'INT', default: 0, min: 0, max: 10000, optional: true },
        mode: { type: 'COMBO', options: ['rgb', 'gray'], default: 'rgb', optional: true },
      },
      outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
      async run(inputs, ctx) {
        const steps = inputs.steps as number;
        for (let s = 1; s <= steps; s++) {
          ctx.checkInterrupted();
          if ((inputs.delay_ms as number) > 0) await sleep(inputs.delay_ms as number, undefined, { signal: ctx.signal }).catch(() => undefined);
          ctx.checkInterrupted();
          ctx.metrics({ loss: 1 / s, reward_mean: s / 10, reward_std: 0.1, lr: 1e-4 }, s);
          ctx.progress(s, steps, `loss ${(1 / s).toFixed(3)}`);
        }
        const img = imageBatch(1, 8, 8, 3);
        img.data.fill(0.5);
        ctx.preview(img);
        ctx.log('info', 'trained');
        return { outputs: [img] };
      },
    }),
    defineNode({
      type: 'Slow',
      displayName: 'Slow',
      category: 'test',
      description: 'Waits, checking for cancellation.',
      inputs: { ms: { type: 'INT', default: 2000, min: 0, max: 60000 }, tag: { type: 'STRING', default: '', optional: true } },
      outputs: [],
      outputNode: true,
      async run(inputs, ctx) {
        const end = Date.now() + (inputs.ms as number);
        let i = 0;
        while (Date.now() < end) {
          if (ctx.signal.aborted) throw new InterruptedError();
          ctx.progress(++i, 1000);
          await sleep(10);
        }
        return { outputs: [], ui: { text: [`slept ${inputs.tag}`] } };
      },
    }),
    defineNode({
      type: 'Fail',
      displayName: 'Fail',
      category: 'test',
      description: 'Throws.',
      inputs: { value: { type: 'INT', forceInput: true, optional: true } },
      outputs: [],
      outputNode: true,
      run: async () => {
        throw new TypeError('this node always fails');
      },
    }),
    defineNode({
      type: 'Show',
      displayName: 'Show',
      category: 'test',
      description: 'Shows a number.',
      inputs: { value: { type: 'INT', forceInput: true } },
      outputs: [],
      outputNode: true,
      run: async (inputs) => ({ outputs: [], ui: { text: [String(inputs.value)] } }),
    }),
    defineNode({
      type: 'Add',
      displayName: 'Add',
      category: 'test',
      description: 'a + 1.',
      inputs: { a: { type: 'INT', forceInput: true } },
      outputs: [{ name: 'INT', type: 'INT' }],
      run: async (inputs) => ({ outputs: [(inputs.a as number) + 1] }),
    }),
    defineNode({
      type: 'Picky',
      displayName: 'Picky',
      category: 'test',
      description: 'Custom validation.',
      inputs: { word: { type: 'STRING', default: 'yes' } },
      outputs: [],
      outputNode: true,
      validate: (inputs) => (inputs.word === 'no' ? 'word must not be "no"' : undefined),
      run: async () => ({ outputs: [] }),
    }),
    defineNode({
      type: 'Weird',
      displayName: 'Weird',
      category: 'test',
      description: 'Its validation throws.',
      inputs: { x: { type: 'INT', default: 0 } },
      outputs: [],
      outputNode: true,
      validate: () => {
        throw new Error('validator broke');
      },
      run: async () => ({ outputs: [] }),
    }),
  ];
}

export function testRegistry(): NodeRegistry {
  return new NodeRegistry([...fakeNodes(), SaveImage, PreviewImage, LoadImage]);
}

export interface TestServer {
  server: InstructboothServer;
  url: string;
  wsUrl: string;
  dir: string;
  logs: string[];
  close(mode?: 'graceful' | 'abandon'): Promise<void>;
}

const made: string[] = [];
process.once('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh folder, removed when the test process exits. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-server-'));
  made.push(d);
  return d;
}

/** A server on 127.0.0.1, port 0, with its data under `dir` (a fresh temp dir by default). */
export async function startServer(opts: Partial<ServerOptions> & { dir?: string } = {}): Promise<TestServer> {
  const dir = opts.dir ?? tempDir();
  const logs: string[] = [];
  const server = createServer({
    registry: testRegistry(),
    folders: defaultFolders(dir),
    dbPath: databasePath(dir),
    log: (l) => void logs.push(l),
    ...opts,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return { server, url, wsUrl: `ws://127.0.0.1:${port}/ws`, dir, logs, close: (mode) => server.close(mode) };
}

export interface WsMessage {
  type: string;
  data: Record<string, any>;
}

/** A WebSocket client that records every message (JSON and binary). */
export class WsClient {
  readonly messages: WsMessage[] = [];
  readonly frames: Buffer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.frames.push(Buffer.from(data as Buffer));
      else this.messages.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects and waits for the first status message. */
  static async connect(url: string, opts: { headers?: Record<string, string>; flags?: Record<string, unknown> } = {}): Promise<WsClient> {
    const ws = new WebSocket(url, { headers: opts.headers });
    const c = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    if (opts.flags) ws.send(JSON.stringify({ type: 'feature_flags', data: opts.flags }));
    await c.waitFor((m) => m.type === 'status');
    return c;
  }

  /** The first message (from the start) matching `pred`, waiting up to `ms`. */
  async waitFor(pred: (m: WsMessage) => boolean, ms = 8000): Promise<WsMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a message; got ${this.messages.map((m) => m.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Messages of one prompt, in order. */
  of(promptId: string): WsMessage[] {
    return this.messages.filter((m) => m.data?.prompt_id === promptId);
  }

  close(): void {
    this.ws.close();
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls until `fn` returns a truthy value. */
export async function until<T>(fn: () => Promise<T> | T, ms = 8000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the history has an entry for `id` and returns it. */
export async function historyOf(url: string, id: string): Promise<any> {
  return until(async () => (await getJson(`${url}/history/${id}`)).body[id], 8000, `history of ${id}`);
}
