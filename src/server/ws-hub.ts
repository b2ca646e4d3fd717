// The WebSocket side (/ws?clientId=, also /api/ws): who is connected under which client id, and sending to one client
// or to all. Same guards as HTTP (Host check, origin check, token). Messages a slow client cannot keep up with (progress,
// previews) are dropped for that client rather than queued without bound; pings find dead connections on long jobs.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { errorObject } from './http-errors.js';
import { previewFrame, previewFrameWithMetadata } from './binary-frames.js';
import { originProblem, requestToken, tokenMatches } from './security.js';

interface Client {
  ws: WebSocket;
  /** The client's feature_flags (ComfyUI: sent as its first message). */
  flags: Record<string, unknown>;
  alive: boolean;
  greeted: boolean;
}

export interface WsHubOptions {
  token?: string;
  /** Why an upgrade's Host header is refused (the DNS-rebinding guard), if it is. */
  hostProblem?: (host: string | undefined) => string | undefined;
  /** Names besides loopback whose Host gets the origin check. */
  allowedHosts?: ReadonlySet<string>;
  /** The server's feature flags, sent in reply to a client's feature_flags. */
  features: () => Record<string, unknown>;
  /** Messages for a client that just connected (status with its sid, the running node if the run is its own). */
  greeting: (sid: string) => { type: string; data: Record<string, unknown> }[];
  log: (line: string) => void;
}

const PATHS = new Set(['/ws', '/api/ws']);
/** A client with more than this much unsent data gets no droppable messages until it catches up. */
const SLOW_CLIENT_BYTES = 4 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;

export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly clients = new Map<string, Client>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly opts: WsHubOptions) {
    this.heartbeat = setInterval(() => this.ping(), PING_INTERVAL_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** The HTTP server's 'upgrade' handler. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return reject(socket, 400, 'bad_request', 'malformed URL');
    }
    if (!PATHS.has(url.pathname)) return reject(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}; use /ws?clientId=...`);
    const badHost = this.opts.hostProblem?.(req.headers.host);
    if (badHost) return reject(socket, 403, 'forbidden_host', badHost);
    const problem = originProblem(req.headers.host, req.headers.origin, this.opts.allowedHosts);
    if (problem) return reject(socket, 403, 'forbidden_origin', problem);
    if (this.opts.token && !tokenMatches(requestToken(req), this.opts.token))
      return reject(socket, 401, 'unauthorized', 'this server requires a token: add ?token=<token> to the WebSocket URL');
    const asked = url.searchParams.get('clientId') ?? '';
    const sid = asked !== '' && asked.length <= 256 ? asked : randomUUID().replaceAll('-', '');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(sid, ws));
  }

  private attach(sid: string, ws: WebSocket): void {
    // Reusing a client id replaces the older socket (as ComfyUI does); the older one stays open but gets nothing.
    const client: Client = { ws, flags: {}, alive: true, greeted: false };
    this.clients.set(sid, client);
    ws.on('pong', () => (client.alive = true));
    ws.on('error', (e) => this.opts.log(`ws ${sid}: ${e.message}`));
    ws.on('close', () => {
      if (this.clients.get(sid) === client) this.clients.delete(sid);
    });
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(String(raw));
      } catch {
        return; // garbage from a client is ignored, never fatal
      }
      const m = msg as { type?: unknown; data?: unknown };
      if (!client.greeted && m && m.type === 'feature_flags') {
        client.flags = m.data && typeof m.data === 'object' && !Array.isArray(m.data) ? (m.data as Record<string, unknown>) : {};
        this.sendTo(client, JSON.stringify({ type: 'feature_flags', data: this.opts.features() }), false);
      }
      client.greeted = true;
    });
    for (const g of this.opts.greeting(sid)) this.sendTo(client, JSON.stringify(g), false);
  }

  /** To client `sid`, or to everyone when `sid` is undefined. A message for a client not connected is dropped. */
  sendJson(type: string, data: Record<string, unknown>, sid?: string, droppable = false): void {
    const text = JSON.stringify({ type, data });
    for (const c of this.targets(sid)) this.sendTo(c, text, droppable);
  }

  sendBinary(frame: Buffer, sid?: string, droppable = true): void {
    for (const c of this.targets(sid)) this.sendTo(c, frame, droppable);
  }

  /** A preview: type 4 (with node metadata) to clients that support it, type 1 to others. */
  sendPreview(jpeg: Buffer, promptId: string, node: string, sid?: string): void {
    let plain: Buffer | undefined;
    let withMeta: Buffer | undefined;
    for (const c of this.targets(sid)) {
      const frame = c.flags.supports_preview_metadata === true ? (withMeta ??= previewFrameWithMetadata(jpeg, promptId, node)) : (plain ??= previewFrame(jpeg));
      this.sendTo(c, frame, true);
    }
  }

  /** Whether any client would receive a message for `sid` (skip costly encoding when not). */
  hasTarget(sid?: string): boolean {
    return sid === undefined ? this.clients.size > 0 : this.clients.has(sid);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients.values()) c.ws.terminate();
    this.clients.clear();
    this.wss.close();
  }

  private targets(sid?: string): Client[] {
    if (sid === undefined) return [...this.clients.values()];
    const c = this.clients.get(sid);
    return c ? [c] : [];
  }

  private sendTo(c: Client, payload: string | Buffer, droppable: boolean): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (droppable && c.ws.bufferedAmount > SLOW_CLIENT_BYTES) return;
    c.ws.send(payload, (err) => {
      if (err) c.ws.terminate();
    });
  }

  private ping(): void {
    for (const [sid, c] of this.clients) {
      if (!c.alive) {
        c.ws.terminate();
        this.clients.delete(sid);
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        c.ws.terminate();
      }
    }
  }
}

function reject(socket: Duplex, status: number, type: string, message: string): void {
  const body = JSON.stringify({ error: errorObject(type, message) });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
