// Our safetensors reader/writer (format: 8-byte LE header length, JSON header, raw tensor bytes; see
// docs/algorithms.md). Files are read tensor by tensor with positioned reads and written tensor by tensor,
// so a multi-GB checkpoint never sits in memory twice and files over 2 GiB work.
// Assumes a little-endian host (x86, ARM): raw bytes go straight into typed arrays without byte swapping.
import * as fs from 'node:fs';
import { allocate, BYTES_PER_ELEMENT, numel, type DType, type HostTensor, type TensorArray } from '../onnx/tensor.js';
import { float16ArrayToFloat32, bfloat16ArrayToFloat32 } from '../onnx/half.js';
import { MAX_HEADER_BYTES, parseHeader, planHeader, planLayout, type TensorEntry, type TensorLayout } from './safetensors-header.js';

export interface SafetensorsTensorInfo {
  dtype: DType;
  shape: number[];
  /** absolute position of the tensor's first byte in the file (8 + header length + data_offsets[0]) */
  byteOffset: number;
  byteLength: number;
}

export interface ReadOptions {
  /** convert float16/bfloat16/float64 to float32 (float32 passes through; integer dtypes throw) */
  as?: 'float32';
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** tensor names in file order */
  names(): string[];
  has(name: string): boolean;
  info(name: string): SafetensorsTensorInfo;
  read(name: string, opts?: ReadOptions): HostTensor;
  close(): void;
}

// Node and the kernel cap a single read/write near 2 GiB; larger tensors go through in chunks.
const IO_CHUNK = 1 << 30;

function readFully(fd: number, target: Uint8Array, position: number, what: () => string): void {
  for (let done = 0; done < target.length;) {
    const n = fs.readSync(fd, target, done, Math.min(IO_CHUNK, target.length - done), position + done);
    if (n === 0) throw new Error(`${what()}: file ended early (read ${done} of ${target.length} bytes)`);
    done += n;
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, Math.min(IO_CHUNK, bytes.length - done));
}

const bytesOf = (a: TensorArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Converts a floating tensor to float32; float32 input is returned as is. */
export function toFloat32(t: HostTensor, what = 'tensor'): HostTensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32': return t;
    case 'float16': return { dtype: 'float32', shape, data: float16ArrayToFloat32(t.data as Uint16Array) };
    case 'bfloat16': return { dtype: 'float32', shape, data: bfloat16ArrayToFloat32(t.data as Uint16Array) };
    case 'float64': return { dtype: 'float32', shape, data: Float32Array.from(t.data as Float64Array) };
    default: throw new Error(`${what} is ${t.dtype}; only floating tensors can be read as float32`);
  }
}

function usable(entry: TensorEntry, source: string, name: string): DType {
  if (!entry.dtype) throw new Error(`safetensors ${source}: tensor "${name}" has dtype ${entry.stDtype}, which this reader does not support`);
  return entry.dtype;
}

/** Opens a file and validates its header; tensor data is read only on demand by read(). */
export function openSafetensors(path: string): SafetensorsFile {
  const fd = fs.openSync(path, 'r');
  let dataStart: number;
  let header: ReturnType<typeof parseHeader>;
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new Error(`safetensors ${path}: file is ${size} bytes, too short for the 8-byte header length`);
    const prefix = Buffer.alloc(8);
    readFully(fd, prefix, 0, () => `safetensors ${path}`);
    const n = prefix.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`safetensors ${path}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const headerLen = Number(n);
    if (8 + headerLen > size) throw new Error(`safetensors ${path}: header length ${headerLen} runs past the end of the ${size}-byte file`);
    const raw = Buffer.alloc(headerLen);
    readFully(fd, raw, 8, () => `safetensors ${path}`);
    let json: string;
    try { json = new TextDecoder('utf-8', { fatal: true }).decode(raw); } catch {
      throw new Error(`safetensors ${path}: header is not valid UTF-8`);
    }
    dataStart = 8 + headerLen;
    header = parseHeader(json, size - dataStart, path);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }

  let open = true;
  const { metadata, entries } = header;
  const entry = (name: string): TensorEntry => {
    const e = entries.get(name);
    if (!e) throw new Error(`safetensors ${path}: no tensor named "${name}"`);
    return e;
  };
  return {
    path,
    metadata,
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    info(name) {
      const e = entry(name);
      return { dtype: usable(e, path, name), shape: [...e.shape], byteOffset: dataStart + e.begin, byteLength: e.end - e.begin };
    },
    read(name, opts) {
      if (!open) throw new Error(`safetensors ${path}: read("${name}") after close()`);
      const e = entry(name);
      const dtype = usable(e, path, name);
      const t: HostTensor = { dtype, shape: [...e.shape], data: allocate(dtype, numel(e.shape)) };
      readFully(fd, bytesOf(t.data), dataStart + e.begin, () => `safetensors ${path}: tensor "${name}"`);
      return opts?.as === 'float32' ? toFloat32(t, `safetensors ${path}: tensor "${name}"`) : t;
    },
    close() {
      if (open) { open = false; fs.closeSync(fd); }
    },
  };
}

/** A tensor to be written, produced (e.g. converted to float16) only when its turn comes. */
export interface PendingTensor extends TensorLayout {
  data: () => TensorArray;
}

/**
 * Writes tensors in the reference layout, producing each one's data only when it is written, so a model saved in
 * another dtype never exists twice in memory. Goes to a temporary file renamed into place at the end, so a crash
 * mid-save leaves any previous file at `path` intact (matters for training checkpoints).
 */
export function writeSafetensorsStreamed(path: string, tensors: PendingTensor[], metadata?: Record<string, string>): void {
  const { header, order } = planLayout(tensors, metadata);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    writeFully(fd, header);
    for (const t of order) {
      const data = t.data();
      const want = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
      if (data.byteLength !== want) throw new Error(`safetensors ${path}: tensor "${t.name}" produced ${data.byteLength} bytes, ${t.dtype} [${t.shape}] needs ${want}`);
      writeFully(fd, bytesOf(data));
    }
    fs.closeSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.renameSync(tmp, path);
}

/** Writes tensors held in memory (see writeSafetensorsStreamed). */
export function writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata?: Record<string, string>): void {
  const { order } = planHeader(tensors, metadata);
  writeSafetensorsStreamed(path, order.map(({ name, dtype, shape, tensor }) => ({ name, dtype, shape, data: () => tensor.data })), metadata);
}

/** Whole file in one Buffer: for small payloads (tests, network, embedding in other containers). */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata?: Record<string, string>): Buffer {
  const { header, order, dataBytes } = planHeader(tensors, metadata);
  const out = Buffer.allocUnsafe(header.length + dataBytes);
  header.copy(out, 0);
  let at = header.length;
  for (const { tensor } of order) { out.set(bytesOf(tensor.data), at); at += tensor.data.byteLength; }
  return out;
}

/** Parses an in-memory file; tensor data is copied into fresh, aligned typed arrays. */
export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`safetensors ${source}: ${buf.length} bytes, too short for the 8-byte header length`);
  const n = Buffer.from(buf.buffer, buf.byteOffset, 8).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`safetensors ${source}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const dataStart = 8 + Number(n);
  if (dataStart > buf.length) throw new Error(`safetensors ${source}: header length ${n} runs past the end of the ${buf.length}-byte buffer`);
  let json: string;
  try { json = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, dataStart)); } catch {
    throw new Error(`safetensors ${source}: header is not valid UTF-8`);
  }
  const { metadata, entries } = parseHeader(json, buf.length - dataStart, source);
  const tensors: Record<string, HostTensor> = {};
  for (const [name, e] of entries) {
    const dtype = usable(e, source, name);
    const t: HostTensor = { dtype, shape: [...e.shape], data: allocate(dtype, numel(e.shape)) };
    bytesOf(t.data).set(buf.subarray(dataStart + e.begin, dataStart + e.end));
    Object.defineProperty(tensors, name, { value: t, enumerable: true, writable: true, configurable: true });
  }
  return { tensors, metadata };
}
