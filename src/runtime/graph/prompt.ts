// ComfyUI's API-format prompt: {id: {class_type, inputs, _meta}}; an input is a literal or a link [sourceId, slot].

/** A link to output `slot` of node `sourceId`. */
export type Link = [string, number];

export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

export type Prompt = Record<string, PromptNode>;

export function isLink(v: unknown): v is Link {
  return Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && Number.isInteger(v[1]);
}

/** Literal lists are wrapped as {"__value__": [...]} so they are not read as links. */
export function unwrapLiteral(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v) && '__value__' in v) return (v as { __value__: unknown }).__value__;
  return v;
}

export function titleOf(p: Prompt, id: string): string {
  return p[id]?._meta?.title ?? p[id]?.class_type ?? id;
}
