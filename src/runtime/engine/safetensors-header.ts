// The safetensors header: dtype names, JSON parsing with the reference implementation's validation, and header
// building in the reference writer's layout. Shared by the file reader/writer and the in-memory codec.
import { allocate, BYTES_PER_ELEMENT, numel, type DType, type HostTensor } from '../onnx/tensor.js';

/** safetensors dtype name -> our DType. Other safetensors dtypes are sized (so files holding them still validate) but not readable. */
export const FROM_ST: Readonly<Record<string, DType>> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64',
  I64: 'int64', I32: 'int32', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
export const TO_ST: Readonly<Record<DType, string>> = {
  float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64',
  int64: 'I64', int32: 'I32', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const OTHER_SIZES: Readonly<Record<string, number>> = {
  I16: 2, U16: 2, U32: 4, U64: 8, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
};

// The reference writer orders tensors by descending dtype rank (its enum order), then name, so every tensor
// starts aligned to its element size once the header is padded to 8 bytes.
const RANK: Readonly<Record<DType, number>> = {
  bool: 0, uint8: 1, int8: 2, float16: 7, bfloat16: 8, int32: 9, float32: 11, float64: 12, int64: 13,
};

/** The reference implementation refuses headers over 100 MB; so do we, before allocating for one. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  /** safetensors dtype name as written in the file */
  stDtype: string;
  dtype: DType | undefined;
  shape: number[];
  /** offsets relative to the start of the data section */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  metadata: Record<string, string>;
  entries: Map<string, TensorEntry>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and validates the JSON header. `dataBytes` is the size of everything after the header; like the reference,
 * the tensors must tile it exactly (start at 0, no gaps, no overlaps, end at its end). `source` names the file in errors.
 */
export function parseHeader(json: string, dataBytes: number, source: string): ParsedHeader {
  const fail = (what: string): never => { throw new Error(`safetensors ${source}: ${what}`); };
  if (!json.startsWith('{')) fail('header does not start with "{"');
  let root: unknown;
  try { root = JSON.parse(json); } catch (e) { fail(`header is not valid JSON (${(e as Error).message})`); }
  if (!isObject(root)) fail('header is not a JSON object');
  const obj = root as Record<string, unknown>;

  let metadata: Record<string, string> = {};
  const meta = obj['__metadata__'];
  if (meta !== undefined) {
    if (!isObject(meta)) fail('__metadata__ is not an object');
    const pairs = Object.entries(meta as Record<string, unknown>);
    for (const [k, v] of pairs) if (typeof v !== 'string') fail(`__metadata__ value "${k}" is not a string`);
    metadata = Object.fromEntries(pairs) as Record<string, string>; // fromEntries keeps a "__proto__" key as data
  }

  const entries = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(obj)) {
    if (name === '__metadata__') continue;
    const bad = (what: string): never => fail(`tensor "${name}": ${what}`);
    if (!isObject(raw)) bad('entry is not an object');
    const info = raw as Record<string, unknown>;
    const st = info['dtype'];
    if (typeof st !== 'string') bad('dtype is missing');
    const stDtype = st as string;
    const dtype = FROM_ST[stDtype];
    const size = dtype ? BYTES_PER_ELEMENT[dtype] : OTHER_SIZES[stDtype];
    if (size === undefined) bad(`unknown dtype "${stDtype}"`);
    const shape = info['shape'];
    if (!Array.isArray(shape) || !shape.every(isCount)) bad('shape is not a list of non-negative integers');
    const offs = info['data_offsets'];
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) bad('data_offsets is not [begin, end]');
    const [begin, end] = offs as [number, number];
    if (end < begin) bad(`data_offsets [${begin}, ${end}] end before begin`);
    if (end > dataBytes) bad(`data_offsets [${begin}, ${end}] run past the end of the file (data section is ${dataBytes} bytes)`);
    const want = numel(shape as number[]) * size!;
    if (end - begin !== want) {
      bad(`holds ${end - begin} bytes but ${stDtype} shape [${(shape as number[]).join(', ')}] needs ${want}`);
    }
    entries.set(name, { stDtype, dtype, shape: [...(shape as number[])], begin, end });
  }

  // Walk tensors in offset order: each must start where the previous ended.
  const ordered = [...entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = 0;
  for (const [name, e] of ordered) {
    if (e.begin < cursor) fail(`tensor "${name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${cursor})`);
    if (e.begin > cursor) fail(`tensor "${name}": data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== dataBytes) fail(`tensors cover ${cursor} bytes but the data section is ${dataBytes} bytes`);
  return { metadata, entries: new Map(ordered) }; // in file order, like the reference's tensor_names()
}

/** What the header needs of a tensor: its data can come later (written tensor by tensor). */
export interface TensorLayout {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

export interface HeaderPlan<T extends TensorLayout> {
  /** 8-byte length prefix + JSON padded with spaces to a multiple of 8 */
  header: Buffer;
  /** tensors in file order */
  order: T[];
  dataBytes: number;
}

/** Lays out tensors the way the reference writer does (largest elements first, then by name) and builds the header. */
export function planLayout<T extends TensorLayout>(tensors: T[], metadata?: Record<string, string>): HeaderPlan<T> {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new Error('safetensors: "__metadata__" cannot be a tensor name');
    if (seen.has(t.name)) throw new Error(`safetensors: tensor "${t.name}" given twice`);
    seen.add(t.name);
    if (!TO_ST[t.dtype]) throw new Error(`safetensors: tensor "${t.name}" has unsupported dtype "${String(t.dtype)}"`);
    if (!t.shape.every(isCount)) throw new Error(`safetensors: tensor "${t.name}" has invalid shape [${String(t.shape)}]`);
  }
  const order = [...tensors].sort((a, b) => RANK[b.dtype] - RANK[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Compact JSON, __metadata__ first, tensors in data order: the layout serde_json gives the reference writer.
  // Built by hand because JS objects would move integer-like names ("0", "12") to the front.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const kv = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata value "${k}" is not a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const t of order) {
    const bytes = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${TO_ST[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, order, dataBytes: offset };
}

/** planLayout for tensors in memory, checking that each one's data fits its dtype and shape. */
export function planHeader(tensors: Record<string, HostTensor>, metadata?: Record<string, string>): HeaderPlan<TensorLayout & { tensor: HostTensor }> {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const n = numel(t.shape);
    if (TO_ST[t.dtype] && t.shape.every(isCount)) {
      if (t.data.length !== n) throw new Error(`safetensors: tensor "${name}" has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${n}`);
      if (t.data.constructor !== allocate(t.dtype, 0).constructor) throw new Error(`safetensors: tensor "${name}" is ${t.dtype} but its data is a ${t.data.constructor.name}`);
    }
    return { name, dtype: t.dtype, shape: t.shape, tensor: t };
  });
  return planLayout(entries, metadata);
}
