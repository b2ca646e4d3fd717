// The editor: a litegraph canvas whose node types come from /object_info, wired to the server's API and WebSocket.
import { LGraph, LGraphCanvas, LiteGraph, type LGraphNode, type Point } from '@comfyorg/litegraph';
import { ApiClient, ApiError } from './api.js';
import { ChartPanel } from './chart-panel.js';
import { bindExecution } from './execution.js';
import { FRONTEND_NODE_TYPES, registerFrontendNodes } from './frontend-nodes.js';
import { MODE_BYPASS, MODE_MUTED, type WorkflowGraph } from '../../src/runtime/graph/workflow-to-prompt.js';
import { promptOf, serializeGraph } from './graph-to-prompt.js';
import { LiveState } from './live.js';
import { entryOf, registerSchemaNodes, schemaOf } from './node-factory.js';
import { NodeSearch, type SearchItem } from './node-search.js';
import { QueuePanel } from './queue-panel.js';
import { inputsOf, outputsOf } from '../../src/runtime/graph/input-schema.js';
import { editTextInPlace } from './text-editor.js';
import { toast } from './toast.js';
import { Toolbar } from './toolbar.js';
import type { ObjectInfo } from '../../src/runtime/graph/object-info.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import type { UiWorkflowJsonV04 } from '../../src/runtime/graph/workflow-ui.js';
import type { QueuePromptResponse } from './protocol.js';
import { applySeedControls } from './widgets.js';
import { downloadJson, fileNameFor, readWorkflowFile } from './workflow-io.js';
import { ExecutionSocket } from './ws.js';

type Widget = NonNullable<LGraphNode['widgets']>[number];

const STORAGE_KEY = 'instructbooth.workflow';

function clientId(): string {
  let id = sessionStorage.getItem('instructbooth.clientId');
  if (!id) {
    id = crypto.randomUUID?.() ?? `${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
    sessionStorage.setItem('instructbooth.clientId', id);
  }
  return id;
}

/** "dir/My flow.json" -> "My flow" */
function displayName(name: string): string {
  return (name.split(/[\\/]/).pop() ?? name).replace(/\.(json|png)$/i, '') || 'workflow';
}

export class Editor {
  readonly graph = new LGraph();
  readonly canvas: LGraphCanvas;
  readonly live = new LiveState();
  readonly socket: ExecutionSocket;
  readonly search: NodeSearch;
  readonly charts: ChartPanel;
  readonly queuePanel: QueuePanel;
  readonly toolbar: Toolbar;
  objectInfo: ObjectInfo = {};
  workflowName = 'workflow';
  /** The last POST /prompt body, for debugging and tests. */
  lastQueued?: { prompt: Prompt; workflow: UiWorkflowJsonV04 };

  constructor(readonly api: ApiClient) {
    const el = document.getElementById('graph-canvas') as HTMLCanvasElement;
    this.canvas = new LGraphCanvas(el, this.graph);
    this.canvas.allow_searchbox = false;
    this.canvas.render_canvas_border = false;
    this.canvas.show_info = false;
    // Text stays drawn down to 40% zoom (litegraph drops it below 60%), so fitted graphs stay readable.
    this.canvas.low_quality_zoom_threshold = 0.4;
    this.socket = new ExecutionSocket(clientId());
    this.search = new NodeSearch(() => this.searchItems());

    const side = document.getElementById('side-panel')!;
    side.innerHTML = `
      <section class="panel-section" id="charts-section"><h2>Training</h2><div id="charts"></div></section>
      <div id="queue-host"></div>`;
    this.charts = new ChartPanel(side.querySelector('#charts')!, (id) => this.graph.getNodeById(id)?.title ?? `node ${id}`, (id) => this.focusNode(id));
    this.queuePanel = new QueuePanel(side.querySelector('#queue-host')!, api, {
      interrupt: () => void this.interrupt(),
      loadWorkflow: (wf, name) => this.loadWorkflow(wf, name),
      toastError: (m) => toast(m, 'error'),
    });
    this.toolbar = new Toolbar(document.getElementById('toolbar')!, {
      queue: () => void this.queue(),
      interrupt: () => void this.interrupt(),
      addNode: () => this.openSearch(),
      save: () => this.save(),
      exportApi: () => this.exportApi(),
      open: (file) => void this.loadFile(file),
      clear: () => this.clear(),
      fit: () => this.fitView(),
      loadExample: (name) => void this.loadExample(name),
    });
  }

  async start(): Promise<void> {
    const widgetEnv = {
      live: this.live,
      editText: (node: LGraphNode, widget: Widget, multiline: boolean) => editTextInPlace(this.canvas, node, widget, multiline, () => this.graph.change()),
      uploadImage: (node: LGraphNode, combo: Widget) => this.uploadInto(node, combo),
    };
    registerFrontendNodes(widgetEnv);
    try {
      this.objectInfo = await this.api.objectInfo();
    } catch (e) {
      toast(`Could not read the node list from the server: ${(e as Error).message}`, 'error');
    }
    registerSchemaNodes(this.objectInfo, widgetEnv);

    this.installCanvasEvents();
    this.installDrop();
    bindExecution(this.socket, this.api, this.live, this.charts, this.queuePanel, {
      graph: this.graph,
      redraw: () => this.canvas.setDirty(true, true),
      setQueueRemaining: (n) => this.toolbar.setQueueRemaining(n),
      setRunning: (r) => this.toolbar.setRunning(r),
    });
    this.socket.onConnectionChange((c) => this.toolbar.setConnected(c));
    this.socket.connect();
    void this.queuePanel.refresh();
    void this.api.workflowNames().then((names) => this.toolbar.setExamples(names));

    const saved = localStorage.getItem(STORAGE_KEY);
    let restored = false;
    if (saved) {
      try {
        const { workflow, name } = JSON.parse(saved) as { workflow: WorkflowGraph; name: string };
        restored = this.loadWorkflow(workflow, name);
      } catch {
        /* a bad saved graph is ignored */
      }
    }
    if (!restored) this.fitView();
    // Keep the graph across reloads, as ComfyUI does.
    let version = -1;
    setInterval(() => {
      const v = (this.graph as unknown as { _version: number })._version;
      if (v === version) return;
      version = v;
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify({ workflow: this.serialize(), name: this.workflowName }));
      } catch {
        /* storage full: not worth bothering the user */
      }
    }, 1000);
  }

  // ---- graph <-> files ----

  serialize(): UiWorkflowJsonV04 {
    return serializeGraph(this.graph);
  }

  toPrompt(): Prompt {
    return promptOf(this.serialize(), this.objectInfo);
  }

  /** Replaces the graph with `workflow`; false (and a message) when it cannot be read. */
  loadWorkflow(workflow: WorkflowGraph, name = 'workflow'): boolean {
    this.live.clear();
    this.charts.clear();
    try {
      this.graph.configure(structuredClone(workflow) as never);
    } catch (e) {
      toast(`Could not load ${name}: ${(e as Error).message}`, 'error');
      this.graph.clear();
      return false;
    }
    for (const node of this.graph.nodes) (node as LGraphNode & { onAfterGraphConfigured?: () => void }).onAfterGraphConfigured?.();
    this.workflowName = displayName(name);
    this.toolbar.setTitle(this.workflowName);
    const missing = [...new Set(this.graph.nodes.filter((n) => n.has_errors && !LiteGraph.registered_node_types[n.type]).map((n) => n.type))];
    if (missing.length) toast(`Unknown node types (kept, but they cannot run): ${missing.join(', ')}`, 'error');
    this.fitView();
    return true;
  }

  /** Lays out an API prompt as a graph: its nodes with their widget values, and links. */
  loadApiPrompt(prompt: Prompt, name: string): void {
    this.graph.clear();
    this.live.clear();
    const nodes = new Map<string, LGraphNode>();
    for (const [id, p] of Object.entries(prompt)) {
      const node = LiteGraph.createNode(p.class_type);
      if (!node) {
        toast(`Unknown node type ${p.class_type}`, 'error');
        continue;
      }
      if (/^\d+$/.test(id)) node.id = Number(id);
      if (p._meta?.title) node.title = p._meta.title;
      this.graph.add(node);
      nodes.set(id, node);
      for (const w of node.widgets ?? []) {
        const v = p.inputs[w.name];
        if (v !== undefined && !Array.isArray(v)) w.value = ((v as { __value__?: unknown })?.__value__ ?? v) as never;
      }
    }
    for (const [id, p] of Object.entries(prompt)) {
      const target = nodes.get(id);
      if (!target) continue;
      for (const [input, v] of Object.entries(p.inputs)) {
        if (!Array.isArray(v) || v.length !== 2) continue;
        const source = nodes.get(String(v[0]));
        const slot = target.inputs.findIndex((s) => s.name === input || s.widget?.name === input);
        if (source && slot >= 0) source.connect(Number(v[1]), target, slot);
      }
    }
    this.graph.arrange(80);
    this.workflowName = displayName(name);
    this.toolbar.setTitle(this.workflowName);
    this.fitView();
  }

  async loadFile(file: File): Promise<void> {
    const loaded = await readWorkflowFile(file);
    if ('error' in loaded) toast(loaded.error, 'error');
    else if (loaded.kind === 'workflow') this.loadWorkflow(loaded.workflow, file.name);
    else this.loadApiPrompt(loaded.prompt, file.name);
  }

  async loadExample(name: string): Promise<void> {
    try {
      const value = await this.api.workflow(name);
      const wf = value as WorkflowGraph;
      if (Array.isArray(wf?.nodes)) this.loadWorkflow(wf, name);
      else if (value && typeof value === 'object') this.loadApiPrompt(value as Prompt, name);
    } catch (e) {
      toast(`Could not load example ${name}: ${(e as Error).message}`, 'error');
    }
  }

  save(): void {
    downloadJson(this.serialize(), fileNameFor(this.workflowName));
  }

  exportApi(): void {
    downloadJson(this.toPrompt(), fileNameFor(`${this.workflowName}_api`));
  }

  clear(): void {
    this.graph.clear();
    this.live.clear();
    this.charts.clear();
    this.workflowName = 'workflow';
    this.toolbar.setTitle(this.workflowName);
  }

  // ---- running ----

  async queue(): Promise<QueuePromptResponse | undefined> {
    const workflow = this.serialize();
    const prompt = promptOf(workflow, this.objectInfo);
    for (const n of this.graph.nodes) n.has_errors = false;
    for (const id of Object.keys(this.live.snapshot())) {
      const s = this.live.get(id);
      if (s) s.error = undefined;
    }
    this.lastQueued = { prompt, workflow };
    try {
      const res = await this.api.queuePrompt(prompt, this.socket.clientId, workflow);
      for (const node of this.graph.nodes) applySeedControls(node);
      this.graph.change();
      void this.queuePanel.refresh();
      return res;
    } catch (e) {
      this.showQueueError(e);
      return undefined;
    } finally {
      this.canvas.setDirty(true, true);
    }
  }

  /** A refused prompt: the message, and each failing node marked with its errors. */
  private showQueueError(e: unknown): void {
    if (!(e instanceof ApiError)) {
      toast(`Could not queue: ${(e as Error).message}`, 'error');
      return;
    }
    const body = e.body as { node_errors?: Record<string, { errors?: { message?: string; details?: string }[]; class_type?: string }> } | undefined;
    const lines: string[] = [];
    for (const [id, ne] of Object.entries(body?.node_errors ?? {})) {
      const messages = (ne.errors ?? []).map((x) => [x.message, x.details].filter(Boolean).join(': '));
      lines.push(`#${id} ${ne.class_type ?? ''}: ${messages.join('; ')}`);
      const node = this.graph.getNodeById(id);
      if (node) node.has_errors = true;
      this.live.ensure(id).error = { type: 'invalid input', message: messages.join('\n') };
    }
    toast(`Prompt refused: ${e.message}`, 'error', lines.join('\n') || undefined);
  }

  async interrupt(): Promise<void> {
    try {
      await this.api.interrupt();
    } catch (e) {
      toast(`Could not interrupt: ${(e as Error).message}`, 'error');
    }
  }

  // ---- editing ----

  searchItems(): SearchItem[] {
    const items: SearchItem[] = [...schemaOf].map(([type, entry]) => ({
      type,
      title: entry.display_name || type,
      category: entry.category ?? '',
      description: entry.description ?? '',
      inputTypes: inputsOf(entry).map((i) => i.type),
      outputTypes: outputsOf(entry).map((o) => o.type),
    }));
    for (const f of FRONTEND_NODE_TYPES)
      items.push({ type: f.type, title: f.title, category: 'utils', description: f.description, inputTypes: f.type === 'Reroute' ? ['*'] : [], outputTypes: f.type === 'Note' ? [] : ['*'] });
    return items;
  }

  /** Adds a node of `type` at a graph position (default: the middle of the view). */
  addNode(type: string, pos?: Point): LGraphNode | undefined {
    const node = LiteGraph.createNode(type);
    if (!node) return undefined;
    const at = pos ?? this.viewCenter();
    node.pos = [at[0] - node.size[0] / 2, at[1] - 20];
    this.graph.add(node);
    this.canvas.selectNode(node);
    this.canvas.setDirty(true, true);
    return node;
  }

  openSearch(at?: { x: number; y: number }, graphPos?: Point, filter?: { input?: string; output?: string }, onAdded?: (node: LGraphNode) => void): void {
    this.search.open({
      at,
      filter,
      onPick: (type) => {
        const node = this.addNode(type, graphPos);
        if (node) onAdded?.(node);
      },
    });
  }

  private viewCenter(): Point {
    const el = this.canvas.canvas;
    const { scale, offset } = this.canvas.ds;
    return [el.width / 2 / scale - offset[0], el.height / 2 / scale - offset[1]];
  }

  /** Fits every node in view (not zooming in past 1:1). */
  fitView(): void {
    const nodes = this.graph.nodes;
    const el = this.canvas.canvas;
    if (!nodes.length || !el.width) {
      this.canvas.ds.scale = 1;
      this.canvas.ds.offset = [0, 0];
      this.canvas.setDirty(true, true);
      return;
    }
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const n of nodes) {
      x0 = Math.min(x0, n.pos[0]);
      y0 = Math.min(y0, n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT);
      x1 = Math.max(x1, n.pos[0] + n.size[0]);
      y1 = Math.max(y1, n.pos[1] + n.size[1] + 60); // room for progress and errors under nodes
    }
    const margin = 40;
    const scale = Math.min(1, (el.width - 2 * margin) / (x1 - x0), (el.height - 2 * margin) / (y1 - y0));
    this.canvas.ds.scale = Math.max(0.4, scale);
    const s = this.canvas.ds.scale;
    this.canvas.ds.offset = [(el.width / s - (x1 - x0)) / 2 - x0, Math.max(margin / s, (el.height / s - (y1 - y0)) / 2) - y0];
    this.canvas.setDirty(true, true);
  }

  /** Sets the selected nodes to `mode` (bypass or mute), or back to normal when all already have it. */
  toggleMode(mode: number): void {
    const selected = Object.values(this.canvas.selected_nodes ?? {});
    if (!selected.length) return;
    const all = selected.every((n) => n.mode === mode);
    for (const n of selected) n.mode = all ? 0 : (mode as never);
    this.graph.change();
    this.canvas.setDirty(true, true);
  }

  focusNode(id: string): void {
    const node = this.graph.getNodeById(id);
    if (!node) return;
    this.canvas.centerOnNode(node);
    this.canvas.selectNode(node);
    this.canvas.setDirty(true, true);
  }

  private async uploadInto(node: LGraphNode, combo: Widget): Promise<void> {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = 'image/png,image/jpeg,image/webp';
    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      if (!file) return;
      try {
        const ref = await this.api.uploadImage(file);
        const name = ref.subfolder ? `${ref.subfolder}/${ref.name}` : ref.name;
        const values = (combo.options as { values?: string[] }).values;
        if (Array.isArray(values) && !values.includes(name)) values.push(name);
        combo.value = name as never;
        this.canvas.setDirty(true, true);
        toast(`Uploaded ${name}`, 'success');
      } catch (e) {
        toast(`Upload failed: ${(e as Error).message}`, 'error');
      }
      void node;
    });
    input.click();
  }

  private installCanvasEvents(): void {
    const el = this.canvas.canvas;
    const host = el.parentElement!;
    new ResizeObserver(() => {
      this.canvas.resize(host.clientWidth, host.clientHeight);
    }).observe(host);
    this.canvas.resize(host.clientWidth, host.clientHeight);

    el.addEventListener('litegraph:canvas', (ev) => {
      const detail = (ev as CustomEvent).detail as { subType: string; originalEvent?: MouseEvent & { canvasX?: number; canvasY?: number }; linkReleaseContext?: { links: { node: LGraphNode; slot: number; input?: { type: unknown }; output?: { type: unknown } }[] } };
      const e = detail.originalEvent;
      if (!e) return;
      const at = { x: e.clientX, y: e.clientY };
      const graphPos: Point = [e.canvasX ?? 0, e.canvasY ?? 0];
      if (detail.subType === 'empty-double-click') this.openSearch(at, graphPos);
      else if (detail.subType === 'empty-release') {
        const link = detail.linkReleaseContext?.links?.[0];
        if (!link) return;
        if (link.output) {
          const type = String(link.output.type);
          this.openSearch(at, graphPos, { input: type }, (node) => link.node.connectByType(link.slot, node, type));
        } else if (link.input) {
          const type = String(link.input.type);
          this.openSearch(at, graphPos, { output: type }, (node) => {
            node.pos = [graphPos[0] - node.size[0], graphPos[1]];
            link.node.connectByTypeOutput(link.slot, node, type);
          });
        }
      }
    });

    // Keyboard: Ctrl+Enter queues, Space-less shortcuts stay litegraph's (Delete, Ctrl+C/V...).
    document.addEventListener('keydown', (e) => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void this.queue();
      } else if ((e.key === 'b' || e.key === 'm') && (e.ctrlKey || e.metaKey)) {
        // ComfyUI's shortcuts: Ctrl+B bypasses, Ctrl+M mutes the selected nodes (again: back to normal).
        e.preventDefault();
        this.toggleMode(e.key === 'b' ? MODE_BYPASS : MODE_MUTED);
      }
    });
  }

  private installDrop(): void {
    document.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) {
        e.preventDefault();
        document.body.classList.add('dropping');
      }
    });
    document.addEventListener('dragleave', (e) => {
      if (!e.relatedTarget) document.body.classList.remove('dropping');
    });
    document.addEventListener('drop', (e) => {
      document.body.classList.remove('dropping');
      const file = e.dataTransfer?.files?.[0];
      if (!file) return;
      e.preventDefault();
      void this.loadFile(file);
    });
  }

  /** The editor's view of a node, for tests: its class, title, widgets and slots. */
  describeNode(node: LGraphNode): unknown {
    return {
      id: node.id,
      type: node.type,
      title: node.title,
      known: !!entryOf(node),
      inputs: node.inputs.map((s) => ({ name: s.name, type: s.type, link: s.link, widget: s.widget?.name })),
      outputs: node.outputs.map((s) => ({ name: s.name, type: s.type, links: s.links })),
      widgets: (node.widgets ?? []).map((w) => ({ name: w.name, type: w.type, value: w.value })),
      pos: [node.pos[0], node.pos[1]],
      size: [node.size[0], node.size[1]],
    };
  }
}
