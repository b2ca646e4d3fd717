// What a failed validation reports: node_errors for the nodes that break outputs, each with the outputs it breaks,
// bounded so that a huge broken prompt gives a short answer; and the error thrown when no output can run.
import { type InputError, type NodeErrors, PromptValidationError, type PromptErrorType } from './errors.js';
import { list } from './validate-messages.js';

/** The most nodes listed in node_errors; the rest are counted in error.extra_info.node_errors_omitted. */
export const MAX_REPORTED_NODE_ERRORS = 100;
/** The most output ids listed in one node's dependent_outputs; the rest are counted in dependent_outputs_omitted. */
export const MAX_DEPENDENT_OUTPUTS = 100;

/** What the report reads from the validation walk (GraphWalk). */
export interface CheckedGraph {
  /** The ids `roots` depend on, themselves included, skipping (and adding to) `seen`. */
  upstreamOf(roots: string[], seen: Set<string>): string[];
  /** `id` and every node among `within` that reads from it. */
  downstreamOf(id: string, within: string[]): string[];
  errorsOf(id: string): InputError[];
  classOf(id: string): string;
}

export interface ErrorReport {
  nodeErrors: NodeErrors;
  /** Nodes with errors, listed or not. */
  badCount: number;
  errorCount: number;
  /** Nodes with errors left out of nodeErrors. */
  omitted: number;
}

/**
 * node_errors for the broken outputs: nodes with errors in the order the outputs reach them, the first
 * MAX_REPORTED_NODE_ERRORS reported, each with the outputs it breaks (one downstream walk per reported node, not one
 * upstream walk per output).
 */
export function reportNodeErrors(walk: CheckedGraph, badOutputs: string[], needed: string[]): ErrorReport {
  // A Map, then an object built with own properties: node ids may be any string, '__proto__' included.
  const errorsById = new Map<string, NodeErrors[string]>();
  if (badOutputs.length === 0) return { nodeErrors: {}, badCount: 0, errorCount: 0, omitted: 0 };
  const seen = new Set<string>();
  const bad = badOutputs.flatMap((o) => walk.upstreamOf([o], seen).filter((id) => walk.errorsOf(id).length > 0));
  let errorCount = 0;
  for (const id of bad) errorCount += walk.errorsOf(id).length;
  const omitted = Math.max(0, bad.length - MAX_REPORTED_NODE_ERRORS);
  const outputIndex = new Map(badOutputs.map((o, i) => [o, i]));
  for (const id of bad.slice(0, MAX_REPORTED_NODE_ERRORS)) {
    const dependents = walk.downstreamOf(id, needed).filter((d) => outputIndex.has(d));
    dependents.sort((a, b) => outputIndex.get(a)! - outputIndex.get(b)!);
    const entry: NodeErrors[string] = { errors: walk.errorsOf(id), dependent_outputs: dependents.slice(0, MAX_DEPENDENT_OUTPUTS), class_type: walk.classOf(id) };
    if (dependents.length > MAX_DEPENDENT_OUTPUTS) entry.dependent_outputs_omitted = dependents.length - MAX_DEPENDENT_OUTPUTS;
    errorsById.set(id, entry);
  }
  return { nodeErrors: Object.fromEntries(errorsById), badCount: bad.length, errorCount, omitted };
}

/** ComfyUI's prompt_outputs_failed_validation, when no output can run. */
export function outputsFailed(r: ErrorReport, outputs: string[]): PromptValidationError {
  const more = r.omitted > 0 ? `; ${r.badCount} node(s) with errors, the first ${MAX_REPORTED_NODE_ERRORS} listed in node_errors, ${r.omitted} more not listed` : '';
  return promptError(
    'prompt_outputs_failed_validation',
    'Prompt outputs failed validation',
    `${r.errorCount} error(s) in node(s) ${list(Object.keys(r.nodeErrors), 20)}; output node(s) ${list(outputs, 20)} cannot run${more}`,
    r.nodeErrors,
    r.omitted > 0 ? { node_errors_omitted: r.omitted } : {},
  );
}

export function promptError(type: PromptErrorType, message: string, details: string, nodeErrors: NodeErrors = {}, extra: Record<string, unknown> = {}): PromptValidationError {
  return new PromptValidationError({ type, message, details, extra_info: extra }, nodeErrors);
}
