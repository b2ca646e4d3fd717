// HostTensor <-> TensorProto, with raw little-endian bytes (what exporters write and onnxruntime reads fastest).
import { type HostTensor, allocate, BYTES_PER_ELEMENT, numel, type TensorArray } from './tensor.js';
import { DTYPE_CODES, dtypeOfCode } from './ops/math.js';
import { type ITensorProto, onnx } from './proto.js';

/** protobufjs gives int64 fields as number or Long. */
export function toNumber(v: number | { toString(): string }): number {
  return typeof v === 'number' ? v : Number(v.toString());
}

export function bytesOf(data: TensorArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function toTensorProto(name: string, t: HostTensor): ITensorProto {
  return { name, dims: t.shape, dataType: DTYPE_CODES[t.dtype], rawData: bytesOf(t.data) };
}

/** Placeholder proto whose bytes live in an external file at [offset, offset+length). */
export function externalTensorProto(name: string, t: HostTensor, location: string, offset: number): ITensorProto {
  return {
    name,
    dims: t.shape,
    dataType: DTYPE_CODES[t.dtype],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(t.data.byteLength) },
    ],
  };
}

/** Decodes a TensorProto; `external` resolves (location, offset, length) to bytes for externally stored tensors. */
export function fromTensorProto(p: ITensorProto, external?: (location: string, offset: number, length: number) => Uint8Array): HostTensor {
  const dtype = dtypeOfCode(p.dataType ?? 1);
  const shape = (p.dims ?? []).map(toNumber);
  const n = numel(shape);
  const out = allocate(dtype, n);
  const outBytes = bytesOf(out);
  let raw: Uint8Array | undefined;
  if (p.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = Object.fromEntries((p.externalData ?? []).map((e) => [e.key, e.value]));
    if (!external) throw new Error(`tensor '${p.name}' is stored in external file '${kv.location}', which was not provided`);
    raw = external(String(kv.location), Number(kv.offset ?? 0), Number(kv.length ?? n * BYTES_PER_ELEMENT[dtype]));
  } else if (p.rawData && p.rawData.length) raw = p.rawData;
  if (raw) {
    if (raw.length !== outBytes.length) throw new Error(`tensor '${p.name}' has ${raw.length} bytes, shape [${shape}] of ${dtype} needs ${outBytes.length}`);
    outBytes.set(raw);
    return { dtype, shape, data: out };
  }
  // Typed fields: float_data, int64_data, int32_data (also holds f16/bf16/bool/int8 words), double_data.
  const src: ArrayLike<number | { toString(): string }> =
    dtype === 'float32' ? p.floatData ?? [] : dtype === 'float64' ? p.doubleData ?? [] : dtype === 'int64' ? p.int64Data ?? [] : p.int32Data ?? [];
  if (src.length !== n) throw new Error(`tensor '${p.name}' holds ${src.length} values, shape [${shape}] needs ${n}`);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (out instanceof BigInt64Array) out[i] = BigInt(v.toString());
    else out[i] = Number(v);
  }
  return { dtype, shape, data: out };
}
