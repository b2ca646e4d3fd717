// Executor events as ComfyUI's WebSocket messages (snake_case, ComfyUI's field names), one run at a time. The
// run's last `executing {node: null}` is not made here: the job runner sends it after the history entry is stored,
// as ComfyUI does. Previews and progress text become binary frames; metrics and logs become the project's own
// `training_metrics` and `instructbooth.log` messages.
import type { ImageBatch } from '../runtime/engine/image.js';
import type { ExecutionEvent } from '../runtime/graph/events.js';

export type WireMessage =
  /** {type, data} as JSON; `droppable` ones may be skipped for a client that is not keeping up. */
  | { kind: 'json'; type: string; data: Record<string, unknown>; droppable?: boolean }
  /** A preview image of `node` (binary frame type 1, or 4 with metadata for clients that asked for it). */
  | { kind: 'preview'; promptId: string; node: string; image: ImageBatch }
  /** ComfyUI's progress-text frame (type 3). */
  | { kind: 'text'; node: string; text: string };

type NodeState = 'pending' | 'running' | 'finished' | 'error';

interface NodeProgress {
  value: number;
  max: number;
  state: NodeState;
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: null;
  real_node_id: string;
}

/** Turns one run's events into wire messages, keeping what later messages need (cached nodes, per-node progress). */
export class RunMessages {
  private cached: string[] = [];
  private current: string | undefined;
  /** Per node id (a Map: ids may be any string, '__proto__' included). */
  private readonly nodes = new Map<string, NodeProgress>();

  constructor(readonly promptId: string) {}

  /** The node running now (for a client that reconnects mid-run). */
  get currentNode(): string | undefined {
    return this.current;
  }

  /** The per-node progress of the run so far (ComfyUI's progress_state payload). */
  progressState(): Record<string, unknown> {
    return { prompt_id: this.promptId, nodes: Object.fromEntries([...this.nodes].map(([id, n]) => [id, { ...n }])) };
  }

  toWire(e: ExecutionEvent): WireMessage[] {
    const prompt_id = e.promptId;
    switch (e.type) {
      case 'execution_start':
        return [json('execution_start', { prompt_id, timestamp: e.timestamp })];
      case 'execution_cached': {
        this.cached = [...e.nodes];
        for (const n of e.nodes) this.setNode(n, 'finished', 1, 1);
        const out: WireMessage[] = [json('execution_cached', { nodes: e.nodes, prompt_id, timestamp: e.timestamp })];
        if (e.nodes.length > 0) out.push(this.stateMessage());
        return out;
      }
      case 'executing': {
        if (e.node === null) return [];
        const out: WireMessage[] = [];
        this.finishCurrent();
        this.current = e.node;
        this.setNode(e.node, 'running', 0, 1);
        out.push(json('executing', { node: e.node, display_node: e.node, prompt_id }));
        out.push(this.stateMessage());
        return out;
      }
      case 'progress': {
        this.setNode(e.node, 'running', e.value, e.max);
        const out: WireMessage[] = [
          { kind: 'json', type: 'progress', data: { value: e.value, max: e.max, prompt_id, node: e.node }, droppable: true },
          { ...this.stateMessage(), droppable: true },
        ];
        if (e.text !== undefined) out.push({ kind: 'text', node: e.node, text: e.text });
        return out;
      }
      case 'metrics':
        return [json('training_metrics', { prompt_id, node: e.node, display_node: e.node, step: e.step, values: e.values, timestamp: Date.now() })];
      case 'preview':
        return [{ kind: 'preview', promptId: prompt_id, node: e.node, image: e.image }];
      case 'log':
        return [json('instructbooth.log', { prompt_id, node: e.node, level: e.level, message: e.message, timestamp: Date.now() })];
      case 'executed':
        return [json('executed', { node: e.node, display_node: e.node, output: e.output, prompt_id })];
      case 'execution_success':
        this.finishCurrent();
        return [this.stateMessage(), json('execution_success', { prompt_id, timestamp: e.timestamp })];
      case 'execution_error': {
        this.current = undefined;
        this.setNode(e.node, 'error', this.nodes.get(e.node)?.value ?? 0, this.nodes.get(e.node)?.max ?? 1);
        const current_outputs = [...this.cached, ...e.executed];
        return [
          this.stateMessage(),
          json('execution_error', {
            prompt_id,
            node_id: e.node,
            node_type: e.nodeType,
            executed: e.executed,
            exception_message: e.message,
            exception_type: e.exceptionType,
            traceback: e.traceback,
            current_inputs: e.currentInputs,
            current_outputs,
            timestamp: e.timestamp,
          }),
        ];
      }
      case 'execution_interrupted': {
        this.current = undefined;
        const out: WireMessage[] = [];
        const n = e.node === null ? undefined : this.nodes.get(e.node);
        if (e.node !== null && n) {
          this.setNode(e.node, 'error', n.value, n.max);
          out.push(this.stateMessage());
        }
        out.push(json('execution_interrupted', { prompt_id, node_id: e.node, node_type: e.nodeType, executed: e.executed, timestamp: e.timestamp }));
        return out;
      }
    }
  }

  private finishCurrent(): void {
    if (this.current === undefined) return;
    const n = this.nodes.get(this.current);
    if (n && n.state === 'running') this.setNode(this.current, 'finished', n.max, n.max);
    this.current = undefined;
  }

  private setNode(node: string, state: NodeState, value: number, max: number): void {
    this.nodes.set(node, { value, max, state, node_id: node, prompt_id: this.promptId, display_node_id: node, parent_node_id: null, real_node_id: node });
  }

  private stateMessage(): Extract<WireMessage, { kind: 'json' }> {
    return json('progress_state', this.progressState());
  }
}

function json(type: string, data: Record<string, unknown>): Extract<WireMessage, { kind: 'json' }> {
  return { kind: 'json', type, data };
}

/** The messages of a run that go into its history entry's status.messages (ComfyUI's status messages). */
export const STATUS_MESSAGE_TYPES: ReadonlySet<string> = new Set(['execution_start', 'execution_cached', 'execution_success', 'execution_error', 'execution_interrupted']);
