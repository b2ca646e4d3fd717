// Planning a run before any node runs: which nodes the outputs need, where each of their inputs comes from (a linked
// output, a constant from the prompt, or the schema's default), each node's cache key, and the order to run them in.
import { createHash } from 'node:crypto';
import { compareIds } from './compare-ids.js';
import type { LruCache } from './lru-cache.js';
import { type Folders, type NodeDefinition, declaredDefault } from './node-api.js';
import type { NodeOutputs } from './node-result.js';
import { getOwn } from './own-keys.js';
import { type Prompt, isLink, unwrapLiteral } from './prompt.js';
import type { NodeRegistry } from './registry.js';
import { canonical } from './value-text.js';

/** How a node gets one input: from an upstream node's output slot, or as a constant from the prompt or the schema. */
export type InputSource = { link: [string, number] } | { value: unknown };

export interface PlannedNode {
  id: string;
  classType: string;
  def: NodeDefinition;
  /** Declared inputs present in the prompt (or defaulted), in schema order. */
  inputs: Map<string, InputSource>;
  key: string;
  /** False when the node or an ancestor asked never to be cached (isChanged returned NaN). */
  cacheable: boolean;
}

/** The run cannot start: a prompt the validator should have rejected (unknown node, dangling link, cycle). */
export class PlanError extends Error {
  constructor(
    readonly node: string,
    readonly nodeType: string,
    message: string,
    name: string,
  ) {
    super(message);
    this.name = name;
  }
}

let uncachedCounter = 0;

/** The nodes to execute (`outputs`, or every output node of the prompt), deduplicated, in id order. */
export function rootsOf(prompt: Prompt, registry: NodeRegistry, outputs: string[] | undefined): string[] {
  const ids = outputs ? [...new Set(outputs.map(String))] : Object.keys(prompt).filter((id) => registry.get(prompt[id].class_type)?.outputNode);
  for (const id of ids) if (!getOwn(prompt, id)) throw new PlanError(id, '', `output node ${id} is not in the prompt`, 'MissingNodeError');
  return ids.sort(compareIds);
}

/**
 * Every node the roots need, with its resolved inputs and cache key. A key hashes the class, the node id and run
 * seed (they seed ctx.rng), the isChanged() fingerprint, the constant inputs, and the keys of linked nodes with
 * their slots: a node's key changes exactly when it or anything upstream of it changed.
 */
export function plan(prompt: Prompt, registry: NodeRegistry, folders: Folders, roots: string[], seed: number): Map<string, PlannedNode> {
  const planned = new Map<string, PlannedNode>();
  const onStack = new Set<string>();

  const visit = (id: string): PlannedNode => {
    const done = planned.get(id);
    if (done) return done;
    const pn = getOwn(prompt, id)!;
    const def = registry.get(pn.class_type);
    if (!def) throw new PlanError(id, pn.class_type, `node ${id}: unknown node type ${pn.class_type}`, 'UnknownNodeTypeError');
    if (onStack.has(id)) throw new PlanError(id, pn.class_type, `node ${id} (${pn.class_type}) depends on itself (dependency cycle)`, 'DependencyCycleError');
    onStack.add(id);

    const inputs = new Map<string, InputSource>();
    const constants = new Map<string, unknown>();
    const keyParts: unknown[] = [];
    let cacheable = true;
    for (const [name, spec] of Object.entries(def.inputs)) {
      const raw = getOwn(pn.inputs, name);
      if (isLink(raw)) {
        const [srcId, slot] = [String(raw[0]), raw[1]];
        const srcNode = getOwn(prompt, srcId);
        if (!srcNode) throw new PlanError(id, pn.class_type, `node ${id} input '${name}' is linked to node ${srcId}, which is not in the prompt`, 'MissingNodeError');
        const src = visit(srcId);
        if (slot < 0 || slot >= src.def.outputs.length)
          throw new PlanError(id, pn.class_type, `node ${id} input '${name}' is linked to output ${slot} of node ${srcId} (${src.classType}), which has ${src.def.outputs.length} outputs`, 'BadLinkError');
        inputs.set(name, { link: [srcId, slot] });
        keyParts.push([name, 'link', src.key, slot]);
        cacheable &&= src.cacheable;
      } else if (raw !== undefined) {
        const value = unwrapLiteral(raw);
        inputs.set(name, { value });
        constants.set(name, value);
        keyParts.push([name, 'value', value]);
      } else if (declaredDefault(spec) !== undefined) {
        // The schema is the one source of defaults: a node's run never sees an input it declares a default for unset.
        const value = declaredDefault(spec);
        inputs.set(name, { value });
        constants.set(name, value);
        keyParts.push([name, 'value', value]);
      }
    }
    const fingerprint = changeFingerprint(def, Object.fromEntries(constants), folders);
    if (fingerprint === undefined) cacheable = false;
    const key = createHash('sha256')
      .update(canonical([pn.class_type, id, String(seed), fingerprint ?? `uncached:${++uncachedCounter}`, keyParts]))
      .digest('hex');

    onStack.delete(id);
    const node: PlannedNode = { id, classType: pn.class_type, def, inputs, key, cacheable };
    planned.set(id, node);
    return node;
  };

  for (const id of roots) visit(id);
  return planned;
}

/**
 * Run order: depth-first from the roots (in id order), each node after its linked inputs (in schema order). A cached
 * node ends the walk upstream (its ancestors are not needed); its result goes into `values` now, so that entries
 * evicted while this run stores new ones stay available.
 */
export function order(planned: Map<string, PlannedNode>, roots: string[], cache: LruCache<NodeOutputs>, values: Map<string, NodeOutputs>): PlannedNode[] {
  const result: PlannedNode[] = [];
  const seen = new Set<string>();
  const walk = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const node = planned.get(id)!;
    const hit = node.cacheable ? cache.get(node.key) : undefined;
    if (hit) values.set(id, hit);
    else for (const src of node.inputs.values()) if ('link' in src) walk(src.link[0]);
    result.push(node);
  };
  for (const id of roots) walk(id);
  return result;
}

/** The node's isChanged() as part of a cache key; undefined means "never cache" (NaN, or isChanged threw). */
function changeFingerprint(def: NodeDefinition, constants: Record<string, unknown>, folders: Folders): string | undefined {
  if (!def.isChanged) return '';
  let v: string | number | undefined;
  try {
    v = def.isChanged(constants, folders);
  } catch {
    // Let the node run (and report its own error) rather than fail here.
    return undefined;
  }
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : `n:${v}`;
  return v === undefined ? '' : `s:${v}`;
}
