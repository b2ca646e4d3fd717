// The top bar: run controls, file actions, the examples menu and the connection/queue status.
export interface ToolbarActions {
  queue(): void;
  interrupt(): void;
  addNode(): void;
  save(): void;
  exportApi(): void;
  open(file: File): void;
  clear(): void;
  fit(): void;
  loadExample(name: string): void;
}

export class Toolbar {
  private readonly examplesMenu: HTMLElement;
  private readonly examplesButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly title: HTMLElement;
  private readonly interruptButton: HTMLButtonElement;
  private connected = false;
  private remaining = 0;

  constructor(host: HTMLElement, actions: ToolbarActions) {
    host.innerHTML = `
      <div class="brand"><span class="logo">◆</span> instructbooth <span class="sep">/</span><span class="workflow-title" id="workflow-title">workflow</span></div>
      <div class="toolbar-group">
        <button type="button" class="primary" id="queue-button" title="Queue the workflow (Ctrl+Enter)">▶ Queue</button>
        <button type="button" id="interrupt-button" title="Stop the running prompt" disabled>■ Interrupt</button>
      </div>
      <div class="toolbar-group">
        <button type="button" id="add-node-button" title="Add a node (or double-click the canvas)">+ Add node</button>
        <div class="menu-wrap">
          <button type="button" id="examples-button" aria-haspopup="menu" aria-expanded="false">Examples ▾</button>
          <div class="menu" id="examples-menu" role="menu" hidden></div>
        </div>
        <button type="button" id="open-button" title="Open a workflow (.json or .png), or drop one on the page">Open…</button>
        <button type="button" id="save-button" title="Save the workflow as JSON">Save</button>
        <button type="button" id="export-button" title="Save the API prompt as JSON">Export API</button>
        <button type="button" id="fit-button" title="Fit the graph in view">Fit</button>
        <button type="button" id="clear-button" title="Remove every node">Clear</button>
        <input type="file" id="file-input" accept=".json,application/json,image/png" hidden />
      </div>
      <div class="status" id="status"><span class="dot"></span><span class="status-text">connecting…</span></div>`;
    const $ = <T extends HTMLElement>(id: string) => host.querySelector<T>(`#${id}`)!;
    this.title = $('workflow-title');
    this.status = $('status');
    this.interruptButton = $<HTMLButtonElement>('interrupt-button');
    this.examplesMenu = $('examples-menu');
    this.examplesButton = $<HTMLButtonElement>('examples-button');
    const fileInput = $<HTMLInputElement>('file-input');

    $('queue-button').addEventListener('click', () => actions.queue());
    this.interruptButton.addEventListener('click', () => actions.interrupt());
    $('add-node-button').addEventListener('click', () => actions.addNode());
    $('save-button').addEventListener('click', () => actions.save());
    $('export-button').addEventListener('click', () => actions.exportApi());
    $('fit-button').addEventListener('click', () => actions.fit());
    $('clear-button').addEventListener('click', () => {
      if (confirm('Remove every node from the canvas?')) actions.clear();
    });
    $('open-button').addEventListener('click', () => fileInput.click());
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      if (file) actions.open(file);
      fileInput.value = '';
    });
    this.examplesButton.addEventListener('click', () => this.toggleExamples());
    this.examplesMenu.addEventListener('click', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('[data-example]');
      if (!item) return;
      this.toggleExamples(false);
      actions.loadExample(item.dataset.example!);
    });
    document.addEventListener('click', (e) => {
      if (!(e.target as HTMLElement).closest('.menu-wrap')) this.toggleExamples(false);
    });
    this.setExamples([]);
  }

  setExamples(names: string[]): void {
    if (!names.length) {
      this.examplesMenu.innerHTML = '<div class="menu-empty">No example workflows on this server</div>';
      return;
    }
    this.examplesMenu.replaceChildren(
      ...names.map((name) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'menu-item';
        b.setAttribute('role', 'menuitem');
        b.dataset.example = name;
        b.textContent = name.replace(/\.json$/i, '').replace(/[-_]+/g, ' ');
        return b;
      }),
    );
  }

  private toggleExamples(open = this.examplesMenu.hidden): void {
    this.examplesMenu.hidden = !open;
    this.examplesButton.setAttribute('aria-expanded', String(open));
  }

  setTitle(name: string): void {
    this.title.textContent = name;
    document.title = `${name} · instructbooth`;
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    this.renderStatus();
  }

  setQueueRemaining(n: number): void {
    this.remaining = n;
    this.renderStatus();
  }

  setRunning(running: boolean): void {
    this.interruptButton.disabled = !running;
    this.status.classList.toggle('running', running);
  }

  private renderStatus(): void {
    this.status.classList.toggle('connected', this.connected);
    this.status.querySelector('.status-text')!.textContent = this.connected ? `queue: ${this.remaining}` : 'disconnected — retrying';
  }
}
