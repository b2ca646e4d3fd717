// The editor: a litegraph canvas whose node types come from /object_info, wired to the server's API and WebSocket.
// This class holds the parts together; each part lives in its own file.
import { LGraph, LGraphCanvas, LiteGraph, type LGraphNode, type Point } from '@comfyorg/litegraph';
import type { ObjectInfo } from '../../src/runtime/graph/object-info.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';
import type { WorkflowGraph } from '../../src/runtime/graph/workflow-to-prompt.js';
import type { UiWorkflowJsonV04 } from '../../src/runtime/graph/workflow-ui.js';
import type { ApiClient } from './api.js';
import { layOutApiPrompt } from './api-prompt-layout.js';
import { keepSaved, restoreSaved } from './autosave.js';
import { followHostSize, searchOnEmptyCanvas } from './canvas-events.js';
import { ChartPanel } from './chart-panel.js';
import { clientId } from './client-id.js';
import { describeNode } from './describe-node.js';
import { bindExecution } from './execution.js';
import { openDroppedFiles } from './file-drop.js';
import { fitView } from './fit-view.js';
import { registerFrontendNodes } from './frontend-nodes.js';
import { promptOf, serializeGraph } from './graph-to-prompt.js';
import { uploadInto } from './image-upload.js';
import { LiveState } from './live.js';
import { registerSchemaNodes } from './node-factory.js';
import { NodeSearch } from './node-search.js';
import type { QueuePromptResponse } from './protocol.js';
import { QueuePanel } from './queue-panel.js';
import { showQueueError } from './queue-errors.js';
import { searchItems } from './search-items.js';
import { installShortcuts } from './shortcuts.js';
import { editTextInPlace } from './text-editor.js';
import { toast } from './toast.js';
import { Toolbar } from './toolbar.js';
import { applySeedControls } from './widgets.js';
import { downloadJson, fileNameFor, readWorkflowFile, workflowNameOf } from './workflow-io.js';
import { ExecutionSocket } from './ws.js';

type Widget = NonNullable<LGraphNode['widgets']>[number];

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
    this.search = new NodeSearch(searchItems);

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
      uploadImage: (_node: LGraphNode, combo: Widget) => uploadInto(this.api, this.canvas, combo),
    };
    registerFrontendNodes(widgetEnv);
    try {
      this.objectInfo = await this.api.objectInfo();
    } catch (e) {
      toast(`Could not read the node list from the server: ${(e as Error).message}`, 'error');
    }
    registerSchemaNodes(this.objectInfo, widgetEnv);

    followHostSize(this.canvas);
    searchOnEmptyCanvas(this.canvas, (at, graphPos, filter, onAdded) => this.openSearch(at, graphPos, filter, onAdded));
    installShortcuts({ queue: () => void this.queue(), toggleMode: (mode) => this.toggleMode(mode) });
    openDroppedFiles((file) => void this.loadFile(file));
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

    if (!restoreSaved((workflow, name) => this.loadWorkflow(workflow, name))) this.fitView();
    keepSaved(this.graph, () => ({ workflow: this.serialize(), name: this.workflowName }));
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
    this.setName(name);
    const missing = [...new Set(this.graph.nodes.filter((n) => n.has_errors && !LiteGraph.registered_node_types[n.type]).map((n) => n.type))];
    if (missing.length) toast(`Unknown node types (kept, but they cannot run): ${missing.join(', ')}`, 'error');
    this.fitView();
    return true;
  }

  /** Lays out an API prompt as a graph: its nodes with their widget values, and links. */
  loadApiPrompt(prompt: Prompt, name: string): void {
    this.graph.clear();
    this.live.clear();
    layOutApiPrompt(this.graph, prompt);
    this.setName(name);
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

  private setName(fileName: string): void {
    this.workflowName = workflowNameOf(fileName);
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
      showQueueError(e, this.graph, this.live);
      return undefined;
    } finally {
      this.canvas.setDirty(true, true);
    }
  }

  async interrupt(): Promise<void> {
    try {
      await this.api.interrupt();
    } catch (e) {
      toast(`Could not interrupt: ${(e as Error).message}`, 'error');
    }
  }

  // ---- editing ----

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
    fitView(this.canvas, this.graph);
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

  /** The editor's view of a node, for tests: its class, title, widgets and slots. */
  describeNode(node: LGraphNode): unknown {
    return describeNode(node);
  }
}
