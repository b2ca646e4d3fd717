// Checkpoint-sized tensor I/O on top of the engine's safetensors header code:
// - reading: one tensor at a time straight into its final float32 array; 16-bit data goes through one reusable
//   scratch buffer, so loading holds the loaded weights plus at most the largest tensor's half-precision bytes;
// - writing: tensors produced (and cast) one at a time while the file is written, so saving in float16 never builds
//   a second copy of the model.
import * as fs from 'node:fs';
import { float16ArrayToFloat32, bfloat16ArrayToFloat32, float32ArrayToFloat16, float32ArrayToBfloat16 } from '../../engine/half.js';
import { openSafetensors, toFloat32, type SafetensorsFile } from '../../engine/safetensors.js';
import { TO_ST } from '../../engine/safetensors-header.js';
import { BYTES_PER_ELEMENT, numel, type DType, type HostTensor, type TensorArray } from '../../engine/tensor.js';

const IO_CHUNK = 1 << 30;

function readFully(fd: number, target: Uint8Array, position: number, what: string): void {
  for (let done = 0; done < target.length;) {
    const n = fs.readSync(fd, target, done, Math.min(IO_CHUNK, target.length - done), position + done);
    if (n === 0) throw new Error(`${what}: file ended early (read ${done} of ${target.length} bytes); the file is truncated`);
    done += n;
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, Math.min(IO_CHUNK, bytes.length - done));
}

const bytesOf = (a: TensorArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Reads tensors of one safetensors file as float32, each into a freshly allocated array of its exact size. */
export class Float32Reader {
  readonly file: SafetensorsFile;
  private fd: number;
  private scratch = new Uint16Array(0);

  constructor(file: SafetensorsFile | string) {
    this.file = typeof file === 'string' ? openSafetensors(file) : file;
    this.fd = fs.openSync(this.file.path, 'r');
  }

  /** `shape` overrides the stored shape (same element count), e.g. to drop a 1x1 conv kernel. */
  read(name: string, shape?: number[]): HostTensor {
    const info = this.file.info(name);
    const n = numel(info.shape);
    const out = shape ?? info.shape;
    if (numel(out) !== n) throw new Error(`${this.file.path}: tensor "${name}" [${info.shape}] cannot be viewed as [${out}]`);
    const what = `${this.file.path}: tensor "${name}"`;
    if (info.dtype === 'float32') {
      const data = new Float32Array(n);
      readFully(this.fd, bytesOf(data), info.byteOffset, what);
      return { dtype: 'float32', shape: [...out], data };
    }
    if (info.dtype === 'float16' || info.dtype === 'bfloat16') {
      if (this.scratch.length < n) this.scratch = new Uint16Array(n);
      const half = this.scratch.subarray(0, n);
      readFully(this.fd, bytesOf(half), info.byteOffset, what);
      const data = info.dtype === 'float16' ? float16ArrayToFloat32(half) : bfloat16ArrayToFloat32(half);
      return { dtype: 'float32', shape: [...out], data };
    }
    if (info.dtype === 'float64') return { ...this.file.read(name, { as: 'float32' }), shape: [...out] };
    throw new Error(`${what} is ${info.dtype}; weights must be floating point`);
  }

  close(): void {
    fs.closeSync(this.fd);
    this.file.close();
  }
}

/** A tensor to be written, produced only when its turn comes. */
export interface PendingTensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: () => TensorArray;
}

/** Casts floating data to the dtype a file should hold (float32 input in the common case). */
export function castFloat(t: HostTensor, dtype: 'float32' | 'float16' | 'bfloat16', what: string): TensorArray {
  if (t.dtype === dtype) return t.data;
  const f = toFloat32(t, what).data as Float32Array;
  if (dtype === 'float32') return f;
  return dtype === 'float16' ? float32ArrayToFloat16(f) : float32ArrayToBfloat16(f);
}

/**
 * Writes a safetensors file tensor by tensor (layout as the engine's writer: __metadata__ first, data ordered by
 * element size then name so every tensor is aligned, header padded to 8 bytes). Goes through a temporary file renamed
 * into place, so a failed save leaves any previous file intact.
 */
export function writeSafetensorsStreamed(path: string, tensors: PendingTensor[], metadata?: Record<string, string>): void {
  const order = [...tensors].sort((a, b) => BYTES_PER_ELEMENT[b.dtype] - BYTES_PER_ELEMENT[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Set<string>();
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    parts.push(`"__metadata__":{${Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(String(v))}`).join(',')}}`);
  }
  let offset = 0;
  for (const t of order) {
    if (seen.has(t.name)) throw new Error(`safetensors ${path}: tensor "${t.name}" given twice`);
    if (t.name === '__metadata__') throw new Error(`safetensors ${path}: "__metadata__" cannot be a tensor name`);
    seen.add(t.name);
    const bytes = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${TO_ST[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);

  const tmp = `${path}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    writeFully(fd, header);
    for (const t of order) {
      const data = t.data();
      const want = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
      if (data.byteLength !== want) {
        throw new Error(`safetensors ${path}: tensor "${t.name}" produced ${data.byteLength} bytes, ${t.dtype} [${t.shape}] needs ${want}`);
      }
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
