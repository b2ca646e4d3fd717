// /object_info as a client reads it (ComfyUI's shape). The editor builds its node types from these entries, and the
// workflow-to-prompt conversion reads widgets from them, in the editor and in the server alike. Fields a ComfyUI
// server may leave out are optional and input definitions are read defensively, so the entries registry.ts serves
// fit this type as they are. Browser-safe: the editor bundles it.

/** Options of one input, as /object_info lists them. */
export interface InputOptions {
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  round?: number | false;
  multiline?: boolean;
  placeholder?: string;
  tooltip?: string;
  forceInput?: boolean;
  control_after_generate?: boolean;
  image_upload?: boolean;
  label_on?: string;
  label_off?: string;
  /** Newer ComfyUI combos: ["COMBO", {options: [...]}]. */
  options?: unknown[];
  [k: string]: unknown;
}

/** [TYPE, options?] or [[choices], options?]. */
export type InputDef = readonly unknown[];

export interface ObjectInfoEntry {
  input: { required?: Record<string, InputDef>; optional?: Record<string, InputDef>; hidden?: Record<string, unknown> };
  input_order?: { required?: string[]; optional?: string[] };
  output: readonly (string | unknown[])[];
  output_is_list?: boolean[];
  output_name?: string[];
  output_tooltips?: (string | null)[];
  name: string;
  display_name?: string;
  description?: string;
  category?: string;
  output_node?: boolean;
  python_module?: string;
}

export type ObjectInfo = Record<string, ObjectInfoEntry>;

/** The entry of a node type, undefined for a type the server does not know. */
export type EntryOf = (type: string) => ObjectInfoEntry | undefined;
