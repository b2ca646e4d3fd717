// What a run reports while it goes: one discriminated union on `type`. Each event maps 1:1 onto a ComfyUI WebSocket
// message of the same name (camelCase fields here, snake_case on the wire: promptId -> prompt_id, node -> node and
// display_node, nodeType -> node_type, message -> exception_message, ...). `metrics`, `preview` and `log` have no
// JSON twin in ComfyUI: previews go out as binary frames, metrics and logs as the project's own messages.
import type { ImageBatch } from '../engine/image.js';
import type { LogLevel, UiOutput } from './node-api.js';

/** The run began (ComfyUI's execution_start). `timestamp` is milliseconds since the epoch, as ComfyUI sends it. */
export interface ExecutionStartEvent {
  type: 'execution_start';
  promptId: string;
  timestamp: number;
}

/** Nodes whose results came from the cache of earlier runs and will not run again. */
export interface ExecutionCachedEvent {
  type: 'execution_cached';
  promptId: string;
  nodes: string[];
  timestamp: number;
}

/** A node starts running; `node: null` means the run is over (sent just before the final event). */
export interface ExecutingEvent {
  type: 'executing';
  promptId: string;
  node: string | null;
}

/** Progress of the running node; `text` is ComfyUI's binary progress-text frame (e.g. "loss 0.123"). */
export interface ProgressEvent {
  type: 'progress';
  promptId: string;
  node: string;
  value: number;
  max: number;
  text?: string;
}

/** Training metrics (loss, reward_mean, lr, ...) of the running node at a step. */
export interface MetricsEvent {
  type: 'metrics';
  promptId: string;
  node: string;
  step: number;
  values: Record<string, number>;
}

/** A preview image of the running node (ComfyUI sends these as binary frames). */
export interface PreviewEvent {
  type: 'preview';
  promptId: string;
  node: string;
  image: ImageBatch;
}

export interface LogEvent {
  type: 'log';
  promptId: string;
  node: string;
  level: LogLevel;
  message: string;
}

/** A node's UI output (images, text...); re-sent for cached output nodes, as ComfyUI does. */
export interface ExecutedEvent {
  type: 'executed';
  promptId: string;
  node: string;
  output: UiOutput;
}

/** The run failed at `node`. ComfyUI's execution_error. */
export interface ExecutionErrorEvent {
  type: 'execution_error';
  promptId: string;
  timestamp: number;
  node: string;
  nodeType: string;
  /** ComfyUI's exception_message. */
  message: string;
  /** The error's name (Error, TypeError, NodeOutputError...). */
  exceptionType: string;
  /** Stack frames, one per entry, each ending in "\n" (ComfyUI's traceback.format_tb list). */
  traceback: string[];
  /** Nodes that ran in this run before the failure. */
  executed: string[];
  /** The failing node's inputs, each a one-element list of a JSON-safe rendering (ComfyUI's current_inputs). */
  currentInputs: Record<string, unknown[]>;
}

/**
 * The run was cancelled while `node` ran (or was about to run). `node` is null when the run was cancelled before any
 * node was reached.
 */
export interface ExecutionInterruptedEvent {
  type: 'execution_interrupted';
  promptId: string;
  timestamp: number;
  node: string | null;
  nodeType: string | null;
  executed: string[];
}

export interface ExecutionSuccessEvent {
  type: 'execution_success';
  promptId: string;
  timestamp: number;
}

export type ExecutionEvent =
  | ExecutionStartEvent
  | ExecutionCachedEvent
  | ExecutingEvent
  | ProgressEvent
  | MetricsEvent
  | PreviewEvent
  | LogEvent
  | ExecutedEvent
  | ExecutionErrorEvent
  | ExecutionInterruptedEvent
  | ExecutionSuccessEvent;

export type ExecutionEventType = ExecutionEvent['type'];

/** The event of one type: EventOf<'progress'> is ProgressEvent. */
export type EventOf<T extends ExecutionEventType> = Extract<ExecutionEvent, { type: T }>;

export type ExecutionEventHandler = (event: ExecutionEvent) => void;

/** The events that end a run; exactly one of them is the last event of every run. */
export function isFinalEvent(e: ExecutionEvent): e is ExecutionErrorEvent | ExecutionInterruptedEvent | ExecutionSuccessEvent {
  return e.type === 'execution_success' || e.type === 'execution_error' || e.type === 'execution_interrupted';
}
