// UI workflow <-> API prompt, server-side. uiToPrompt runs the editor's conversion (workflow-to-prompt.ts) over the
// node types as this server serves them at /object_info, so a saved workflow runs without the editor and gives the
// prompt the editor would send; promptToUi lays an API prompt out as an editable workflow.
import { defaultOf, readInputDef } from './input-schema.js';
import { type Folders, type InputSpec, type NodeDefinition, isWidget } from './node-api.js';
import type { EntryOf, ObjectInfoEntry } from './object-info.js';
import { type Link, type Prompt, type PromptNode, isLink, unwrapLiteral } from './prompt.js';
import { type NodeRegistry, comboOptions, inputInfo, objectInfoOf } from './registry.js';
import { workflowToPrompt } from './workflow-to-prompt.js';
import { type DataType, type UiLink, type UiNode, type UiNodeInput, type UiNodeOutput, type UiWorkflow, isPlainObject } from './workflow-ui.js';
import { setOwn } from './own-keys.js';

type ComboSpec = Extract<InputSpec, { type: 'COMBO' }>;

/** Inputs in the order the editor creates them: required, then optional (object_info's input_order). */
export function orderedInputs(def: NodeDefinition): [string, InputSpec][] {
  const all = Object.entries(def.inputs);
  return [...all.filter(([, s]) => !s.optional), ...all.filter(([, s]) => s.optional)];
}

/** The value a fresh widget holds, as the editor reads it from /object_info: the declared default, else 0 within
 * range, '', false, the first choice. A computed combo's choices need folders: without them (or when they cannot be
 * listed) it has no default. */
export function widgetDefault(spec: InputSpec, folders?: Folders): unknown {
  return defaultOf(readInputDef('', inputInfo(listedCombo(spec, folders), folders ?? NO_FOLDERS), !!spec.optional));
}

/** For reading a spec whose choices are listed already: inputInfo then reads no folder. */
const NO_FOLDERS: Folders = { input: '', output: '', temp: '', models: '' };

/**
 * The API prompt for a UI workflow, as the editor's "Queue Prompt" would send it (see workflowToPrompt). Never throws
 * on a workflow from parseUiWorkflow.
 */
export function uiToPrompt(workflow: UiWorkflow, registry: NodeRegistry, folders: Folders): Prompt {
  return workflowToPrompt(workflow, servedEntries(registry, folders));
}

/** The /object_info entries of the types a conversion asks for, each built once. */
function servedEntries(registry: NodeRegistry, folders: Folders): EntryOf {
  const entries = new Map<string, ObjectInfoEntry | undefined>();
  return (type) => {
    if (!entries.has(type)) {
      const def = registry.get(type);
      entries.set(type, def && servedEntry(def, folders));
    }
    return entries.get(type);
  };
}

/** `def`'s /object_info entry; a combo whose folder cannot be listed has no choices, rather than failing the run. */
function servedEntry(def: NodeDefinition, folders: Folders): ObjectInfoEntry {
  const inputs = Object.fromEntries(Object.entries(def.inputs).map(([name, spec]) => [name, listedCombo(spec, folders)]));
  return objectInfoOf({ ...def, inputs }, folders);
}

/** A computed combo with its choices listed now; none without folders, or when its folder cannot be listed. */
function listedCombo(spec: InputSpec, folders: Folders | undefined): InputSpec {
  if (spec.type !== 'COMBO' || typeof (spec as ComboSpec).options !== 'function') return spec;
  let options: string[] = [];
  try {
    if (folders) options = comboOptions(spec as ComboSpec, folders);
  } catch {
    /* no choices to default to */
  }
  return { ...(spec as ComboSpec), options };
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
