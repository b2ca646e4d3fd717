// Validation of an API prompt before it runs, with ComfyUI's error types and shapes (execution.py validate_prompt):
// prompt-level problems throw at once (validate-prompt-nodes.ts); input problems (validate-inputs.ts) are collected
// per node for every node an output needs, found by one walk of the graph (validate-walk.ts), and reported with
// their bounds (validate-report.ts).
import type { NodeErrors } from './errors.js';
import type { Folders } from './node-api.js';
import type { Prompt, PromptNode } from './prompt.js';
import type { NodeRegistry } from './registry.js';
import { list } from './validate-messages.js';
import { readNodes } from './validate-prompt-nodes.js';
import { outputsFailed, promptError, reportNodeErrors } from './validate-report.js';
import { GraphWalk } from './validate-walk.js';

export interface ValidatedPrompt {
  /** Output nodes that can run (ComfyUI's good outputs), in prompt order. */
  outputs: string[];
  /** The prompt with literals coerced ("5" -> 5 for INT/FLOAT, numbers -> strings for STRING), link node ids as
   * strings, missing optional widgets filled with their defaults and undeclared inputs dropped, for every validated
   * node; other nodes copied as they are. Literal lists stay wrapped as {"__value__": [...]}. */
  prompt: Prompt;
  /** Errors of nodes only some outputs need, when other outputs are still good (ComfyUI returns these with 200). */
  nodeErrors: NodeErrors;
}

export interface ValidateOptions {
  /** Only these output nodes (ComfyUI's partial_execution_targets); others are not validated or run. */
  targets?: readonly string[];
}

/**
 * Checks a prompt against the registry. Returns the output nodes to run and the coerced prompt, or throws a
 * PromptValidationError: invalid_prompt (not an object, a node not an object, class_type missing or unknown, inputs
 * not an object), prompt_no_outputs, or prompt_outputs_failed_validation with node_errors for the nodes the outputs need.
 */
export function validatePrompt(prompt: unknown, registry: NodeRegistry, folders: Folders, options: ValidateOptions = {}): ValidatedPrompt {
  const nodes = readNodes(prompt, registry);

  const targets = options.targets ? new Set(options.targets.map(String)) : undefined;
  const outputs = [...nodes.values()].filter((n) => n.def.outputNode && (!targets || targets.has(n.id))).map((n) => n.id);
  if (outputs.length === 0) {
    const outputTypes = registry
      .all()
      .filter((d) => d.outputNode)
      .map((d) => d.type);
    throw promptError(
      'prompt_no_outputs',
      'Prompt has no outputs',
      targets
        ? `none of the requested targets (${[...targets].join(', ')}) is an output node of the prompt`
        : `none of its ${nodes.size} node(s) is an output node${outputTypes.length ? ` (output node types: ${list(outputTypes, 8)})` : ''}`,
    );
  }

  const walk = new GraphWalk(nodes, folders);
  // Check every node some output needs, once each (as ComfyUI's validation memoizes each node's result), then look for
  // cycles among them.
  const needed = walk.upstreamOf(outputs);
  walk.markCycles(needed);

  // An output is good when no node upstream of it (itself included) has errors: one memoized walk for all outputs.
  const broken = walk.brokenNodes(needed);
  const good = outputs.filter((o) => !broken.has(o));
  const report = reportNodeErrors(walk, outputs.filter((o) => broken.has(o)), needed);
  if (good.length === 0) throw outputsFailed(report, outputs);

  const coerced: [string, PromptNode][] = [...nodes.values()].map((n) => {
    const checked = walk.checked(n.id);
    const pn: PromptNode = { class_type: n.cls, inputs: checked ? checked.inputs : { ...n.inputs } };
    if (n.meta !== undefined) pn._meta = n.meta;
    return [n.id, pn];
  });
  return { outputs: good, prompt: Object.fromEntries(coerced), nodeErrors: report.nodeErrors };
}
