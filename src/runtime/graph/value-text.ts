// Node input values as text: short descriptions for error reports (ComfyUI's current_inputs), and a deterministic
// canonical form for hashing into cache keys.

/** Inputs as ComfyUI's current_inputs: primitives as they are, anything else as a short description. */
export function formatInputs(inputs: Record<string, unknown>): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, [formatValue(v)]]));
}

function formatValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  if (Array.isArray(v)) {
    const small = v.length <= 32 && v.every((x) => x === null || ['number', 'string', 'boolean'].includes(typeof x));
    return small ? JSON.stringify(v) : `Array(${v.length})`;
  }
  if (typeof v === 'object') {
    const name = v.constructor && v.constructor !== Object ? v.constructor.name : 'object';
    return `<${name} ${Object.keys(v).slice(0, 8).join(', ')}>`;
  }
  return String(v);
}

/** Deterministic text of a JSON-like value, object keys sorted, for hashing into cache keys. */
export function canonical(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : `"#${v}"`;
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')})`;
  if (typeof v === 'object')
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return String(v);
}
