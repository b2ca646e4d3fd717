// Reads a workflow file (UI or API format) into an API prompt, applying --set overrides, and keeps the UI workflow
// for embedding in saved images.
import fs from 'node:fs';
import type { Folders } from '../runtime/graph/node-api.js';
import { type Prompt, isLink } from '../runtime/graph/prompt.js';
import { getOwn, setOwn } from '../runtime/graph/own-keys.js';
import type { NodeRegistry } from '../runtime/graph/registry.js';
import { uiToPrompt } from '../runtime/graph/ui-to-api.js';
import { parseWorkflowJson } from '../runtime/graph/workflow-ui.js';

export interface LoadedWorkflow {
  prompt: Prompt;
  /** The UI workflow when the file was one (embedded in PNGs as ComfyUI does). */
  workflow?: unknown;
}

export class UsageError extends Error {}

/** A file named on the command line that cannot be read. */
export class InputFileError extends Error {}

export function loadWorkflowFile(file: string, registry: NodeRegistry, folders: Folders): LoadedWorkflow {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputFileError(`cannot read workflow file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const parsed = parseWorkflowJson(text);
  if (parsed.kind === 'api') return { prompt: parsed.prompt };
  return { prompt: uiToPrompt(parsed.workflow, registry, folders), workflow: parsed.workflow };
}

/**
 * Applies `<node id or title>.<input>=<value>`: the value is read as JSON when it parses (numbers, booleans, lists),
 * else taken as a string. Titles may contain dots; input names do not, so the key splits at its last dot.
 */
export function applySet(prompt: Prompt, assignment: string): void {
  const eq = assignment.indexOf('=');
  const key = eq < 0 ? '' : assignment.slice(0, eq);
  const dot = key.lastIndexOf('.');
  if (eq < 0 || dot <= 0 || dot === key.length - 1) throw new UsageError(`--set '${assignment}': expected <node id or title>.<input>=<value>`);
  const target = key.slice(0, dot);
  const input = key.slice(dot + 1);
  const raw = assignment.slice(eq + 1);
  const ids = getOwn(prompt, target) ? [target] : Object.keys(prompt).filter((id) => prompt[id]._meta?.title === target);
  if (ids.length === 0) throw new UsageError(`--set '${assignment}': no node has id or title '${target}'`);
  if (ids.length > 1) throw new UsageError(`--set '${assignment}': ${ids.length} nodes are titled '${target}' (ids ${ids.join(', ')}); use an id`);
  const node = prompt[ids[0]];
  node.inputs ??= {};
  if (isLink(getOwn(node.inputs, input))) throw new UsageError(`--set '${assignment}': input '${input}' of node ${ids[0]} is connected to another node`);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  setOwn(node.inputs, input, Array.isArray(value) ? { __value__: value } : value);
}
