// Checkpoint-sized tensor I/O on top of the engine's safetensors code:
// - reading: one tensor at a time straight into its final float32 array; 16-bit data goes through one reusable
//   scratch buffer, so loading holds the loaded weights plus at most the largest tensor's half-precision bytes;
// - writing: tensors produced (and cast) one at a time while the file is written, so saving in float16 never builds
//   a second copy of the model.
import * as fs from 'node:fs';
import { float16ArrayToFloat32, bfloat16ArrayToFloat32, float32ArrayToFloat16, float32ArrayToBfloat16 } from '../../onnx/half.js';
import { openSafetensors, toFloat32, type SafetensorsFile } from '../../engine/safetensors.js';
import { numel, type HostTensor, type TensorArray } from '../../onnx/tensor.js';

const IO_CHUNK = 1 << 30;

function readFully(fd: number, target: Uint8Array, position: number, what: string): void {
  for (let done = 0; done < target.length;) {
    const n = fs.readSync(fd, target, done, Math.min(IO_CHUNK, target.length - done), position + done);
    if (n === 0) throw new Error(`${what}: file ended early (read ${done} of ${target.length} bytes); the file is truncated`);
    done += n;
  }
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

export { type PendingTensor, writeSafetensorsStreamed } from '../../engine/safetensors.js';

/** Casts floating data to the dtype a file should hold (float32 input in the common case). */
export function castFloat(t: HostTensor, dtype: 'float32' | 'float16' | 'bfloat16', what: string): TensorArray {
  if (t.dtype === dtype) return t.data;
  const f = toFloat32(t, what).data as Float32Array;
  if (dtype === 'float32') return f;
  return dtype === 'float16' ? float32ArrayToFloat16(f) : float32ArrayToBfloat16(f);
}

