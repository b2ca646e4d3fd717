// The node interface: a declarative schema (what /object_info serves and the editor draws) plus `run`. Nodes import
// this file; the executor, the CLI and the server see nodes only through it.
import type { ImageBatch } from '../engine/image.js';
import type { Rng } from '../onnx/random.js';
import type { InputsOf, PrimitiveValues } from './input-types.js';

export type { InputsGiven, InputsOf, InputValue, PrimitiveValues } from './input-types.js';

/** Socket types, named like ComfyUI's (MODEL, CLIP, VAE, IMAGE, LATENT, CONDITIONING...) plus the project's own. */
export type SocketType = string;

interface InputCommon {
  tooltip?: string;
  /** Optional inputs may be left unconnected/unset (ComfyUI's "optional" section). */
  optional?: boolean;
  /** A widget type that must be fed by a link (no widget drawn). */
  forceInput?: boolean;
}

export type InputSpec =
  | (InputCommon & { type: 'INT'; default?: number; min?: number; max?: number; step?: number; controlAfterGenerate?: boolean })
  | (InputCommon & { type: 'FLOAT'; default?: number; min?: number; max?: number; step?: number; round?: number })
  | (InputCommon & { type: 'STRING'; default?: string; multiline?: boolean; placeholder?: string })
  | (InputCommon & { type: 'BOOLEAN'; default?: boolean; labelOn?: string; labelOff?: string })
  /** A choice among options; `options` may be computed when asked (e.g. files in a folder). */
  | (InputCommon & { type: 'COMBO'; options: readonly string[] | ((folders: Folders) => string[]); default?: string; imageUpload?: boolean })
  /** A link-only socket (MODEL, IMAGE, PROMPTS...). */
  | (InputCommon & { type: SocketType; link: true });

/** Input types drawn as widgets (their values live in the workflow, not on links). */
export const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

export function isWidget(spec: InputSpec): boolean {
  return WIDGET_TYPES.has(spec.type) && !('link' in spec);
}

/** What an input the prompt leaves out gets before run: a widget's declared default (links have none). */
export function declaredDefault(spec: InputSpec): unknown {
  return isWidget(spec) && 'default' in spec ? spec.default : undefined;
}

export interface OutputSpec {
  name: string;
  type: SocketType;
  tooltip?: string;
  /** The output is a list processed element-wise downstream (ComfyUI's OUTPUT_IS_LIST). */
  isList?: boolean;
}

export interface Folders {
  input: string;
  output: string;
  temp: string;
  models: string;
}

/** A file a node wrote for the UI (ComfyUI's {filename, subfolder, type}). */
export interface FileRef {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp' | 'input';
}

/** What an output node shows in the UI, keyed like ComfyUI's (images, text, ...). */
export type UiOutput = Record<string, unknown[]>;

export interface NodeResult {
  /** One value per declared output, in order. */
  outputs: unknown[];
  ui?: UiOutput;
}

/**
 * What output nodes embed in saved PNGs: ComfyUI's hidden PROMPT (the API prompt being run) and EXTRA_PNGINFO (the
 * client's extra_data.extra_pnginfo, normally {workflow}: one text chunk per key). Absent: embed nothing.
 */
export interface PngInfo {
  prompt?: unknown;
  extraPngInfo?: Record<string, unknown>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface RunContext {
  /** The node's id in the prompt. */
  readonly nodeId: string;
  readonly promptId: string;
  readonly signal: AbortSignal;
  /** Seeded from the prompt and node, so a rerun repeats exactly. */
  readonly rng: Rng;
  readonly folders: Folders;
  /** For output nodes that save images. */
  readonly pngInfo?: PngInfo;
  /** Progress of this node (value of max), with an optional line of text (e.g. "loss 0.123"). */
  progress(value: number, max: number, text?: string): void;
  /** Training metrics (loss, reward_mean, reward_std, lr, ...) at a step or epoch. */
  metrics(values: Record<string, number>, step: number): void;
  /** A preview image shown on the node while it runs. */
  preview(image: ImageBatch): void;
  log(level: LogLevel, message: string): void;
  /** Throws an InterruptedError when the run was cancelled; long nodes call it at least once per step. */
  checkInterrupted(): void;
}

/** What every node declares besides its inputs. */
interface NodeSchema {
  /** ComfyUI's class_type. */
  type: string;
  displayName: string;
  category: string;
  description: string;
  outputs: OutputSpec[];
  /** Output nodes are where execution starts walking upstream (ComfyUI's OUTPUT_NODE). */
  outputNode?: boolean;
}

/**
 * A node as the registry, executor and server hold it, whatever its inputs: every node of a registry, typed or not.
 * Methods, not function-valued properties, so that a NodeDefinitionOf (whose run takes narrower inputs) is one.
 */
export interface NodeDefinition extends NodeSchema {
  /** Inputs in display order (ComfyUI's input_order). */
  inputs: Record<string, InputSpec>;
  /**
   * A fingerprint of outside state the node reads (a file's mtime, say), part of its cache key; return a fresh value
   * (e.g. NaN) to never cache. ComfyUI's IS_CHANGED. Gets the constant inputs (no linked ones).
   */
  isChanged?(inputs: Record<string, unknown>, folders: Folders): string | number | undefined;
  /**
   * Extra checks on widget values before the run (ComfyUI's VALIDATE_INPUTS); return an error message or nothing.
   * Gets the literal inputs given or defaulted (no linked ones).
   */
  validate?(inputs: Record<string, unknown>, folders: Folders): string | undefined;
  run(inputs: Record<string, unknown>, ctx: RunContext): Promise<NodeResult>;
}

/**
 * A node whose run gets inputs typed from its schema I (input-types.ts), links typed by the socket type map V. The
 * executor fills every declared default before run, so a node reads `inputs.steps`, never `inputs.steps ?? 25`.
 */
export interface NodeDefinitionOf<I extends Record<string, InputSpec>, V = PrimitiveValues> extends NodeSchema {
  /** Inputs in display order (ComfyUI's input_order). */
  inputs: I;
  /** As NodeDefinition's: constant inputs only, so any may be absent. */
  isChanged?(inputs: Partial<InputsOf<I, V>>, folders: Folders): string | number | undefined;
  /** As NodeDefinition's: literal inputs only, so any may be absent. */
  validate?(inputs: Partial<InputsOf<I, V>>, folders: Folders): string | undefined;
  run(inputs: InputsOf<I, V>, ctx: RunContext): Promise<NodeResult>;
}

/** Thrown by checkInterrupted(): the run was cancelled, not failed. */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/**
 * A node definition with its schema's literal type kept, so that `run` gets typed inputs; links of types other than
 * the primitive ones are `unknown` (nodes with their own socket types use nodeDefiner).
 */
export function defineNode<const I extends Record<string, InputSpec>>(def: NodeDefinitionOf<I>): NodeDefinitionOf<I> {
  return def;
}

/** defineNode for a set of nodes whose link sockets carry the value types V (e.g. MODEL -> the model handle). */
export function nodeDefiner<V extends PrimitiveValues>() {
  return <const I extends Record<string, InputSpec>>(def: NodeDefinitionOf<I, V>): NodeDefinitionOf<I, V> => def;
}
