// The server's WebSocket (/ws?clientId=): JSON messages {type, data} and binary preview frames, reconnecting with
// backoff when the connection drops.
import type { ServerMessages } from './protocol.js';

export type MessageType = keyof ServerMessages;
type Handler<T extends MessageType> = (data: ServerMessages[T]) => void;

export interface PreviewFrame {
  mime: string;
  blob: Blob;
}

/** Binary frame event types (ComfyUI's): 1 = preview image, 4 = preview image with JSON metadata. */
const PREVIEW_IMAGE = 1;
const PREVIEW_IMAGE_WITH_METADATA = 4;

/** A preview frame's image: u32 BE event type, then (type 1) u32 image type (1 JPEG, 2 PNG) + bytes, or
 * (type 4) u32 metadata length + JSON + bytes. Undefined for other frames. */
export function parsePreviewFrame(buffer: ArrayBuffer): (PreviewFrame & { metadata?: Record<string, unknown> }) | undefined {
  if (buffer.byteLength < 8) return undefined;
  const view = new DataView(buffer);
  const event = view.getUint32(0);
  if (event === PREVIEW_IMAGE) {
    const imageType = view.getUint32(4);
    const mime = imageType === 2 ? 'image/png' : imageType === 3 ? 'image/webp' : 'image/jpeg';
    return { mime, blob: new Blob([buffer.slice(8)], { type: mime }) };
  }
  if (event === PREVIEW_IMAGE_WITH_METADATA) {
    const len = view.getUint32(4);
    if (8 + len > buffer.byteLength) return undefined;
    let metadata: Record<string, unknown> = {};
    try {
      metadata = JSON.parse(new TextDecoder().decode(buffer.slice(8, 8 + len)));
    } catch {
      /* a frame with bad metadata still carries its image */
    }
    const mime = typeof metadata.image_type === 'string' ? metadata.image_type : 'image/png';
    return { mime, blob: new Blob([buffer.slice(8 + len)], { type: mime }), metadata };
  }
  return undefined;
}

export class ExecutionSocket {
  private socket?: WebSocket;
  private handlers = new Map<string, Set<(data: never) => void>>();
  private previewHandlers = new Set<(frame: PreviewFrame, nodeId?: string) => void>();
  private connectionHandlers = new Set<(connected: boolean) => void>();
  private retryMs = 500;
  private closed = false;

  constructor(
    readonly clientId: string,
    private readonly url = defaultSocketUrl(clientId),
  ) {}

  connect(): void {
    this.closed = false;
    const socket = new WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = 500;
      for (const h of this.connectionHandlers) h(true);
    });
    socket.addEventListener('message', (ev) => this.dispatch(ev.data));
    socket.addEventListener('close', () => {
      for (const h of this.connectionHandlers) h(false);
      if (this.closed) return;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  on<T extends MessageType>(type: T, handler: Handler<T>): void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler as (data: never) => void);
  }

  onPreview(handler: (frame: PreviewFrame, nodeId?: string) => void): void {
    this.previewHandlers.add(handler);
  }

  onConnectionChange(handler: (connected: boolean) => void): void {
    this.connectionHandlers.add(handler);
  }

  private dispatch(data: unknown): void {
    if (data instanceof ArrayBuffer) {
      const frame = parsePreviewFrame(data);
      if (!frame) return;
      const nodeId = 'metadata' in frame ? (frame.metadata?.node_id as string | undefined) : undefined;
      for (const h of this.previewHandlers) h(frame, nodeId);
      return;
    }
    if (typeof data !== 'string') return;
    let msg: { type?: string; data?: unknown };
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg?.type !== 'string') return;
    for (const h of this.handlers.get(msg.type) ?? []) {
      try {
        (h as (d: unknown) => void)(msg.data);
      } catch (err) {
        console.error(`handler for ${msg.type} failed`, err);
      }
    }
  }
}

function defaultSocketUrl(clientId: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // The page may be served under a prefix (vite's base './'): the socket lives beside it.
  const dir = location.pathname.replace(/[^/]*$/, '');
  return `${proto}//${location.host}${dir}ws?clientId=${encodeURIComponent(clientId)}`;
}
