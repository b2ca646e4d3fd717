// UI workflow -> API prompt, as ComfyUI's frontend graphToPrompt does. The one conversion: the editor runs it on the
// graph it serializes, over the /object_info it was served; the server runs it on saved workflows (ui-to-api.ts),
// over the same entries built from its registry. Browser-safe: the editor bundles it.
import { defaultOf, inputsOf, widgetInputsOf } from './input-schema.js';
import type { EntryOf, ObjectInfoEntry } from './object-info.js';
import type { Link, Prompt, PromptNode } from './prompt.js';
import { storedWidgets } from './widget-values.js';
import { type UiLink, type UiLinkTuple, type UiNode, type UiNodeInput, isPlainObject } from './workflow-ui.js';

/** Frontend-only node types: never sent to the server. */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

/** What the conversion reads of a workflow: its nodes and links, as either version writes links (0.4's tuples as
 * litegraph saves them, version 1's objects as parseUiWorkflow leaves every link). */
export interface WorkflowGraph {
  nodes: readonly UiNode[];
  links?: readonly (UiLink | UiLinkTuple)[];
  [k: string]: unknown;
}

type Resolved = { kind: 'link'; link: Link } | { kind: 'literal'; value: unknown } | { kind: 'keep' } | { kind: 'drop' };

interface Graph {
  nodes: Map<string, UiNode>;
  links: Map<number, UiLink>;
}

/**
 * The API prompt for a UI workflow, as the editor's "Queue Prompt" sends it. Muted nodes and notes are dropped;
 * bypassed nodes are dropped and their consumers fed from the bypassed node's input of the same type; reroutes are
 * followed to the real source; a PrimitiveNode's value becomes a literal on its targets. Unknown node types are kept
 * (with their links) so validation reports them. Never throws on a workflow from parseUiWorkflow.
 */
export function workflowToPrompt(workflow: WorkflowGraph, entryOf: EntryOf): Prompt {
  const g: Graph = { nodes: new Map(), links: new Map() };
  for (const n of workflow.nodes) g.nodes.set(String(n.id), n);
  for (const l of workflow.links ?? []) {
    const link = Array.isArray(l) ? { id: l[0], origin_id: l[1], origin_slot: l[2], target_id: l[3], target_slot: l[4], type: l[5] } : l;
    g.links.set(link.id, link);
  }

  const out: [string, PromptNode][] = [];
  for (const node of workflow.nodes) {
    if (VIRTUAL_NODE_TYPES.has(node.type) || node.mode === MODE_MUTED || node.mode === MODE_BYPASS) continue;
    const entry = entryOf(node.type);
    const inputs = entry ? knownInputs(g, node, entry) : unknownInputs(g, node);
    const title = node.title ?? entry?.display_name ?? node.type;
    out.push([String(node.id), { inputs: Object.fromEntries(inputs), class_type: node.type, _meta: { title } }]);
  }
  return Object.fromEntries(out);
}

/** A known type's inputs in its entry's order: links, literals from primitives, else the widget's value. */
function knownInputs(g: Graph, node: UiNode, entry: ObjectInfoEntry): [string, unknown][] {
  const widgets = widgetValues(node, entry);
  const slots = node.inputs ?? [];
  const inputs: [string, unknown][] = [];
  for (const { name } of inputsOf(entry)) {
    const slot = findSlot(slots, name);
    const r: Resolved = slot === undefined ? { kind: 'keep' } : resolveInput(g, node, slot);
    if (r.kind === 'drop') continue;
    if (r.kind === 'link') inputs.push([name, r.link]);
    else if (r.kind === 'literal') inputs.push([name, literal(r.value)]);
    else if (widgets.has(name)) inputs.push([name, literal(widgets.get(name))]);
  }
  return inputs;
}

/** An unknown type's widgets cannot be named unless keyed by name; its links are kept. */
function unknownInputs(g: Graph, node: UiNode): [string, unknown][] {
  const inputs: [string, unknown][] = [];
  const linked = new Set<string>();
  (node.inputs ?? []).forEach((s, i) => {
    const r = resolveInput(g, node, i);
    if (r.kind === 'link') inputs.push([s.name, r.link]);
    else if (r.kind === 'literal') inputs.push([s.name, literal(r.value)]);
    else return;
    linked.add(s.name);
  });
  if (isPlainObject(node.widgets_values))
    for (const [k, v] of Object.entries(node.widgets_values)) if (!linked.has(k)) inputs.push([k, literal(v)]);
  return inputs;
}

/** A node's widget values by input name; widgets without a stored value get their default. */
function widgetValues(node: UiNode, entry: ObjectInfoEntry): Map<string, unknown> {
  const values = new Map(storedWidgets(entry, node.widgets_values).map((w) => [w.input.name, w.value]));
  for (const input of widgetInputsOf(entry)) {
    const d = values.has(input.name) ? undefined : defaultOf(input);
    if (d !== undefined) values.set(input.name, d);
  }
  return values;
}

/** API-format literal: lists are wrapped so they are not read as links. */
function literal(v: unknown): unknown {
  return Array.isArray(v) ? { __value__: v } : v;
}

function findSlot(slots: UiNodeInput[], name: string): number | undefined {
  let i = slots.findIndex((s) => (s.widget?.name ?? s.name) === name);
  if (i < 0) i = slots.findIndex((s) => s.name === name);
  return i < 0 ? undefined : i;
}

/** Where input `slot` of `consumer` really comes from, following reroutes and bypassed nodes (frontend semantics:
 * a bypassed node passes through its input at the link's slot index, else its first input of the consumer's type). */
function resolveInput(g: Graph, consumer: UiNode, slot: number): Resolved {
  const input = consumer.inputs?.[slot];
  if (!input || input.link === null || input.link === undefined) return { kind: 'keep' };
  const consumerType = String(input.type);
  let link = g.links.get(input.link);
  const seen = new Set<number>();
  for (;;) {
    if (!link || seen.has(link.id)) return { kind: 'keep' };
    seen.add(link.id);
    const parent = g.nodes.get(String(link.origin_id));
    if (!parent) return { kind: 'keep' };
    if (parent.type === 'Reroute') {
      link = linkFeeding(g, parent.inputs?.[0]);
      continue;
    }
    if (parent.type === 'PrimitiveNode') {
      const wv = parent.widgets_values;
      const v = Array.isArray(wv) ? wv[0] : isPlainObject(wv) ? wv.value : undefined;
      return v === undefined ? { kind: 'keep' } : { kind: 'literal', value: v };
    }
    if (VIRTUAL_NODE_TYPES.has(parent.type)) return { kind: 'keep' };
    if (parent.mode === MODE_BYPASS) {
      const ins = parent.inputs ?? [];
      const candidates = [link.origin_slot, ...ins.keys()];
      const j = candidates.find((k) => ins[k] !== undefined && String(ins[k].type) === consumerType);
      // No input of that type: the frontend links to the bypassed node and then drops the input.
      if (j === undefined) return { kind: 'drop' };
      link = linkFeeding(g, ins[j]);
      continue;
    }
    // A link to a muted node is removed with the node.
    if (parent.mode === MODE_MUTED) return { kind: 'drop' };
    if (!Number.isInteger(link.origin_slot) || link.origin_slot < 0) return { kind: 'keep' };
    return { kind: 'link', link: [String(parent.id), link.origin_slot] };
  }
}

function linkFeeding(g: Graph, input: UiNodeInput | undefined): UiLink | undefined {
  const id = input?.link;
  return id === null || id === undefined ? undefined : g.links.get(id);
}
