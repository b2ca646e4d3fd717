// ComfyUI's UI workflow JSON (what the editor saves): version 0.4 (links as arrays) and version 1 (links as objects,
// `state`). Reading tells a UI workflow from an API prompt, checks the shapes the conversion relies on and names the
// path of anything malformed; cosmetic fields missing from old files get defaults, unknown keys are kept.
import { WorkflowFormatError } from './errors.js';
import type { Prompt, PromptNode } from './prompt.js';

export { WorkflowFormatError };

export type NodeId = number | string;
/** A slot or link type: usually a name like "MODEL"; LiteGraph also writes numbers (events) and lists. */
export type DataType = string | number | string[];

export interface UiNodeInput {
  name: string;
  type: DataType;
  /** Id of the link feeding this input, or null. */
  link: number | null;
  /** Present when the input is a widget's socket (a widget "converted to input"). */
  widget?: { name: string; [k: string]: unknown };
  label?: string;
  [k: string]: unknown;
}

export interface UiNodeOutput {
  name: string;
  type: DataType;
  links: number[] | null;
  slot_index?: number;
  [k: string]: unknown;
}

export interface UiNode {
  id: NodeId;
  type: string;
  pos: [number, number];
  size: [number, number];
  flags: Record<string, unknown>;
  order: number;
  /** 0 always, 1 on event, 2 never (muted), 3 on trigger, 4 bypass. */
  mode: number;
  inputs?: UiNodeInput[];
  outputs?: UiNodeOutput[];
  properties: Record<string, unknown>;
  /** Widget values in widget order (positional), or keyed by widget name. */
  widgets_values?: unknown[] | Record<string, unknown>;
  title?: string;
  [k: string]: unknown;
}

/** A link, always as an object here whatever the file's version. */
export interface UiLink {
  id: number;
  origin_id: NodeId;
  origin_slot: number;
  target_id: NodeId;
  target_slot: number;
  type: DataType;
  /** Version 1: the native reroute the link passes through. */
  parentId?: number;
}

/** Version 0.4's link tuple: [id, origin_id, origin_slot, target_id, target_slot, type]. */
export type UiLinkTuple = [number, NodeId, number, NodeId, number, DataType];

export interface UiGroup {
  title?: string;
  bounding?: number[];
  [k: string]: unknown;
}

export interface UiWorkflowState {
  lastGroupId: number;
  lastNodeId: NodeId;
  lastLinkId: number;
  lastRerouteId: number;
  [k: string]: unknown;
}

/** A UI workflow read from either version; `version` says which (0.4 or 1). Unknown top-level keys are kept. */
export interface UiWorkflow {
  version: number;
  last_node_id: NodeId;
  last_link_id: number;
  nodes: UiNode[];
  links: UiLink[];
  groups: UiGroup[];
  config: Record<string, unknown>;
  extra: Record<string, unknown>;
  /** Version 1 only. */
  state?: UiWorkflowState;
  [k: string]: unknown;
}

/** The version 0.4 JSON value `serializeWorkflow` writes. */
export interface UiWorkflowJsonV04 {
  id?: unknown;
  revision?: unknown;
  last_node_id: NodeId;
  last_link_id: number;
  nodes: UiNode[];
  links: UiLinkTuple[];
  groups: UiGroup[];
  config: Record<string, unknown>;
  extra: Record<string, unknown>;
  version: 0.4;
  [k: string]: unknown;
}

export type ParsedWorkflow = { kind: 'ui'; workflow: UiWorkflow } | { kind: 'api'; prompt: Prompt };

/** Reads a workflow file's text: a UI workflow (either version) or an API-format prompt. */
export function parseWorkflowJson(text: string): ParsedWorkflow {
  if (typeof text !== 'string') throw new WorkflowFormatError('', `expected JSON text, got ${describe(text)}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new WorkflowFormatError('', `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseWorkflowValue(value);
}

/** Same as parseWorkflowJson for an already-parsed JSON value (e.g. extra_pnginfo.workflow in a request). */
export function parseWorkflowValue(value: unknown): ParsedWorkflow {
  if (!isPlainObject(value))
    throw new WorkflowFormatError('', `expected a JSON object (a UI workflow with "nodes" and "links", or an API prompt), got ${describe(value)}`);
  if (Array.isArray(value.nodes)) return { kind: 'ui', workflow: parseUiWorkflow(value) };
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.some(([, v]) => isPlainObject(v) && 'class_type' in v)) return { kind: 'api', prompt: parseApiPrompt(value) };
  if ('nodes' in value || 'links' in value || 'last_node_id' in value || 'state' in value) return { kind: 'ui', workflow: parseUiWorkflow(value) };
  throw new WorkflowFormatError(
    '',
    'not a ComfyUI workflow: expected a UI workflow (an object with "nodes" and "links") or an API prompt (an object mapping node ids to {"class_type", "inputs"})',
  );
}

/** Checks an API-format prompt's structure (each node an object with a class_type string and an inputs object). */
export function parseApiPrompt(value: unknown): Prompt {
  if (!isPlainObject(value)) throw new WorkflowFormatError('', `expected an API prompt object mapping node ids to nodes, got ${describe(value)}`);
  const out: [string, PromptNode][] = [];
  for (const [id, node] of Object.entries(value)) {
    const path = `[${JSON.stringify(id)}]`;
    if (!isPlainObject(node)) throw new WorkflowFormatError(path, `expected a node object {"class_type", "inputs"}, got ${describe(node)}`);
    if (typeof node.class_type !== 'string' || node.class_type === '')
      throw new WorkflowFormatError(`${path}.class_type`, `expected the node's type name (a non-empty string), got ${describe(node.class_type)}`);
    if (node.inputs !== undefined && !isPlainObject(node.inputs))
      throw new WorkflowFormatError(`${path}.inputs`, `expected an object of input values and links, got ${describe(node.inputs)}`);
    if (node._meta !== undefined && !isPlainObject(node._meta))
      throw new WorkflowFormatError(`${path}._meta`, `expected an object like {"title": "..."}, got ${describe(node._meta)}`);
    const pn: PromptNode = { ...node, class_type: node.class_type, inputs: { ...((node.inputs as Record<string, unknown> | undefined) ?? {}) } };
    out.push([id, pn]);
  }
  return Object.fromEntries(out);
}

/** Checks and normalizes a UI workflow of version 0.4 or 1 (links become objects). */
export function parseUiWorkflow(value: unknown): UiWorkflow {
  const w = object(value, '', 'a UI workflow object');
  const isV1 = w.version === 1;
  if (w.version !== undefined && (typeof w.version !== 'number' || !Number.isFinite(w.version)))
    throw new WorkflowFormatError('version', `expected a number (0.4 or 1), got ${describe(w.version)}`);
  const nodesRaw = array(w.nodes, 'nodes', 'an array of nodes');
  const nodes: UiNode[] = [];
  const seen = new Set<string>();
  nodesRaw.forEach((n, i) => {
    const node = parseNode(n, `nodes[${i}]`, i);
    const key = String(node.id);
    if (seen.has(key)) throw new WorkflowFormatError(`nodes[${i}].id`, `duplicate node id ${JSON.stringify(node.id)}`);
    seen.add(key);
    nodes.push(node);
  });
  const links: UiLink[] = [];
  if (w.links !== undefined && w.links !== null)
    array(w.links, 'links', 'an array of links').forEach((l, i) => {
      if (l !== null) links.push(parseLink(l, `links[${i}]`));
    });
  const groups =
    w.groups === undefined || w.groups === null
      ? []
      : array(w.groups, 'groups', 'an array of groups').map((g, i) => ({ ...object(g, `groups[${i}]`, 'a group object') }) as UiGroup);
  const config = w.config === undefined || w.config === null ? {} : { ...object(w.config, 'config', 'an object') };
  const extra = w.extra === undefined || w.extra === null ? {} : { ...object(w.extra, 'extra', 'an object') };

  const maxNodeId = nodes.reduce((m, n) => (typeof n.id === 'number' && n.id > m ? n.id : m), 0);
  const maxLinkId = links.reduce((m, l) => Math.max(m, l.id), 0);
  let state: UiWorkflowState | undefined;
  if (w.state !== undefined || isV1) {
    const s = w.state === undefined ? {} : object(w.state, 'state', 'an object {lastNodeId, lastLinkId, ...}');
    state = {
      ...s,
      lastGroupId: optionalNumber(s.lastGroupId, 'state.lastGroupId', 0),
      lastNodeId: s.lastNodeId === undefined ? maxNodeId : nodeId(s.lastNodeId, 'state.lastNodeId'),
      lastLinkId: optionalNumber(s.lastLinkId, 'state.lastLinkId', maxLinkId),
      lastRerouteId: optionalNumber(s.lastRerouteId, 'state.lastRerouteId', 0),
    };
  }
  const last_node_id = w.last_node_id !== undefined ? nodeId(w.last_node_id, 'last_node_id') : (state?.lastNodeId ?? maxNodeId);
  const last_link_id = w.last_link_id !== undefined ? optionalNumber(w.last_link_id, 'last_link_id', maxLinkId) : (state?.lastLinkId ?? maxLinkId);

  const { version: _v, nodes: _n, links: _l, groups: _g, config: _c, extra: _e, state: _s, last_node_id: _ln, last_link_id: _ll, ...rest } = w;
  const out: UiWorkflow = { ...rest, version: isV1 ? 1 : 0.4, last_node_id, last_link_id, nodes, links, groups, config, extra };
  if (state) out.state = state;
  return out;
}

/** Writes a workflow as version 0.4 JSON (links as arrays); version 1's native reroutes go to extra.reroutes and
 * extra.linkExtensions, as ComfyUI's editor does. The result shares nothing with the input. */
export function serializeWorkflow(workflow: UiWorkflow): UiWorkflowJsonV04 {
  const { version: _v, state: _s, nodes, links, groups, config, extra, last_node_id, last_link_id, reroutes, floatingLinks: _f, id, revision, ...rest } =
    workflow;
  const ext: Record<string, unknown> = { ...extra };
  if (Array.isArray(reroutes) && reroutes.length > 0) ext.reroutes = reroutes;
  const linkExtensions = links.filter((l) => l.parentId !== undefined).map((l) => ({ id: l.id, parentId: l.parentId }));
  if (linkExtensions.length > 0) ext.linkExtensions = linkExtensions;
  const out: UiWorkflowJsonV04 = {
    ...(id !== undefined ? { id } : {}),
    ...(revision !== undefined ? { revision } : {}),
    last_node_id,
    last_link_id,
    nodes,
    links: links.map((l): UiLinkTuple => [l.id, l.origin_id, l.origin_slot, l.target_id, l.target_slot, l.type]),
    groups,
    config,
    extra: ext,
    version: 0.4,
    ...rest,
  };
  return structuredClone(out);
}

// ---- shape checks ----

function parseNode(value: unknown, path: string, index: number): UiNode {
  const o = object(value, path, 'a node object');
  const id = nodeId(o.id, `${path}.id`);
  if (typeof o.type !== 'string' || o.type === '')
    throw new WorkflowFormatError(`${path}.type`, `expected the node's type name (a non-empty string), got ${describe(o.type)}`);
  const node: UiNode = {
    ...o,
    id,
    type: o.type,
    pos: vec2(o.pos, `${path}.pos`, [0, 0]),
    size: vec2(o.size, `${path}.size`, [200, 100]),
    flags: o.flags === undefined || o.flags === null ? {} : { ...object(o.flags, `${path}.flags`, 'an object') },
    order: optionalNumber(o.order, `${path}.order`, index),
    mode: o.mode === undefined || o.mode === null ? 0 : integer(o.mode, `${path}.mode`, 'a mode number (0 always, 2 muted, 4 bypassed)'),
    properties: o.properties === undefined || o.properties === null ? {} : { ...object(o.properties, `${path}.properties`, 'an object') },
  };
  if (o.inputs === undefined || o.inputs === null) delete node.inputs;
  else node.inputs = array(o.inputs, `${path}.inputs`, 'an array of input slots').map((s, i) => parseInput(s, `${path}.inputs[${i}]`));
  if (o.outputs === undefined || o.outputs === null) delete node.outputs;
  else node.outputs = array(o.outputs, `${path}.outputs`, 'an array of output slots').map((s, i) => parseOutput(s, `${path}.outputs[${i}]`));
  if (o.widgets_values === undefined || o.widgets_values === null) delete node.widgets_values;
  else if (Array.isArray(o.widgets_values)) node.widgets_values = [...o.widgets_values];
  else if (isPlainObject(o.widgets_values)) node.widgets_values = { ...o.widgets_values };
  else throw new WorkflowFormatError(`${path}.widgets_values`, `expected an array of widget values (or an object keyed by widget name), got ${describe(o.widgets_values)}`);
  if (o.title === undefined || o.title === null) delete node.title;
  else if (typeof o.title !== 'string') throw new WorkflowFormatError(`${path}.title`, `expected a string, got ${describe(o.title)}`);
  return node;
}

function parseInput(value: unknown, path: string): UiNodeInput {
  const o = object(value, path, 'an input slot {name, type, link}');
  if (typeof o.name !== 'string') throw new WorkflowFormatError(`${path}.name`, `expected the input's name (a string), got ${describe(o.name)}`);
  const input: UiNodeInput = { ...o, name: o.name, type: o.type === undefined || o.type === null ? '*' : dataType(o.type, `${path}.type`), link: null };
  if (o.link !== undefined && o.link !== null) input.link = integer(o.link, `${path}.link`, 'a link id (an integer) or null');
  if (o.widget === undefined || o.widget === null) delete input.widget;
  else {
    const wd = object(o.widget, `${path}.widget`, 'an object {name}');
    if (typeof wd.name !== 'string') throw new WorkflowFormatError(`${path}.widget.name`, `expected the widget's name (a string), got ${describe(wd.name)}`);
    input.widget = { ...wd, name: wd.name };
  }
  return input;
}

function parseOutput(value: unknown, path: string): UiNodeOutput {
  const o = object(value, path, 'an output slot {name, type, links}');
  if (o.name !== undefined && typeof o.name !== 'string') throw new WorkflowFormatError(`${path}.name`, `expected a string, got ${describe(o.name)}`);
  const output: UiNodeOutput = { ...o, name: (o.name as string | undefined) ?? '', type: o.type === undefined || o.type === null ? '*' : dataType(o.type, `${path}.type`), links: null };
  if (o.links !== undefined && o.links !== null)
    output.links = array(o.links, `${path}.links`, 'an array of link ids or null').map((l, i) => integer(l, `${path}.links[${i}]`, 'a link id (an integer)'));
  if (o.slot_index === undefined || o.slot_index === null) delete output.slot_index;
  else output.slot_index = integer(o.slot_index, `${path}.slot_index`, 'an integer');
  return output;
}

function parseLink(value: unknown, path: string): UiLink {
  if (Array.isArray(value)) {
    if (value.length < 6)
      throw new WorkflowFormatError(path, `expected a link [id, origin_id, origin_slot, target_id, target_slot, type], got a list of length ${value.length}`);
    return {
      id: integer(value[0], `${path}[0]`, 'a link id (an integer)'),
      origin_id: nodeId(value[1], `${path}[1]`),
      origin_slot: integer(value[2], `${path}[2]`, 'an output slot index (an integer)'),
      target_id: nodeId(value[3], `${path}[3]`),
      target_slot: integer(value[4], `${path}[4]`, 'an input slot index (an integer)'),
      type: value[5] === undefined || value[5] === null ? '*' : dataType(value[5], `${path}[5]`),
    };
  }
  const o = object(value, path, 'a link (an array [id, origin_id, origin_slot, target_id, target_slot, type] or an object)');
  const link: UiLink = {
    id: integer(o.id, `${path}.id`, 'a link id (an integer)'),
    origin_id: nodeId(o.origin_id, `${path}.origin_id`),
    origin_slot: integer(o.origin_slot, `${path}.origin_slot`, 'an output slot index (an integer)'),
    target_id: nodeId(o.target_id, `${path}.target_id`),
    target_slot: integer(o.target_slot, `${path}.target_slot`, 'an input slot index (an integer)'),
    type: o.type === undefined || o.type === null ? '*' : dataType(o.type, `${path}.type`),
  };
  if (o.parentId !== undefined && o.parentId !== null) link.parentId = integer(o.parentId, `${path}.parentId`, 'a reroute id (an integer)');
  return link;
}

function object(v: unknown, path: string, what: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw new WorkflowFormatError(path, `expected ${what}, got ${describe(v)}`);
  return v;
}

function array(v: unknown, path: string, what: string): unknown[] {
  if (!Array.isArray(v)) throw new WorkflowFormatError(path, `expected ${what}, got ${describe(v)}`);
  return v;
}

function integer(v: unknown, path: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new WorkflowFormatError(path, `expected ${what}, got ${describe(v)}`);
  return v;
}

function optionalNumber(v: unknown, path: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WorkflowFormatError(path, `expected a number, got ${describe(v)}`);
  return v;
}

function nodeId(v: unknown, path: string): NodeId {
  if ((typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v !== '')) return v;
  throw new WorkflowFormatError(path, `expected a node id (a number or a non-empty string), got ${describe(v)}`);
}

function dataType(v: unknown, path: string): DataType {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return [...v] as string[];
  throw new WorkflowFormatError(path, `expected a type name (a string), got ${describe(v)}`);
}

/** [x, y]; old LiteGraph files store Float32Arrays as {"0": x, "1": y}. */
function vec2(v: unknown, path: string, fallback: [number, number]): [number, number] {
  if (v === undefined || v === null) return [...fallback];
  const pair = Array.isArray(v) ? v : isPlainObject(v) ? [v[0], v[1]] : undefined;
  if (pair && pair.length >= 2 && typeof pair[0] === 'number' && typeof pair[1] === 'number' && Number.isFinite(pair[0]) && Number.isFinite(pair[1]))
    return [pair[0], pair[1]];
  throw new WorkflowFormatError(path, `expected a pair of numbers [x, y], got ${describe(v)}`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A short rendering of a received value for messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list ${preview(v)}`;
  if (typeof v === 'object') return `an object ${preview(v)}`;
  if (typeof v === 'string') return `the string ${preview(v)}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return `${typeof v} ${preview(v)}`;
}

/** JSON of a value cut to `max` characters; never throws. */
export function preview(v: unknown, max = 80): string {
  let s: string;
  try {
    s = typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
