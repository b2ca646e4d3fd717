// Validation of an API prompt before it runs, with ComfyUI's error types and shapes (execution.py validate_prompt):
// prompt-level problems throw at once; input problems are collected per node for every node an output needs.
import { type InputError, type InputErrorType, type NodeErrors, PromptValidationError, type PromptErrorType } from './errors.js';
import { type Folders, type InputSpec, type NodeDefinition } from './node-api.js';
import type { Prompt, PromptNode } from './prompt.js';
import { type NodeRegistry, comboOptions, inputInfo } from './registry.js';
import { orderedInputs, widgetDefault } from './ui-to-api.js';
import { cycleComponents, shortestCycleThrough } from './graph-cycles.js';
import { type LiteralProblem, cycleText, exception, expectation, list, literalMessage, ref } from './validate-messages.js';
import { isPlainObject, preview } from './workflow-ui.js';

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
 * Work counter: every time validation walks through a node of the graph (taking its links, up or down), `nodeVisits`
 * goes up by one. Tests read it to check that validation stays linear in the prompt's size.
 */
export const validationWork = { nodeVisits: 0 };

/** The most nodes a prompt may have (a bound on the work and memory one request may cost; real workflows have far
 * fewer). Larger prompts are refused at once with invalid_prompt. */
export const MAX_PROMPT_NODES = 10_000;
/** The most nodes listed in node_errors; the rest are counted in error.extra_info.node_errors_omitted. */
export const MAX_REPORTED_NODE_ERRORS = 100;
/** The most output ids listed in one node's dependent_outputs; the rest are counted in dependent_outputs_omitted. */
export const MAX_DEPENDENT_OUTPUTS = 100;

const PRIMITIVE_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN']);
const INT_PATTERN = /^\s*[+-]?\d+\s*$/;

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

  const v = new Validator(nodes, folders);
  // Check every node some output needs, once each (as ComfyUI's validation memoizes each node's result), then look for
  // cycles among them.
  const needed = v.upstreamOf(outputs);
  v.markCycles(needed);

  // An output is good when no node upstream of it (itself included) has errors: one memoized walk for all outputs.
  const broken = v.brokenNodes(needed);
  const good = outputs.filter((o) => !broken.has(o));
  const badOutputs = outputs.filter((o) => broken.has(o));
  // A Map, then an object built with own properties: node ids may be any string, '__proto__' included.
  const errorsById = new Map<string, NodeErrors[string]>();
  let omitted = 0;
  let badCount = 0;
  let errorCount = 0;
  if (badOutputs.length > 0) {
    // Nodes with errors in the order the outputs reach them, the first MAX_REPORTED_NODE_ERRORS reported, each with
    // the outputs it breaks (one downstream walk per reported node, not one upstream walk per output).
    const seen = new Set<string>();
    const bad = badOutputs.flatMap((o) => v.upstreamOf([o], seen).filter((id) => v.check(id).errors.length > 0));
    badCount = bad.length;
    for (const id of bad) errorCount += v.check(id).errors.length;
    omitted = Math.max(0, bad.length - MAX_REPORTED_NODE_ERRORS);
    const outputIndex = new Map(badOutputs.map((o, i) => [o, i]));
    for (const id of bad.slice(0, MAX_REPORTED_NODE_ERRORS)) {
      const dependents = v.downstreamOf(id, needed).filter((d) => outputIndex.has(d));
      dependents.sort((a, b) => outputIndex.get(a)! - outputIndex.get(b)!);
      const entry: NodeErrors[string] = { errors: v.check(id).errors, dependent_outputs: dependents.slice(0, MAX_DEPENDENT_OUTPUTS), class_type: nodes.get(id)!.cls };
      if (dependents.length > MAX_DEPENDENT_OUTPUTS) entry.dependent_outputs_omitted = dependents.length - MAX_DEPENDENT_OUTPUTS;
      errorsById.set(id, entry);
    }
  }
  const nodeErrors: NodeErrors = Object.fromEntries(errorsById);
  if (good.length === 0) {
    const more = omitted > 0 ? `; ${badCount} node(s) with errors, the first ${MAX_REPORTED_NODE_ERRORS} listed in node_errors, ${omitted} more not listed` : '';
    throw promptError(
      'prompt_outputs_failed_validation',
      'Prompt outputs failed validation',
      `${errorCount} error(s) in node(s) ${list(Object.keys(nodeErrors), 20)}; output node(s) ${list(outputs, 20)} cannot run${more}`,
      nodeErrors,
      omitted > 0 ? { node_errors_omitted: omitted } : {},
    );
  }

  const coerced: [string, PromptNode][] = [...nodes.values()].map((n) => {
    const checked = v.checked(n.id);
    const pn: PromptNode = { class_type: n.cls, inputs: checked ? checked.inputs : { ...n.inputs } };
    if (n.meta !== undefined) pn._meta = n.meta;
    return [n.id, pn];
  });
  return { outputs: good, prompt: Object.fromEntries(coerced), nodeErrors };
}

/** Whether an output of type `output` may feed an input of type `input`: equal, '*' on either side, comma-separated
 * unions that share a type (ComfyUI's validate_node_input), or a COMBO fed by a COMBO or STRING output. */
export function typesMatch(output: string, input: string): boolean {
  if (output === input) return true;
  const a = new Set(String(output).split(',').map((t) => t.trim()));
  const b = new Set(String(input).split(',').map((t) => t.trim()));
  if (a.has('*') || b.has('*')) return true;
  if (b.has('COMBO') && (a.has('STRING') || a.has('COMBO'))) return true;
  for (const t of a) if (b.has(t)) return true;
  return false;
}

// ---- prompt-level ----

interface NodeRecord {
  id: string;
  cls: string;
  def: NodeDefinition;
  inputs: Record<string, unknown>;
  meta: PromptNode['_meta'];
  title: string | undefined;
}

function readNodes(prompt: unknown, registry: NodeRegistry): Map<string, NodeRecord> {
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

function promptError(type: PromptErrorType, message: string, details: string, nodeErrors: NodeErrors = {}, extra: Record<string, unknown> = {}): PromptValidationError {
  return new PromptValidationError({ type, message, details, extra_info: extra }, nodeErrors);
}

// ---- node-level ----

interface Upstream {
  input: string;
  source: string;
  slot: number;
}

interface NodeCheck {
  errors: InputError[];
  upstream: Upstream[];
  inputs: Record<string, unknown>;
}

type Coerced = { ok: true; value: unknown } | LiteralProblem;

class Validator {
  private memo = new Map<string, NodeCheck>();
  private configs = new Map<InputSpec, { config: unknown; options?: string[] }>();
  private ordered = new Map<NodeDefinition, [string, InputSpec][]>();

  constructor(
    private nodes: Map<string, NodeRecord>,
    private folders: Folders,
  ) {}

  checked(id: string): NodeCheck | undefined {
    return this.memo.get(id);
  }

  check(id: string): NodeCheck {
    let c = this.memo.get(id);
    if (!c) {
      c = this.checkNode(this.nodes.get(id)!);
      this.memo.set(id, c);
    }
    return c;
  }

  /**
   * The ids `roots` depend on (themselves included), each checked, in the order found; iterative so long chains
   * cannot overflow. Ids already in `seen` (shared across calls) are neither walked again nor returned.
   */
  upstreamOf(roots: string[], seen = new Set<string>()): string[] {
    const found: string[] = [];
    const stack: string[] = [];
    for (const r of roots)
      if (!seen.has(r)) {
        seen.add(r);
        found.push(r);
        stack.push(r);
      }
    while (stack.length > 0) {
      const id = stack.pop()!;
      validationWork.nodeVisits++;
      for (const u of this.check(id).upstream)
        if (!seen.has(u.source)) {
          seen.add(u.source);
          found.push(u.source);
          stack.push(u.source);
        }
    }
    return found;
  }

  /**
   * The nodes among `ids` (closed upstream, as upstreamOf returns) that have errors or read, directly or through
   * others, from a node that has: one memoized depth-first walk, each node and link taken once. A node on a cycle has
   * a dependency_cycle error itself (markCycles), so reaching a node still on the walk's stack means a broken one.
   */
  brokenNodes(ids: string[]): Set<string> {
    const broken = new Set<string>();
    const done = new Set<string>();
    const onStack = new Set<string>();
    for (const root of ids) {
      if (done.has(root)) continue;
      const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
      onStack.add(root);
      validationWork.nodeVisits++;
      while (work.length > 0) {
        const frame = work[work.length - 1];
        const ups = this.sources(frame.id);
        if (frame.next < ups.length) {
          const u = ups[frame.next++];
          if (done.has(u)) {
            if (broken.has(u)) broken.add(frame.id);
          } else if (onStack.has(u)) broken.add(frame.id);
          else {
            onStack.add(u);
            validationWork.nodeVisits++;
            work.push({ id: u, next: 0 });
          }
          continue;
        }
        work.pop();
        onStack.delete(frame.id);
        done.add(frame.id);
        if (this.check(frame.id).errors.length > 0) broken.add(frame.id);
        if (work.length > 0 && broken.has(frame.id)) broken.add(work[work.length - 1].id);
      }
    }
    return broken;
  }

  private readers?: Map<string, string[]>;
  /** `id` and every node among `within` that reads from it, directly or through others (breadth first). */
  downstreamOf(id: string, within: string[]): string[] {
    if (!this.readers) {
      this.readers = new Map();
      for (const r of within)
        for (const src of new Set(this.sources(r))) {
          const list = this.readers.get(src);
          if (list) list.push(r);
          else this.readers.set(src, [r]);
        }
    }
    const seen = new Set<string>([id]);
    const queue = [id];
    for (let qi = 0; qi < queue.length; qi++) {
      validationWork.nodeVisits++;
      for (const r of this.readers.get(queue[qi]) ?? [])
        if (!seen.has(r)) {
          seen.add(r);
          queue.push(r);
        }
    }
    return queue;
  }

  /** Adds a dependency_cycle error to every node on a cycle among `ids` and their upstream. */
  markCycles(ids: string[]): void {
    for (const members of cycleComponents(ids, this.sources)) this.reportCycle(members);
  }

  private sourceIds = new Map<string, string[]>();
  /** The ids a node reads from (checking it first). */
  private sources = (id: string): string[] => {
    let ids = this.sourceIds.get(id);
    if (!ids) this.sourceIds.set(id, (ids = this.check(id).upstream.map((u) => u.source)));
    return ids;
  };

  private reportCycle(members: Set<string>): void {
    // One shortest cycle per member for small components; a big component shares one cycle (a BFS per member would
    // be quadratic), read from each member's position on it.
    const shared = members.size > 50 ? shortestCycleThrough(members.values().next().value!, members, this.sources) : undefined;
    const len = shared ? shared.length - 1 : 0;
    const position = new Map(shared?.slice(0, -1).map((id, i) => [id, i]));
    // Offsets along the shared cycle to report: all of it, or its first and last 50 steps.
    const offsets = len + 1 > 100 ? [...Array(50).keys(), -1, ...Array.from({ length: 50 }, (_, k) => len - 49 + k)] : [...Array(len + 1).keys()];
    for (const id of members) {
      let cycle: string[];
      if (!shared) cycle = shortestCycleThrough(id, members, this.sources);
      else {
        // Rotated to start at this member when the member is on it.
        const start = position.get(id) ?? 0;
        cycle = offsets.map((j) => (j < 0 ? '...' : shared[(start + j) % len]));
      }
      const length = shared ? shared.length - 1 : cycle.length - 1;
      const n = this.nodes.get(id)!;
      const ups = this.check(id).upstream;
      const via = (cycle[0] === id ? ups.find((u) => u.source === cycle[cycle.length - 2]) : undefined) ?? ups.find((u) => members.has(u.source))!;
      const path = cycleText(cycle, length);
      this.check(id).errors.push({
        type: 'dependency_cycle',
        message: `Dependency cycle: ${ref(n)} input '${via.input}' is fed by node ${via.source}, which needs the result of node ${id} itself (cycle ${path})`,
        details: `${via.input}, cycle ${path}`,
        extra_info: { input_name: via.input, linked_node: [via.source, via.slot], cycle, cycle_length: length },
      });
    }
  }

  private checkNode(n: NodeRecord): NodeCheck {
    const c: NodeCheck = { errors: [], upstream: [], inputs: {} };
    const out: [string, unknown][] = [];
    let literalErrors = false;
    try {
      for (const [name, spec] of this.inputsOf(n.def)) {
        const v = Object.hasOwn(n.inputs, name) ? n.inputs[name] : undefined;
        if (v === undefined || v === null) {
          if (!spec.optional)
            this.fail(c, spec, name, 'required_input_missing', `Required input is missing: ${ref(n)} input '${name}' needs ${expectation(spec, this.config(spec).options)}`, v === null ? `${name}, received null` : name);
          else if (spec.type in WIDGET_FILL && !('link' in spec) && !spec.forceInput) {
            const d = widgetDefault(spec, this.folders);
            if (d !== undefined) out.push([name, Array.isArray(d) ? { __value__: d } : d]);
          }
        } else if (Array.isArray(v)) {
          const link = this.checkLink(c, n, name, spec, v);
          if (link) out.push([name, link]);
        } else {
          const r = this.coerce(spec, v, !!n.def.validate);
          if (r.ok) out.push([name, Array.isArray(r.value) ? { __value__: r.value } : r.value]);
          else {
            literalErrors = true;
            const m = literalMessage(r, n, name, spec, this.config(spec).options);
            this.fail(c, spec, name, r.type, m.message, m.details, { received_value: v, ...m.extra });
          }
        }
      }

      if (n.def.validate && !literalErrors) {
        const linked = new Set(c.upstream.map((u) => u.input));
        const literals = Object.fromEntries(
          out.filter(([name]) => !linked.has(name)).map(([k, x]) => [k, isPlainObject(x) && '__value__' in x ? x.__value__ : x]),
        );
        let message: string | undefined;
        try {
          message = n.def.validate(literals, this.folders);
        } catch (e) {
          c.errors.push(exception(n, e));
        }
        if (message)
          c.errors.push({
            type: 'custom_validation_failed',
            message: `Custom validation failed for ${ref(n)}: ${message}`,
            details: String(message),
            extra_info: { received_value: literals },
          });
      }
    } catch (e) {
      c.errors.push(exception(n, e));
    }
    c.inputs = Object.fromEntries(out);
    return c;
  }

  private fail(c: NodeCheck, spec: InputSpec, name: string, type: InputErrorType, message: string, details: string, extra: Record<string, unknown> = {}): void {
    c.errors.push({ type, message, details, extra_info: { input_name: name, input_config: this.config(spec).config, ...extra } });
  }

  /** The normalized link [sourceId, slot] when it points at an existing output (type mismatches are reported but the
   * link is kept, so the source is still validated), else undefined after reporting bad_linked_input. */
  private checkLink(c: NodeCheck, n: NodeRecord, name: string, spec: InputSpec, v: unknown[]): [string, number] | undefined {
    let why: string | undefined;
    const [src, slot] = v;
    const source = typeof src === 'string' || (typeof src === 'number' && Number.isFinite(src)) ? this.nodes.get(String(src)) : undefined;
    if (v.length !== 2) why = `is a list of length ${v.length}, not a link [node_id, output_slot] (a literal list must be wrapped as {"__value__": [...]})`;
    else if (!(typeof src === 'string' || (typeof src === 'number' && Number.isFinite(src)))) why = `links to node id ${preview(src)}; expected [node_id, output_slot] with node_id a string`;
    else if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0) why = `links to output slot ${preview(slot)} of node ${src}; expected a non-negative integer slot index`;
    else if (!source) why = `links to node ${String(src)}, which is not in the prompt`;
    else if (slot >= source.def.outputs.length) {
      const k = source.def.outputs.length;
      why = `links to output slot ${slot} of ${ref(source)}, which has ${k === 0 ? 'no outputs' : `only ${k} output(s) (slots 0-${k - 1})`}`;
    }
    if (why !== undefined || !source) {
      this.fail(c, spec, name, 'bad_linked_input', `Bad linked input: ${ref(n)} input '${name}' ${why}`, `${name}, received ${preview(v)}`, { received_value: v });
      return undefined;
    }
    const s = slot as number;
    c.upstream.push({ input: name, source: source.id, slot: s });
    const output = source.def.outputs[s];
    if (!typesMatch(output.type, spec.type))
      this.fail(
        c,
        spec,
        name,
        'return_type_mismatch',
        `Return type mismatch between linked nodes: ${ref(n)} input '${name}' expects ${spec.type} but output ${s} ('${output.name}') of ${ref(source)} is ${output.type}`,
        `${name}, received_type(${output.type}) mismatch input_type(${spec.type})`,
        { received_type: output.type, linked_node: [source.id, s] },
      );
    return [source.id, s];
  }

  /** A literal as the input's type wants it, or which rule it breaks. */
  /** `nodeValidates`: the node has its own validate, which then judges upload-combo values outside the list. */
  private coerce(spec: InputSpec, v: unknown, nodeValidates = false): Coerced {
    const value = isPlainObject(v) && Object.hasOwn(v, '__value__') ? v.__value__ : v;
    if (spec.type === '*') return { ok: true, value };
    if ('link' in spec && !PRIMITIVE_TYPES.has(spec.type)) return { ok: false, type: 'invalid_input_type', value, linkOnly: true };
    switch (spec.type) {
      case 'INT':
      case 'FLOAT': {
        let x: number | undefined;
        if (typeof value === 'number') x = value;
        else if (typeof value === 'string' && (spec.type === 'INT' ? INT_PATTERN.test(value) : value.trim() !== '')) x = Number(value);
        if (x === undefined || !Number.isFinite(x) || (spec.type === 'INT' && !Number.isInteger(x))) return { ok: false, type: 'invalid_input_type', value };
        const s = spec as { min?: number; max?: number };
        if (typeof s.min === 'number' && x < s.min) return { ok: false, type: 'value_smaller_than_min', value: x, bound: s.min };
        if (typeof s.max === 'number' && x > s.max) return { ok: false, type: 'value_bigger_than_max', value: x, bound: s.max };
        return { ok: true, value: x };
      }
      case 'STRING':
        if (typeof value === 'string') return { ok: true, value };
        if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: String(value) };
        return { ok: false, type: 'invalid_input_type', value };
      case 'BOOLEAN':
        return typeof value === 'boolean' ? { ok: true, value } : { ok: false, type: 'invalid_input_type', value };
      case 'COMBO': {
        if (typeof value !== 'string' && typeof value !== 'number') return { ok: false, type: 'invalid_input_type', value };
        // Upload combos also name files outside the list ("x.png [output]", "sub/x.png"): the node's own validate
        // checks those, as ComfyUI skips the list when VALIDATE_INPUTS takes the input.
        if (nodeValidates && (spec as { imageUpload?: boolean }).imageUpload && typeof value === 'string') return { ok: true, value };
        const options = this.config(spec).options ?? [];
        return options.includes(value as string) ? { ok: true, value } : { ok: false, type: 'value_not_in_list', value };
      }
      default:
        return { ok: true, value };
    }
  }

  /** Inputs in the editor's order, once per definition. */
  private inputsOf(def: NodeDefinition): [string, InputSpec][] {
    let list = this.ordered.get(def);
    if (!list) this.ordered.set(def, (list = orderedInputs(def)));
    return list;
  }

  /** ComfyUI's input_config ([TYPE, options]) and a combo's choices, computed once per spec. */
  private config(spec: InputSpec): { config: unknown; options?: string[] } {
    let c = this.configs.get(spec);
    if (!c) {
      const options = spec.type === 'COMBO' && !('link' in spec) ? comboOptions(spec as Extract<InputSpec, { type: 'COMBO' }>, this.folders) : undefined;
      const info = inputInfo(spec, this.folders);
      c = { config: options && options.length > 20 ? null : info, options };
      this.configs.set(spec, c);
    }
    return c;
  }
}

/** Widget types whose missing optional value is filled with the widget's default. */
const WIDGET_FILL: Record<string, true> = { INT: true, FLOAT: true, STRING: true, BOOLEAN: true, COMBO: true };
