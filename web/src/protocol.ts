// Shapes of what the server speaks (ComfyUI's API): /object_info entries, workflow JSON, WebSocket messages.

/** Options of one input, as /object_info lists them. */
export interface InputOptions {
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  round?: number | false;
  multiline?: boolean;
  placeholder?: string;
  tooltip?: string;
  forceInput?: boolean;
  control_after_generate?: boolean;
  image_upload?: boolean;
  label_on?: string;
  label_off?: string;
  /** Newer ComfyUI combos: ["COMBO", {options: [...]}]. */
  options?: unknown[];
  [k: string]: unknown;
}

/** [TYPE, options] or [[choices], options]. */
export type InputDef = [string | unknown[], InputOptions?] | [string | unknown[]];

export interface ObjectInfoEntry {
  input: { required?: Record<string, InputDef>; optional?: Record<string, InputDef>; hidden?: Record<string, unknown> };
  input_order?: { required?: string[]; optional?: string[] };
  output: (string | unknown[])[];
  output_is_list?: boolean[];
  output_name?: string[];
  output_tooltips?: (string | null)[];
  name: string;
  display_name?: string;
  description?: string;
  category?: string;
  output_node?: boolean;
  python_module?: string;
}

export type ObjectInfo = Record<string, ObjectInfoEntry>;

// ---- workflow JSON (UI format, version 0.4 as written; version 1 is read by litegraph) ----

export type SlotType = string | number | string[];

export interface WorkflowInput {
  name: string;
  type: SlotType;
  link: number | null;
  widget?: { name: string };
  [k: string]: unknown;
}

export interface WorkflowOutput {
  name: string;
  type: SlotType;
  links: number[] | null;
  slot_index?: number;
  widget?: { name: string };
  [k: string]: unknown;
}

export interface WorkflowNode {
  id: number | string;
  type: string;
  pos: [number, number] | Record<string, number>;
  size: [number, number] | Record<string, number>;
  flags?: Record<string, unknown>;
  order?: number;
  mode?: number;
  inputs?: WorkflowInput[];
  outputs?: WorkflowOutput[];
  properties?: Record<string, unknown>;
  widgets_values?: unknown[] | Record<string, unknown>;
  title?: string;
  [k: string]: unknown;
}

/** [id, origin_id, origin_slot, target_id, target_slot, type] */
export type WorkflowLinkTuple = [number, number | string, number, number | string, number, SlotType];

export interface WorkflowLinkObject {
  id: number;
  origin_id: number | string;
  origin_slot: number;
  target_id: number | string;
  target_slot: number;
  type: SlotType;
}

export interface Workflow {
  last_node_id?: number;
  last_link_id?: number;
  nodes: WorkflowNode[];
  links: (WorkflowLinkTuple | WorkflowLinkObject)[];
  groups?: unknown[];
  config?: unknown;
  extra?: Record<string, unknown>;
  version: number;
  [k: string]: unknown;
}

// ---- API prompt ----

export type Link = [string, number];

export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

export type Prompt = Record<string, PromptNode>;

// ---- HTTP answers ----

export interface QueuePromptResponse {
  prompt_id: string;
  number: number;
  node_errors: Record<string, NodeValidationError>;
}

export interface ApiErrorDetail {
  type: string;
  message: string;
  details?: string;
  extra_info?: Record<string, unknown>;
}

export interface NodeValidationError {
  errors: ApiErrorDetail[];
  dependent_outputs?: string[];
  class_type?: string;
}

/** [number, prompt_id, prompt, extra_data, outputs_to_execute] */
export type QueueItem = [number, string, Prompt, Record<string, unknown>?, string[]?];

export interface QueueState {
  queue_running: QueueItem[];
  queue_pending: QueueItem[];
}

/** What POST /upload/image answers. */
export interface UploadResult {
  name: string;
  subfolder?: string;
  type?: string;
}

export interface ImageRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, Record<string, unknown[]>>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
  meta?: Record<string, unknown>;
}

export type History = Record<string, HistoryEntry>;

// ---- WebSocket messages ----

export interface ExecutionErrorData {
  prompt_id: string;
  node_id: string;
  node_type: string;
  exception_message: string;
  exception_type: string;
  traceback?: string[] | string;
  executed?: string[];
}

export interface TrainingMetricsData {
  prompt_id: string;
  node: string;
  step: number;
  values: Record<string, number>;
}

export interface ServerMessages {
  status: { status: { exec_info: { queue_remaining: number } }; sid?: string };
  execution_start: { prompt_id: string; timestamp?: number };
  execution_cached: { prompt_id: string; nodes: string[] };
  executing: { prompt_id?: string; node: string | null; display_node?: string };
  progress: { prompt_id?: string; node?: string | null; value: number; max: number };
  executed: { prompt_id: string; node: string; display_node?: string; output: Record<string, unknown[]> };
  execution_success: { prompt_id: string; timestamp?: number };
  execution_error: ExecutionErrorData;
  execution_interrupted: { prompt_id: string; node_id?: string; node_type?: string; executed?: string[] };
  training_metrics: TrainingMetricsData;
}
