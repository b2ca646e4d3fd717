// An /object_info entry read into inputs and outputs: which inputs are widgets (and of what kind), which are sockets,
// in ComfyUI's order, and what a fresh widget holds. The editor draws nodes from this reading and the conversion
// reads widgets_values with it, so both follow one set of rules. Browser-safe.
import type { InputDef, InputOptions, ObjectInfoEntry } from './object-info.js';

export type WidgetKind = 'INT' | 'FLOAT' | 'STRING' | 'BOOLEAN' | 'COMBO';

export interface InputSchema {
  name: string;
  /** The socket type: 'INT', 'MODEL', ... or 'COMBO' for a list of choices. */
  type: string;
  options: InputOptions;
  optional: boolean;
  /** Set when the input is drawn as a widget; undefined for link-only sockets (and forceInput). */
  widget?: WidgetKind;
  /** Choices of a combo. */
  choices?: string[];
}

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN']);

/** Values of the extra "control after generate" widget that follows a seed in widgets_values. */
export const CONTROL_VALUES = ['fixed', 'increment', 'decrement', 'randomize'] as const;
export type ControlMode = (typeof CONTROL_VALUES)[number];
const CONTROL_VALUE_SET: ReadonlySet<unknown> = new Set([...CONTROL_VALUES, 'increment-wrap']);
/** An image-upload combo is followed in widgets_values by its upload button's value. */
export const UPLOAD_WIDGET_VALUE = 'image';

/** One input definition; a forceInput widget type (combos included) is a socket only. */
export function readInputDef(name: string, def: InputDef, optional: boolean): InputSchema {
  const [head, rawOptions] = def;
  const options: InputOptions = rawOptions && typeof rawOptions === 'object' ? (rawOptions as InputOptions) : {};
  const socketOnly = options.forceInput === true;
  if (Array.isArray(head)) return { name, type: 'COMBO', options, optional, widget: socketOnly ? undefined : 'COMBO', choices: head.map(String) };
  const type = String(head);
  if (type === 'COMBO') return { name, type, options, optional, widget: socketOnly ? undefined : 'COMBO', choices: (options.options ?? []).map(String) };
  const widget = WIDGET_TYPES.has(type) && !socketOnly ? (type as WidgetKind) : undefined;
  return { name, type, options, optional, widget };
}

/** Inputs in the order the editor creates them: required, then optional, each in input_order. */
export function inputsOf(entry: ObjectInfoEntry): InputSchema[] {
  const out: InputSchema[] = [];
  for (const section of ['required', 'optional'] as const) {
    const defs = entry.input?.[section] ?? {};
    const order = entry.input_order?.[section] ?? Object.keys(defs);
    for (const name of order) {
      const def = Object.hasOwn(defs, name) ? defs[name] : undefined;
      if (Array.isArray(def)) out.push(readInputDef(name, def, section === 'optional'));
    }
  }
  return out;
}

/** Inputs drawn as widgets, in widgets_values order (without the extra control/upload entries). */
export function widgetInputsOf(entry: ObjectInfoEntry): InputSchema[] {
  return inputsOf(entry).filter((i) => i.widget !== undefined);
}

export function hasControlAfterGenerate(input: InputSchema): boolean {
  return input.widget === 'INT' && input.options.control_after_generate === true;
}

export function hasImageUpload(input: InputSchema): boolean {
  return input.widget === 'COMBO' && input.options.image_upload === true;
}

/** True when `value` is what a seed's control widget holds. */
export function isControlValue(value: unknown): boolean {
  return CONTROL_VALUE_SET.has(value);
}

/** The value a fresh widget holds: the declared default, else 0 within range, '', false, the first choice. */
export function defaultOf(input: InputSchema): unknown {
  const o = input.options;
  if (o.default !== undefined) return o.default;
  switch (input.widget) {
    case 'INT':
    case 'FLOAT': {
      let v = 0;
      if (typeof o.min === 'number' && v < o.min) v = o.min;
      if (typeof o.max === 'number' && v > o.max) v = o.max;
      return v;
    }
    case 'STRING':
      return '';
    case 'BOOLEAN':
      return false;
    case 'COMBO':
      return input.choices?.[0];
    default:
      return undefined;
  }
}

export interface OutputSchema {
  name: string;
  type: string;
  isList: boolean;
  tooltip?: string;
}

export function outputsOf(entry: ObjectInfoEntry): OutputSchema[] {
  return (entry.output ?? []).map((t, i) => {
    const type = Array.isArray(t) ? 'COMBO' : String(t);
    return {
      name: entry.output_name?.[i] ?? type,
      type,
      isList: !!entry.output_is_list?.[i],
      tooltip: entry.output_tooltips?.[i] ?? undefined,
    };
  });
}
