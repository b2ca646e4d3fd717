// The server's HTTP API (ComfyUI's routes under /api), plus the project's /api/workflows for example files.
import type { ObjectInfo } from '../../src/runtime/graph/object-info.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import type { UiWorkflowJsonV04 } from '../../src/runtime/graph/workflow-ui.js';
import type { History, ImageRef, QueuePromptResponse, QueueState, UploadResult } from './protocol.js';

/** A non-2xx answer; `body` is the parsed JSON error when there is one (ComfyUI's {error, node_errors}). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  constructor(readonly base = '') {}

  url(path: string): string {
    return `${this.base}/api${path}`;
  }

  private async request<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await fetch(this.url(path), init);
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (!res.ok) throw new ApiError(res.status, errorMessage(body) ?? `${res.status} ${res.statusText}`, body);
    return body as T;
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  }

  objectInfo(): Promise<ObjectInfo> {
    return this.request('/object_info');
  }

  queuePrompt(prompt: Prompt, clientId: string, workflow: UiWorkflowJsonV04): Promise<QueuePromptResponse> {
    return this.post('/prompt', { prompt, client_id: clientId, extra_data: { extra_pnginfo: { workflow } } });
  }

  interrupt(promptId?: string): Promise<unknown> {
    return this.post('/interrupt', promptId ? { prompt_id: promptId } : {});
  }

  queue(): Promise<QueueState> {
    return this.request('/queue');
  }

  deleteFromQueue(ids: string[]): Promise<unknown> {
    return this.post('/queue', { delete: ids });
  }

  history(maxItems = 50): Promise<History> {
    return this.request(`/history?max_items=${maxItems}`);
  }

  clearHistory(): Promise<unknown> {
    return this.post('/history', { clear: true });
  }

  viewUrl(ref: ImageRef): string {
    const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type ?? 'output' });
    return `${this.url('/view')}?${q}`;
  }

  async uploadImage(file: File, overwrite = false): Promise<UploadResult> {
    const form = new FormData();
    form.append('image', file, file.name);
    form.append('type', 'input');
    if (overwrite) form.append('overwrite', 'true');
    return this.request('/upload/image', { method: 'POST', body: form });
  }

  /** Example workflow file names (workflows/*.json); [] when the server has none or lacks the route. */
  async workflowNames(): Promise<string[]> {
    try {
      const names = await this.request<unknown>('/workflows');
      return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
    } catch {
      return [];
    }
  }

  workflow(name: string): Promise<unknown> {
    return this.request(`/workflows/${encodeURIComponent(name)}`);
  }
}

/** The readable part of a ComfyUI error body. */
export function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string' && body) return body.slice(0, 300);
  if (typeof body !== 'object' || body === null) return undefined;
  const e = (body as { error?: unknown }).error;
  if (typeof e === 'string') return e;
  if (typeof e === 'object' && e !== null) {
    const { message, details } = e as { message?: string; details?: string };
    return [message, details].filter(Boolean).join(': ') || undefined;
  }
  return undefined;
}
