// Workflow (UI JSON) -> API prompt, as ComfyUI's frontend graphToPrompt does and as the server's uiToPrompt
// (src/runtime/graph/ui-to-api.ts) does: widget values by name from widgets_values (positional over widget inputs,
// skipping a seed's control value and an upload button's value), links as [source id, output slot]; muted nodes
// and notes dropped; bypassed nodes dropped with their consumers fed from the bypassed node's input of the same
// type; reroutes followed; a PrimitiveNode's value becomes a literal. Pure: no DOM, no litegraph.
import {
  type InputSchema,
  UPLOAD_WIDGET_VALUE,
  hasControlAfterGenerate,
  hasImageUpload,
  isControlValue,
  orderedInputs,
  widgetDefault,
  widgetInputs,
} from './schema.js';
import type { Link, ObjectInfo, ObjectInfoEntry, Prompt, PromptNode, SlotType, Workflow, WorkflowInput, WorkflowNode } from './types.js';

/** Frontend-only node types: never sent to the server. */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

interface LinkInfo {
  id: number;
  origin_id: number | string;
  origin_slot: number;
  target_id: number | string;
  target_slot: number;
  type: SlotType;
}

interface Graph {
  nodes: Map<string, WorkflowNode>;
  links: Map<number, LinkInfo>;
}

type Resolved = { kind: 'link'; link: Link } | { kind: 'literal'; value: unknown } | { kind: 'keep' } | { kind: 'drop' };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Links of either workflow version as objects. */
export function workflowLinks(workflow: Workflow): LinkInfo[] {
  return (workflow.links ?? []).map((l) =>
    Array.isArray(l) ? { id: l[0], origin_id: l[1], origin_slot: l[2], target_id: l[3], target_slot: l[4], type: l[5] } : l,
  );
}

/** API-format literal: lists are wrapped so they are not read as links. */
function literal(v: unknown): unknown {
  return Array.isArray(v) ? { __value__: v } : v;
}

export function workflowToPrompt(workflow: Workflow, objectInfo: ObjectInfo): Prompt {
  const g: Graph = { nodes: new Map(), links: new Map() };
  for (const n of workflow.nodes) g.nodes.set(String(n.id), n);
  for (const l of workflowLinks(workflow)) g.links.set(l.id, l);

  const out: [string, PromptNode][] = [];
  for (const node of workflow.nodes) {
    if (VIRTUAL_NODE_TYPES.has(node.type) || node.mode === MODE_MUTED || node.mode === MODE_BYPASS) continue;
    const entry = objectInfo[node.type];
    const slots = node.inputs ?? [];
    const inputs: [string, unknown][] = [];
    if (entry) {
      const widgets = readWidgetValues(node, entry);
      for (const input of orderedInputs(entry)) {
        const slot = findSlot(slots, input.name);
        const r: Resolved = slot === undefined ? { kind: 'keep' } : resolveInput(g, node, slot);
        if (r.kind === 'drop') continue;
        if (r.kind === 'link') inputs.push([input.name, r.link]);
        else if (r.kind === 'literal') inputs.push([input.name, literal(r.value)]);
        else if (widgets.has(input.name)) inputs.push([input.name, literal(widgets.get(input.name))]);
      }
    } else {
      // Unknown type: keep its links (and widgets keyed by name) so the server reports it.
      const linked = new Set<string>();
      slots.forEach((s, i) => {
        const r = resolveInput(g, node, i);
        if (r.kind === 'link') inputs.push([s.name, r.link]);
        else if (r.kind === 'literal') inputs.push([s.name, literal(r.value)]);
        else return;
        linked.add(s.name);
      });
      if (isPlainObject(node.widgets_values))
        for (const [k, v] of Object.entries(node.widgets_values)) if (!linked.has(k)) inputs.push([k, literal(v)]);
    }
    const title = node.title ?? entry?.display_name ?? node.type;
    out.push([String(node.id), { inputs: Object.fromEntries(inputs), class_type: node.type, _meta: { title } }]);
  }
  return Object.fromEntries(out);
}

/** A node's widget values by input name; widgets without a stored value get their default. */
export function readWidgetValues(node: WorkflowNode, entry: ObjectInfoEntry): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const wv = node.widgets_values;
  let i = 0;
  for (const input of widgetInputs(entry)) {
    let found = false;
    if (Array.isArray(wv)) {
      if (i < wv.length) {
        values.set(input.name, wv[i++]);
        found = true;
        const skip = (hasControlAfterGenerate(input) && isControlValue(wv[i])) || (hasImageUpload(input) && wv[i] === UPLOAD_WIDGET_VALUE);
        if (skip && i < wv.length) i++;
      }
    } else if (isPlainObject(wv) && Object.hasOwn(wv, input.name)) {
      values.set(input.name, wv[input.name]);
      found = true;
    }
    if (!found) {
      const d = widgetDefault(input);
      if (d !== undefined) values.set(input.name, d);
    }
  }
  return values;
}

function findSlot(slots: WorkflowInput[], name: string): number | undefined {
  let i = slots.findIndex((s) => (s.widget?.name ?? s.name) === name);
  if (i < 0) i = slots.findIndex((s) => s.name === name);
  return i < 0 ? undefined : i;
}

/** Where input `slot` of `consumer` really comes from, following reroutes and bypassed nodes. */
function resolveInput(g: Graph, consumer: WorkflowNode, slot: number): Resolved {
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
      const feed = parent.inputs?.[0]?.link;
      link = feed === null || feed === undefined ? undefined : g.links.get(feed);
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
      if (j === undefined) return { kind: 'drop' };
      const feed = ins[j].link;
      link = feed === null || feed === undefined ? undefined : g.links.get(feed);
      continue;
    }
    if (parent.mode === MODE_MUTED) return { kind: 'drop' };
    if (!Number.isInteger(link.origin_slot) || link.origin_slot < 0) return { kind: 'keep' };
    return { kind: 'link', link: [String(parent.id), link.origin_slot] };
  }
}

/** Ids of output nodes in the prompt (what a run executes). */
export function outputNodeIds(prompt: Prompt, objectInfo: ObjectInfo): string[] {
  return Object.entries(prompt)
    .filter(([, n]) => objectInfo[n.class_type]?.output_node)
    .map(([id]) => id);
}

export type { InputSchema };
