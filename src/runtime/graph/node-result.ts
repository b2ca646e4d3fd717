// What a node's run gave back, held to its schema's contract, and how a thrown error is reported (ComfyUI's
// exception_type, exception_message and traceback).
import type { NodeDefinition, UiOutput } from './node-api.js';

/** A node's result as the executor keeps and caches it. */
export interface NodeOutputs {
  outputs: unknown[];
  ui?: UiOutput;
}

/** A node broke its own schema's contract (wrong number of outputs, no result). */
class NodeOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeOutputError';
  }
}

/** The result, when it has one output per declared output and a ui that is an object; else throws. */
export function checkResult(node: { id: string; classType: string; def: Pick<NodeDefinition, 'outputs'> }, result: unknown): NodeOutputs {
  const r = result as { outputs?: unknown; ui?: unknown } | null | undefined;
  const want = node.def.outputs.length;
  if (!r || typeof r !== 'object' || !Array.isArray(r.outputs))
    throw new NodeOutputError(`node ${node.id} (${node.classType}) returned no outputs list; its schema declares ${want} output${want === 1 ? '' : 's'}`);
  if (r.outputs.length !== want)
    throw new NodeOutputError(`node ${node.id} (${node.classType}) returned ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'}; its schema declares ${want}`);
  if (r.ui !== undefined && (r.ui === null || typeof r.ui !== 'object' || Array.isArray(r.ui)))
    throw new NodeOutputError(`node ${node.id} (${node.classType}) returned a ui that is not an object`);
  return r.ui === undefined ? { outputs: r.outputs } : { outputs: r.outputs, ui: r.ui as UiOutput };
}

export function describeError(err: unknown): { message: string; exceptionType: string; traceback: string[] } {
  if (err instanceof Error) {
    const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    return { message: err.message, exceptionType: err.name || err.constructor.name || 'Error', traceback: frames.map((l) => `${l}\n`) };
  }
  return { message: String(err), exceptionType: typeof err, traceback: [] };
}
