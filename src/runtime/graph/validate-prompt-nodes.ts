// The prompt-level checks of validation (ComfyUI's invalid_prompt): the prompt is an object of nodes, not too many,
// each with a known class_type and an inputs object. What passes is read into one record per node.
import type { PromptNode } from './prompt.js';
import type { NodeDefinition } from './node-api.js';
import type { NodeRegistry } from './registry.js';
import { promptError } from './validate-report.js';
import { isPlainObject, preview } from './workflow-ui.js';

/** The most nodes a prompt may have (a bound on the work and memory one request may cost; real workflows have far
 * fewer). Larger prompts are refused at once with invalid_prompt. */
export const MAX_PROMPT_NODES = 10_000;

export interface NodeRecord {
  id: string;
  cls: string;
  def: NodeDefinition;
  inputs: Record<string, unknown>;
  meta: PromptNode['_meta'];
  title: string | undefined;
}

export function readNodes(prompt: unknown, registry: NodeRegistry): Map<string, NodeRecord> {
  if (!isPlainObject(prompt))
    throw promptError('invalid_prompt', 'Cannot execute because the prompt is not an object mapping node ids to nodes', `got ${preview(prompt)}`);
  const count = Object.keys(prompt).length;
  if (count > MAX_PROMPT_NODES)
    throw promptError(
      'invalid_prompt',
      `Cannot execute because the prompt has ${count} nodes; a prompt may have at most ${MAX_PROMPT_NODES}`,
      `${count} nodes, over the limit of ${MAX_PROMPT_NODES} (a bound on the work one request may cost)`,
      {},
      { node_count: count, max_nodes: MAX_PROMPT_NODES },
    );
  const nodes = new Map<string, NodeRecord>();
  for (const [id, raw] of Object.entries(prompt)) {
    if (!isPlainObject(raw))
      throw promptError('invalid_prompt', `Cannot execute because node #${id} is not an object {class_type, inputs}.`, `Node ID '#${id}': got ${preview(raw)}`, {}, { node_id: id });
    const cls = raw.class_type;
    if (cls === undefined || cls === null)
      throw promptError('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${id}'`, {}, { node_id: id });
    if (typeof cls !== 'string')
      throw promptError('invalid_prompt', `Cannot execute because the class_type of node #${id} is not a string.`, `Node ID '#${id}': got ${preview(cls)}`, {}, { node_id: id });
    const def = registry.get(cls);
    if (!def)
      throw promptError('invalid_prompt', `Cannot execute because node ${cls} does not exist.`, `Node ID '#${id}'`, {}, { node_id: id, class_type: cls });
    const inputs = raw.inputs === undefined || raw.inputs === null ? {} : raw.inputs;
    if (!isPlainObject(inputs))
      throw promptError('invalid_prompt', `Cannot execute because the inputs of node #${id} (${cls}) are not an object.`, `Node ID '#${id}': got ${preview(inputs)}`, {}, { node_id: id, class_type: cls });
    const meta = isPlainObject(raw._meta) ? (raw._meta as PromptNode['_meta']) : undefined;
    const title = typeof meta?.title === 'string' && meta.title !== cls && meta.title !== def.displayName ? meta.title : undefined;
    nodes.set(id, { id, cls, def, inputs, meta, title });
  }
  return nodes;
}
