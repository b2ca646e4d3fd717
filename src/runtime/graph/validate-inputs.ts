// Validation of one node's inputs (ComfyUI's validate_inputs): every declared input present or optional, literals of
// the input's type and range (coerced where ComfyUI coerces), links to an existing output of a matching type, and
// the node's own validate() on its literals.
import type { InputError, InputErrorType } from './errors.js';
import type { Folders, InputSpec, NodeDefinition } from './node-api.js';
import { comboOptions, inputInfo } from './registry.js';
import { orderedInputs, widgetDefault } from './ui-to-api.js';
import { type LiteralProblem, exception, expectation, literalMessage, ref } from './validate-messages.js';
import type { NodeRecord } from './validate-prompt-nodes.js';
import { isPlainObject, preview } from './workflow-ui.js';

/** A link the node reads: input name, source node and its output slot. */
export interface Upstream {
  input: string;
  source: string;
  slot: number;
}

export interface NodeCheck {
  errors: InputError[];
  upstream: Upstream[];
  /** The inputs as the node will get them: coerced literals, normalized links, missing optional widgets defaulted. */
  inputs: Record<string, unknown>;
}

type Coerced = { ok: true; value: unknown } | LiteralProblem;

const PRIMITIVE_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN']);
const INT_PATTERN = /^\s*[+-]?\d+\s*$/;

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

export class InputChecker {
  private configs = new Map<InputSpec, { config: unknown; options?: string[] }>();
  private ordered = new Map<NodeDefinition, [string, InputSpec][]>();

  constructor(
    private nodes: Map<string, NodeRecord>,
    private folders: Folders,
  ) {}

  /** Every input of `n` checked, literals coerced, links kept; the node's own validate run on its literals. */
  check(n: NodeRecord): NodeCheck {
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
