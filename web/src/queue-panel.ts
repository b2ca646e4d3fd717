// The queue (running and pending prompts, each removable) and the history (finished prompts with their status and
// output images; a click loads the workflow that made them), from GET /api/queue and /api/history.
import type { ApiClient } from './api.js';
import type { WorkflowGraph } from '../../src/runtime/graph/workflow-to-prompt.js';
import type { History, HistoryEntry, ImageRef, QueueItem, QueueState } from './protocol.js';

export interface QueuePanelActions {
  interrupt(): void;
  loadWorkflow(workflow: WorkflowGraph, name: string): void;
  toastError(message: string): void;
}

export class QueuePanel {
  private readonly queueList: HTMLElement;
  private readonly historyList: HTMLElement;
  private readonly queueCount: HTMLElement;
  private refreshing?: Promise<void>;
  private again = false;

  constructor(
    host: HTMLElement,
    private readonly api: ApiClient,
    private readonly actions: QueuePanelActions,
  ) {
    host.innerHTML = `
      <section class="panel-section" id="queue-section">
        <h2>Queue <span class="count" id="queue-count">0</span></h2>
        <ul class="queue-list" id="queue-list"></ul>
      </section>
      <section class="panel-section" id="history-section">
        <h2>History <button type="button" class="link-button" id="history-clear" title="Clear the history">clear</button></h2>
        <ul class="history-list" id="history-list"></ul>
      </section>`;
    this.queueList = host.querySelector('#queue-list')!;
    this.historyList = host.querySelector('#history-list')!;
    this.queueCount = host.querySelector('#queue-count')!;
    host.querySelector('#history-clear')!.addEventListener('click', async () => {
      await this.api.clearHistory().catch((e) => this.actions.toastError(String(e.message ?? e)));
      this.refresh();
    });
  }

  /** Re-reads queue and history; calls made while one runs are folded into one more. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const [queue, history] = await Promise.all([this.api.queue().catch(() => undefined), this.api.history(30).catch(() => undefined)]);
        if (queue) this.renderQueue(queue);
        if (history) this.renderHistory(history);
      } while (this.again);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private renderQueue(q: QueueState): void {
    const items: [QueueItem, 'running' | 'pending'][] = [
      ...(q.queue_running ?? []).map((i) => [i, 'running'] as [QueueItem, 'running']),
      ...[...(q.queue_pending ?? [])].sort((a, b) => a[0] - b[0]).map((i) => [i, 'pending'] as [QueueItem, 'pending']),
    ];
    this.queueCount.textContent = String(items.length);
    if (!items.length) {
      this.queueList.replaceChildren(emptyNote('Nothing queued.'));
      return;
    }
    this.queueList.replaceChildren(
      ...items.map(([item, state]) => {
        const li = document.createElement('li');
        li.className = `queue-item ${state}`;
        li.dataset.promptId = item[1];
        const label = document.createElement('span');
        label.className = 'queue-label';
        label.textContent = `${state === 'running' ? 'Running' : `#${item[0]}`} · ${shortId(item[1])} · ${Object.keys(item[2] ?? {}).length} nodes`;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'small-button';
        if (state === 'running') {
          button.textContent = 'Interrupt';
          button.addEventListener('click', () => this.actions.interrupt());
        } else {
          button.textContent = '✕';
          button.title = 'Remove from the queue';
          button.addEventListener('click', async () => {
            await this.api.deleteFromQueue([item[1]]).catch((e) => this.actions.toastError(String(e.message ?? e)));
            this.refresh();
          });
        }
        li.append(label, button);
        return li;
      }),
    );
  }

  private renderHistory(history: History): void {
    const entries = Object.entries(history).reverse();
    if (!entries.length) {
      this.historyList.replaceChildren(emptyNote('Finished runs appear here.'));
      return;
    }
    this.historyList.replaceChildren(...entries.map(([id, entry]) => this.historyItem(id, entry)));
  }

  private historyItem(id: string, entry: HistoryEntry): HTMLElement {
    const li = document.createElement('li');
    li.className = 'history-item';
    li.dataset.promptId = id;
    const status = entry.status?.status_str ?? (entry.status?.completed ? 'success' : 'unknown');
    const head = document.createElement('div');
    head.className = 'history-head';
    const badge = document.createElement('span');
    badge.className = `badge ${status}`;
    badge.textContent = status;
    const label = document.createElement('span');
    label.className = 'history-label';
    const finished = entry.status?.messages?.find(([type]) => type === 'execution_success' || type === 'execution_error');
    const ts = finished?.[1]?.timestamp;
    label.textContent = `${shortId(id)}${typeof ts === 'number' ? ` · ${new Date(ts).toLocaleTimeString()}` : ''}`;
    head.append(badge, label);
    const workflow = (entry.prompt?.[3] as { extra_pnginfo?: { workflow?: WorkflowGraph } } | undefined)?.extra_pnginfo?.workflow;
    if (workflow) {
      const load = document.createElement('button');
      load.type = 'button';
      load.className = 'small-button';
      load.textContent = 'Load';
      load.title = 'Load the workflow of this run';
      load.addEventListener('click', () => this.actions.loadWorkflow(workflow, `run ${shortId(id)}`));
      head.append(load);
    }
    li.append(head);
    const error = entry.status?.messages?.find(([type]) => type === 'execution_error')?.[1] as { exception_message?: string; node_type?: string } | undefined;
    if (error?.exception_message) {
      const p = document.createElement('p');
      p.className = 'history-error';
      p.textContent = `${error.node_type ?? ''}: ${error.exception_message}`;
      li.append(p);
    }
    const images = Object.values(entry.outputs ?? {}).flatMap((o) => (Array.isArray(o.images) ? (o.images as ImageRef[]) : []));
    if (images.length) {
      const strip = document.createElement('div');
      strip.className = 'history-images';
      for (const ref of images.slice(0, 8)) {
        const a = document.createElement('a');
        a.href = this.api.viewUrl(ref);
        a.target = '_blank';
        const img = document.createElement('img');
        img.loading = 'lazy';
        img.alt = ref.filename;
        img.src = this.api.viewUrl(ref);
        a.append(img);
        strip.append(a);
      }
      li.append(strip);
    }
    return li;
  }
}

function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

function emptyNote(text: string): HTMLElement {
  const li = document.createElement('li');
  li.className = 'panel-empty';
  li.textContent = text;
  return li;
}
