// The words of validation errors: what an input expects ("an integer between 1 and 10000"), where it is ("node 3
// (KSampler 'Sampler') input 'steps'"), and the message, details and extra_info of each literal problem, in
// ComfyUI's shapes. Kept apart from the checks so either reads on its own.
import type { InputError } from './errors.js';
import type { InputSpec } from './node-api.js';
import { preview } from './workflow-ui.js';

/** A node as messages name it. */
export interface NodeRef {
  id: string;
  cls: string;
  title?: string;
}

export interface LiteralProblem {
  ok: false;
  type: 'invalid_input_type' | 'value_smaller_than_min' | 'value_bigger_than_max' | 'value_not_in_list';
  value: unknown;
  bound?: number;
  linkOnly?: boolean;
}

/** Message, details and extra_info of a literal's problem; built only when one is found. */
export function literalMessage(
  p: LiteralProblem,
  n: NodeRef,
  name: string,
  spec: InputSpec,
  options: string[] | undefined,
): { message: string; details: string; extra: Record<string, unknown> } {
  const got = preview(p.value);
  const where = `${ref(n)} input '${name}'`;
  switch (p.type) {
    case 'value_smaller_than_min':
      return { message: `Value ${p.value} smaller than min of ${p.bound}: ${where} expects ${expectation(spec)}`, details: `${name}, received ${p.value}`, extra: {} };
    case 'value_bigger_than_max':
      return { message: `Value ${p.value} bigger than max of ${p.bound}: ${where} expects ${expectation(spec)}`, details: `${name}, received ${p.value}`, extra: {} };
    case 'value_not_in_list': {
      const opts = options ?? [];
      const listInfo = opts.length > 20 ? `(list of length ${opts.length})` : `[${opts.map((o) => `'${o}'`).join(', ')}]`;
      return {
        message: `Value not in list: ${where} got ${got}, expected ${expectation(spec, opts)}`,
        details: `${name}: '${String(p.value).slice(0, 200)}' not in ${listInfo}`,
        extra: opts.length > 20 ? { input_config: null } : {},
      };
    }
    default:
      return p.linkOnly
        ? { message: `Invalid input type: ${where} takes a link from ${article(spec.type)} output, not a literal value (got ${got})`, details: `${name}, received ${got}`, extra: {} }
        : { message: `Invalid input type: ${where} expects ${expectation(spec)}, got ${got}`, details: `${name}, received ${got}`, extra: {} };
  }
}

export function exception(n: NodeRef, e: unknown): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  return {
    type: 'exception_during_validation',
    message: `Exception when validating ${ref(n)}: ${msg}`,
    details: msg,
    extra_info: { exception_type: e instanceof Error ? e.name : typeof e },
  };
}

/** "3 -> 5 -> 3", long cycles shortened in the middle. */
export function cycleText(cycle: string[], length: number): string {
  if (cycle.length <= 12) return cycle.join(' -> ');
  return `${cycle.slice(0, 5).join(' -> ')} -> ... (${length} nodes) -> ${cycle.slice(-3).join(' -> ')}`;
}

export function ref(n: NodeRef): string {
  return `node ${n.id} (${n.cls}${n.title ? ` '${n.title}'` : ''})`;
}

/** What an input accepts, in words: "an integer between 1 and 10000", "one of 'a', 'b'", "a link from a MODEL output". */
export function expectation(spec: InputSpec, options?: string[]): string {
  const s = spec as InputSpec & { min?: number; max?: number; options?: unknown };
  const range = () =>
    typeof s.min === 'number' && typeof s.max === 'number'
      ? ` between ${s.min} and ${s.max}`
      : typeof s.min === 'number'
        ? ` >= ${s.min}`
        : typeof s.max === 'number'
          ? ` <= ${s.max}`
          : '';
  const orLink = 'link' in spec || spec.forceInput ? ` (or a link from ${article(spec.type)} output)` : '';
  switch (spec.type) {
    case 'INT':
      return `an integer${range()}${orLink}`;
    case 'FLOAT':
      return `a number${range()}${orLink}`;
    case 'STRING':
      return `a string${orLink}`;
    case 'BOOLEAN':
      return `true or false${orLink}`;
    case 'COMBO': {
      const opts = options ?? (Array.isArray(s.options) ? (s.options as string[]) : undefined);
      if (!opts) return 'one of its choices';
      if (opts.length === 0) return 'one of its choices (there are none)';
      return `one of ${list(opts.map((o) => `'${o}'`), 10)}`;
    }
    case '*':
      return 'a value or a link of any type';
    default:
      return `a link from ${article(spec.type)} output`;
  }
}

function article(type: string): string {
  return `${/^[AEIOU]/i.test(type) ? 'an' : 'a'} ${type}`;
}

export function list(items: string[], max: number): string {
  return items.length > max ? `${items.slice(0, max).join(', ')}, ... (${items.length} in all)` : items.join(', ');
}
