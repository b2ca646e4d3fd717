// UI workflow <-> API prompt, server-side. uiToPrompt does what ComfyUI's frontend graphToPrompt does, so a saved
// workflow runs without the editor; promptToUi lays an API prompt out as an editable workflow.
import { type Folders, type InputSpec, type NodeDefinition, isWidget } from './node-api.js';
import { type Link, type Prompt, type PromptNode, isLink, unwrapLiteral } from './prompt.js';
import { type NodeRegistry, comboOptions } from './registry.js';
import { type DataType, type UiLink, type UiNode, type UiNodeInput, type UiNodeOutput, type UiWorkflow, isPlainObject } from './workflow-ui.js';
import { setOwn } from './own-keys.js';

/** Frontend-only node types: never sent to the server. */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
/** Values of the extra "control after generate" widget that follows a seed in widgets_values. */
export const CONTROL_AFTER_GENERATE_VALUES: ReadonlySet<string> = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);
/** An image-upload combo (LoadImage) is followed in widgets_values by its upload button's value. */
const UPLOAD_WIDGET_VALUES: ReadonlySet<unknown> = new Set(['image']);

export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

/** Inputs in the order the editor creates them: required, then optional (object_info's input_order). */
export function orderedInputs(def: NodeDefinition): [string, InputSpec][] {
  const all = Object.entries(def.inputs);
  return [...all.filter(([, s]) => !s.optional), ...all.filter(([, s]) => s.optional)];
}

/** Inputs drawn as widgets (forceInput and link-only inputs have no widget and no widgets_values entry). */
export function widgetInputs(def: NodeDefinition): [string, InputSpec][] {
  return orderedInputs(def).filter(([, s]) => isWidget(s) && !s.forceInput);
}

/** The value a fresh widget holds: the declared default, else what the editor would show (0 within range, '', false,
 * the first choice). undefined when there is none (a combo with no choices). */
export function widgetDefault(spec: InputSpec, folders?: Folders): unknown {
  const s = spec as InputSpec & { default?: unknown; min?: number; max?: number };
  if (s.default !== undefined) return s.default;
  switch (spec.type) {
    case 'INT':
    case 'FLOAT': {
      let v = 0;
      if (typeof s.min === 'number' && v < s.min) v = s.min;
      if (typeof s.max === 'number' && v > s.max) v = s.max;
      return v;
    }
    case 'STRING':
      return '';
    case 'BOOLEAN':
      return false;
    case 'COMBO': {
      const c = spec as Extract<InputSpec, { type: 'COMBO' }>;
      if (typeof c.options !== 'function') return c.options[0];
      if (!folders) return undefined;
      try {
        return comboOptions(c, folders)[0];
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** API-format literal: lists are wrapped so they are not read as links. */
function literal(v: unknown): unknown {
  return Array.isArray(v) ? { __value__: v } : v;
}

type Resolved = { kind: 'link'; link: Link } | { kind: 'literal'; value: unknown } | { kind: 'keep' } | { kind: 'drop' };

interface Graph {
  nodes: Map<string, UiNode>;
  links: Map<number, UiLink>;
}

/**
 * The API prompt for a UI workflow, as the editor's "Queue Prompt" would send it. Muted nodes and notes are dropped;
 * bypassed nodes are dropped and their consumers fed from the bypassed node's first input of the same type; reroutes
 * are followed to the real source; a PrimitiveNode's value becomes a literal on its targets. Unknown node types are
 * kept (with their links) so validation reports them. Never throws on a workflow from parseUiWorkflow.
 */
export function uiToPrompt(workflow: UiWorkflow, registry: NodeRegistry, folders: Folders): Prompt {
  const g: Graph = { nodes: new Map(), links: new Map() };
  for (const n of workflow.nodes) g.nodes.set(String(n.id), n);
  for (const l of workflow.links) g.links.set(l.id, l);

  const out: [string, PromptNode][] = [];
  for (const node of workflow.nodes) {
    if (VIRTUAL_NODE_TYPES.has(node.type) || node.mode === MODE_MUTED || node.mode === MODE_BYPASS) continue;
    const def = registry.get(node.type);
    const slots = node.inputs ?? [];
    const inputs: [string, unknown][] = [];
    if (def) {
      const widgets = readWidgetValues(node, def, folders);
      for (const [name, spec] of orderedInputs(def)) {
        const slot = findSlot(slots, name);
        const r: Resolved = slot === undefined ? { kind: 'keep' } : resolveInput(g, node, slot);
        if (r.kind === 'drop') continue;
        if (r.kind === 'link') inputs.push([name, r.link]);
        else if (r.kind === 'literal') inputs.push([name, literal(r.value)]);
        else if (widgets.has(name)) inputs.push([name, literal(widgets.get(name))]);
      }
    } else {
      // Unknown type: its widgets cannot be named unless keyed by name; its links are kept.
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
    out.push([String(node.id), { inputs: Object.fromEntries(inputs), class_type: node.type, _meta: { title: node.title ?? def?.displayName ?? node.type } }]);
  }
  return Object.fromEntries(out);
}

/** A node's widget values by input name: positional over the widget inputs (skipping a seed's control value and an
 * upload button's value), or keyed by name; widgets without a stored value get their default. */
function readWidgetValues(node: UiNode, def: NodeDefinition, folders: Folders): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const wv = node.widgets_values;
  let i = 0;
  for (const [name, spec] of widgetInputs(def)) {
    let found = false;
    if (Array.isArray(wv)) {
      if (i < wv.length) {
        values.set(name, wv[i++]);
        found = true;
        const skip =
          (spec.type === 'INT' && (spec as { controlAfterGenerate?: boolean }).controlAfterGenerate && CONTROL_AFTER_GENERATE_VALUES.has(wv[i] as string)) ||
          (spec.type === 'COMBO' && (spec as { imageUpload?: boolean }).imageUpload && UPLOAD_WIDGET_VALUES.has(wv[i]));
        if (skip && i < wv.length) i++;
      }
    } else if (isPlainObject(wv) && Object.hasOwn(wv, name)) {
      values.set(name, wv[name]);
      found = true;
    }
    if (!found) {
      const d = widgetDefault(spec, folders);
      if (d !== undefined) values.set(name, d);
    }
  }
  return values;
}

function findSlot(slots: UiNodeInput[], name: string): number | undefined {
  let i = slots.findIndex((s) => (s.widget?.name ?? s.name) === name);
  if (i < 0) i = slots.findIndex((s) => s.name === name);
  return i < 0 ? undefined : i;
}

function sameType(a: DataType, b: DataType): boolean {
  return String(a) === String(b);
}

/** Where input `slot` of `consumer` really comes from, following reroutes and bypassed nodes (frontend semantics:
 * a bypassed node passes through its input at the link's slot index, else its first input of the consumer's type). */
function resolveInput(g: Graph, consumer: UiNode, slot: number): Resolved {
  const input = consumer.inputs?.[slot];
  if (!input || input.link === null) return { kind: 'keep' };
  const consumerType = input.type;
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
      const j = candidates.find((k) => ins[k] !== undefined && sameType(ins[k].type, consumerType));
      // No input of that type: the frontend links to the bypassed node and then drops the input.
      if (j === undefined) return { kind: 'drop' };
      const feed = ins[j].link;
      link = feed === null ? undefined : g.links.get(feed);
      continue;
    }
    // A link to a muted node is removed with the node.
    if (parent.mode === MODE_MUTED) return { kind: 'drop' };
    if (!Number.isInteger(link.origin_slot) || link.origin_slot < 0) return { kind: 'keep' };
    return { kind: 'link', link: [String(parent.id), link.origin_slot] };
  }
}

// ---- API prompt -> UI workflow ----

const COLUMN_WIDTH = 380;
const NODE_WIDTH = 320;
const ROW_GAP = 40;

/**
 * An editable UI workflow (version 0.4) for an API prompt: nodes in columns by depth (sources left), links for every
 * link input, widget values positional (a seed gets "fixed" after it). A literal on an input that has no widget
 * (forceInput, '*') becomes a PrimitiveNode feeding it, as in the editor. Numeric node ids are kept; others are
 * renumbered. uiToPrompt of the result gives the prompt back (with defaults for missing widgets).
 */
export function promptToUi(prompt: Prompt, registry: NodeRegistry): UiWorkflow {
  const entries = Object.entries(prompt).filter(([, n]) => isPlainObject(n) && typeof n.class_type === 'string');
  const idMap = new Map<string, number>();
  let nextId = 1;
  for (const [id] of entries) if (/^[1-9]\d{0,8}$/.test(id)) nextId = Math.max(nextId, Number(id) + 1);
  for (const [id] of entries) idMap.set(id, /^[1-9]\d{0,8}$/.test(id) ? Number(id) : nextId++);

  const inputsOf = (n: PromptNode): Record<string, unknown> => (isPlainObject(n.inputs) ? n.inputs : {});
  const sourcesOf = (n: PromptNode): string[] =>
    Object.values(inputsOf(n))
      .filter(isLink)
      .map((l) => String(l[0]))
      .filter((s) => idMap.has(s));

  // Depth = longest path from a source (Kahn's order); nodes on cycles go last at depth 0.
  const depth = new Map<string, number>();
  const order: string[] = [];
  const indeg = new Map<string, number>();
  const consumers = new Map<string, string[]>();
  for (const [id, n] of entries) {
    const srcs = sourcesOf(n);
    indeg.set(id, srcs.length);
    for (const s of srcs) {
      const list = consumers.get(s);
      if (list) list.push(id);
      else consumers.set(s, [id]);
    }
  }
  const queue = entries.filter(([id]) => indeg.get(id) === 0).map(([id]) => id);
  for (const id of queue) depth.set(id, 0);
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi];
    order.push(id);
    for (const c of consumers.get(id) ?? []) {
      depth.set(c, Math.max(depth.get(c) ?? 0, (depth.get(id) ?? 0) + 1));
      indeg.set(c, indeg.get(c)! - 1);
      if (indeg.get(c) === 0) queue.push(c);
    }
  }
  const placed = new Set(order);
  for (const [id] of entries) if (!placed.has(id)) order.push(id);

  const nodes = new Map<string, UiNode>();
  const links: UiLink[] = [];
  let lastLinkId = 0;
  const pendingLinks: { target: string; slot: number; source: string; sourceSlot: number }[] = [];
  const primitives: UiNode[] = [];

  for (const [id, n] of entries) {
    const def = registry.get(n.class_type);
    const given = inputsOf(n);
    const inputs: UiNodeInput[] = [];
    const addLink = (name: string, type: DataType, l: Link, widget: boolean) => {
      inputs.push({ name, type, link: null, ...(widget ? { widget: { name } } : {}) });
      pendingLinks.push({ target: id, slot: inputs.length - 1, source: String(l[0]), sourceSlot: l[1] });
    };
    let widgetsValues: unknown[] | Record<string, unknown>;
    if (def) {
      const wv: unknown[] = [];
      for (const [name, spec] of orderedInputs(def)) {
        const v = given[name];
        const linked = isLink(v) && idMap.has(String(v[0]));
        if (isWidget(spec) && !spec.forceInput) {
          const value = linked || v === undefined || isLink(v) ? widgetDefault(spec) : unwrapLiteral(v);
          wv.push(value);
          if (spec.type === 'INT' && (spec as { controlAfterGenerate?: boolean }).controlAfterGenerate) wv.push('fixed');
          if (spec.type === 'COMBO' && (spec as { imageUpload?: boolean }).imageUpload) wv.push('image');
          if (linked) addLink(name, spec.type, v, true);
        } else if (linked) addLink(name, spec.type, v, false);
        else {
          inputs.push({ name, type: spec.type, link: null });
          if (v !== undefined && !isLink(v)) primitives.push(primitiveFor(id, inputs.length - 1, spec.type, name, unwrapLiteral(v)));
        }
      }
      widgetsValues = wv;
    } else {
      const wv: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(given)) {
        if (isLink(v) && idMap.has(String(v[0]))) addLink(name, '*', v, false);
        else if (!isLink(v)) setOwn(wv, name, unwrapLiteral(v));
      }
      widgetsValues = wv;
    }
    const outputs: UiNodeOutput[] = (def?.outputs ?? []).map((o, k) => ({ name: o.name, type: o.type, links: [], slot_index: k }));
    const title = n._meta?.title;
    const rows = Math.max(inputs.length, outputs.length) + (Array.isArray(widgetsValues) ? widgetsValues.length : Object.keys(widgetsValues).length);
    nodes.set(id, {
      id: idMap.get(id)!,
      type: n.class_type,
      pos: [0, 0],
      size: [NODE_WIDTH, 46 + 24 * rows],
      flags: {},
      order: 0,
      mode: 0,
      inputs,
      outputs,
      properties: { 'Node name for S&R': n.class_type },
      widgets_values: widgetsValues,
      ...(typeof title === 'string' && title !== (def?.displayName ?? n.class_type) ? { title } : {}),
    });
  }

  function primitiveFor(target: string, slot: number, type: DataType, name: string, value: unknown): UiNode {
    const node: UiNode = {
      id: nextId++,
      type: 'PrimitiveNode',
      pos: [0, 0],
      size: [NODE_WIDTH, 82],
      flags: {},
      order: 0,
      mode: 0,
      outputs: [{ name: 'connect to widget input', type, links: [], widget: { name } }],
      properties: { 'Run widget replace on values': false },
      widgets_values: [value],
    };
    pendingLinks.push({ target, slot, source: `\0primitive${node.id}`, sourceSlot: 0 });
    return node;
  }
  const primitiveById = new Map(primitives.map((p) => [`\0primitive${p.id}`, p]));

  for (const pl of pendingLinks) {
    const target = nodes.get(pl.target)!;
    const source = primitiveById.get(pl.source) ?? nodes.get(pl.source);
    if (!source) continue;
    const outs = (source.outputs ??= []);
    const srcDef = registry.get(source.type);
    if (pl.sourceSlot < 0) continue;
    if (pl.sourceSlot >= outs.length) {
      // A slot the node does not have: leave unlinked (an unknown type grows placeholder outputs, within reason).
      if (srcDef || source.type === 'PrimitiveNode' || pl.sourceSlot >= outs.length + 32) continue;
      while (outs.length <= pl.sourceSlot) outs.push({ name: `output_${outs.length}`, type: '*', links: [], slot_index: outs.length });
    }
    const id = ++lastLinkId;
    const type = outs[pl.sourceSlot].type;
    links.push({ id, origin_id: source.id, origin_slot: pl.sourceSlot, target_id: target.id, target_slot: pl.slot, type });
    (outs[pl.sourceSlot].links ??= []).push(id);
    target.inputs![pl.slot].link = id;
  }

  // Layout: one column per depth; primitives sit in a column left of everything.
  const columnY = new Map<number, number>();
  const place = (node: UiNode, col: number) => {
    const y = columnY.get(col) ?? 50;
    node.pos = [50 + (col + 1) * COLUMN_WIDTH, y];
    columnY.set(col, y + node.size[1] + ROW_GAP);
  };
  const all: UiNode[] = [];
  for (const p of primitives) {
    place(p, -1);
    all.push(p);
  }
  for (const id of order) {
    const node = nodes.get(id)!;
    place(node, depth.get(id) ?? 0);
    all.push(node);
  }
  all.forEach((n, i) => (n.order = i));
  const byId = [...all].sort((a, b) => Number(a.id) - Number(b.id));
  return {
    version: 0.4,
    last_node_id: byId.reduce((m, n) => Math.max(m, Number(n.id)), 0),
    last_link_id: lastLinkId,
    nodes: byId,
    links,
    groups: [],
    config: {},
    extra: { ds: { scale: 1, offset: [0, 0] } },
  };
}
