// Reading /object_info entries: which inputs are widgets (and of what kind), which are sockets, in ComfyUI's order.
// Pure functions, shared by the node factory and graph-to-prompt so both agree with the server's rules.
import type { InputDef, InputOptions, ObjectInfoEntry } from './types.js';

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

function readInput(name: string, def: InputDef, optional: boolean): InputSchema {
  const [head, rawOptions] = def;
  const options: InputOptions = rawOptions && typeof rawOptions === 'object' ? rawOptions : {};
  if (Array.isArray(head)) return { name, type: 'COMBO', options, optional, widget: 'COMBO', choices: head.map(String) };
  const type = String(head);
  if (type === 'COMBO') return { name, type, options, optional, widget: 'COMBO', choices: (options.options ?? []).map(String) };
  const widget = WIDGET_TYPES.has(type) && !options.forceInput ? (type as WidgetKind) : undefined;
  return { name, type, options, optional, widget };
}

/** Inputs in the order the editor creates them: required, then optional, each in input_order. */
export function orderedInputs(entry: ObjectInfoEntry): InputSchema[] {
  const out: InputSchema[] = [];
  for (const section of ['required', 'optional'] as const) {
    const defs = entry.input?.[section] ?? {};
    const order = entry.input_order?.[section] ?? Object.keys(defs);
    for (const name of order) if (defs[name]) out.push(readInput(name, defs[name], section === 'optional'));
  }
  return out;
}

/** Inputs drawn as widgets, in widgets_values order (without the extra control/upload entries). */
export function widgetInputs(entry: ObjectInfoEntry): InputSchema[] {
  return orderedInputs(entry).filter((i) => i.widget !== undefined);
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
export function widgetDefault(input: InputSchema): unknown {
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

/** Training nodes get a live chart: their names or categories say so. */
export function isTrainingNode(entry: ObjectInfoEntry | undefined): boolean {
  if (!entry) return false;
  return /train|ddpo|dreambooth/i.test(`${entry.name} ${entry.category ?? ''}`);
}
