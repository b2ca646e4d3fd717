// The set of node types a run may use, and their schemas in ComfyUI's /object_info shape.
import { type Folders, type InputSpec, type NodeDefinition, isWidget } from './node-api.js';
import { setOwn } from './own-keys.js';

export interface ObjectInfoEntry {
  input: { required: Record<string, unknown[]>; optional: Record<string, unknown[]> };
  input_order: { required: string[]; optional: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  output_tooltips: (string | null)[];
  name: string;
  display_name: string;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
}

export class NodeRegistry {
  private defs = new Map<string, NodeDefinition>();

  constructor(defs: Iterable<NodeDefinition> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: NodeDefinition): void {
    if (this.defs.has(def.type)) throw new Error(`node type ${def.type} is registered twice`);
    this.defs.set(def.type, def);
  }

  get(type: string): NodeDefinition | undefined {
    return this.defs.get(type);
  }

  types(): string[] {
    return [...this.defs.keys()];
  }

  all(): NodeDefinition[] {
    return [...this.defs.values()];
  }

  objectInfo(folders: Folders): Record<string, ObjectInfoEntry> {
    return Object.fromEntries(this.all().map((d) => [d.type, objectInfoOf(d, folders)]));
  }
}

/** One input in ComfyUI's [TYPE, options] (or [[choices], options]) form. */
export function inputInfo(spec: InputSpec, folders: Folders): unknown[] {
  const o: Record<string, unknown> = {};
  if (spec.tooltip) o.tooltip = spec.tooltip;
  if (spec.forceInput || ('link' in spec && !isWidget(spec) && ['INT', 'FLOAT', 'STRING', 'BOOLEAN'].includes(spec.type))) o.forceInput = true;
  switch (spec.type) {
    case 'INT':
    case 'FLOAT': {
      const s = spec as Extract<InputSpec, { type: 'INT' | 'FLOAT' }> & { round?: number; controlAfterGenerate?: boolean };
      for (const k of ['default', 'min', 'max', 'step', 'round'] as const) if (s[k as keyof typeof s] !== undefined) o[k] = s[k as keyof typeof s];
      if (s.controlAfterGenerate) o.control_after_generate = true;
      return [spec.type, o];
    }
    case 'STRING': {
      const s = spec as Extract<InputSpec, { type: 'STRING' }>;
      if (s.default !== undefined) o.default = s.default;
      if (s.multiline) o.multiline = true;
      if (s.placeholder) o.placeholder = s.placeholder;
      return ['STRING', o];
    }
    case 'BOOLEAN': {
      const s = spec as Extract<InputSpec, { type: 'BOOLEAN' }>;
      if (s.default !== undefined) o.default = s.default;
      if (s.labelOn) o.label_on = s.labelOn;
      if (s.labelOff) o.label_off = s.labelOff;
      return ['BOOLEAN', o];
    }
    case 'COMBO': {
      const s = spec as Extract<InputSpec, { type: 'COMBO' }>;
      if (s.default !== undefined) o.default = s.default;
      if (s.imageUpload) o.image_upload = true;
      return [comboOptions(s, folders), o];
    }
    default:
      return [spec.type, o];
  }
}

export function comboOptions(spec: Extract<InputSpec, { type: 'COMBO' }>, folders: Folders): string[] {
  return typeof spec.options === 'function' ? spec.options(folders) : [...spec.options];
}

export function objectInfoOf(d: NodeDefinition, folders: Folders): ObjectInfoEntry {
  const required: Record<string, unknown[]> = {};
  const optional: Record<string, unknown[]> = {};
  for (const [name, spec] of Object.entries(d.inputs)) setOwn(spec.optional ? optional : required, name, inputInfo(spec, folders));
  return {
    input: { required, optional },
    input_order: { required: Object.keys(required), optional: Object.keys(optional) },
    output: d.outputs.map((o) => o.type),
    output_is_list: d.outputs.map((o) => !!o.isList),
    output_name: d.outputs.map((o) => o.name),
    output_tooltips: d.outputs.map((o) => o.tooltip ?? null),
    name: d.type,
    display_name: d.displayName,
    description: d.description,
    python_module: 'instructbooth',
    category: d.category,
    output_node: !!d.outputNode,
  };
}
