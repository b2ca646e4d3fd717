// Errors in ComfyUI's shapes (POST /prompt's 400 body), so clients written for ComfyUI read ours unchanged.

/** Input-level error types, as ComfyUI names them. */
export type InputErrorType =
  | 'required_input_missing' | 'bad_linked_input' | 'return_type_mismatch' | 'invalid_input_type'
  | 'value_smaller_than_min' | 'value_bigger_than_max' | 'value_not_in_list' | 'custom_validation_failed'
  | 'exception_during_validation' | 'exception_during_inner_validation' | 'dependency_cycle';

/** Prompt-level error types. */
export type PromptErrorType = 'invalid_prompt' | 'prompt_no_outputs' | 'prompt_outputs_failed_validation' | 'no_prompt';

export interface InputError {
  type: InputErrorType;
  message: string;
  details: string;
  extra_info: { input_name?: string; input_config?: unknown; received_value?: unknown; linked_node?: unknown; [k: string]: unknown };
}

export interface NodeErrorEntry {
  errors: InputError[];
  /** The outputs this node keeps from running (at most MAX_DEPENDENT_OUTPUTS of them). */
  dependent_outputs: string[];
  /** **instructbooth**: how many more outputs it breaks than dependent_outputs lists (only when some are left out). */
  dependent_outputs_omitted?: number;
  class_type: string;
}

export type NodeErrors = Record<string, NodeErrorEntry>;

export interface PromptErrorBody {
  type: PromptErrorType;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

/** A prompt that failed validation: the body and the per-node errors ComfyUI returns with status 400. */
export class PromptValidationError extends Error {
  constructor(
    readonly error: PromptErrorBody,
    readonly nodeErrors: NodeErrors = {},
  ) {
    super(formatValidation(error, nodeErrors));
    this.name = 'PromptValidationError';
  }

  toJSON(): { error: PromptErrorBody; node_errors: NodeErrors } {
    return { error: this.error, node_errors: this.nodeErrors };
  }
}

/** One readable line per problem: "node 4 (KSampler) input 'steps': Value 0 smaller than min of 1". */
export function formatValidation(error: PromptErrorBody, nodeErrors: NodeErrors): string {
  const lines = [`${error.message}${error.details ? `: ${error.details}` : ''}`];
  for (const e of Object.values(nodeErrors))
    for (const ie of e.errors)
      // Messages already name the node, its class and the input.
      lines.push(`  ${ie.message}${ie.details ? ` (${ie.details})` : ''}`);
  return lines.join('\n');
}

/**
 * A workflow file that is not JSON, or not a ComfyUI workflow (UI JSON) or API prompt. `path` points at the part that
 * is wrong, e.g. `nodes[3].inputs[1].link` ('' for the whole file); `reason` says what was expected there.
 */
export class WorkflowFormatError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `${path}: ${reason}` : reason);
    this.name = 'WorkflowFormatError';
  }
}
