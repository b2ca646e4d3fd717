// Host tensors: plain typed arrays with a shape, the currency between safetensors, ONNX initializers, sessions and
// optimizers. Half-precision values are kept as raw 16-bit words (Uint16Array) until converted.

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TensorArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: TensorArray;
}

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1,
};

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, length: number): TensorArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'float16': case 'bfloat16': return new Uint16Array(length);
    case 'int64': return new BigInt64Array(length);
    case 'int32': return new Int32Array(length);
    case 'int8': return new Int8Array(length);
    case 'uint8': case 'bool': return new Uint8Array(length);
  }
}

export function tensor(dtype: DType, shape: number[], data?: TensorArray): HostTensor {
  const n = numel(shape);
  const d = data ?? allocate(dtype, n);
  if (d.length !== n) throw new Error(`tensor data has ${d.length} elements, shape [${shape.join(', ')}] needs ${n}`);
  return { dtype, shape: [...shape], data: d };
}

export function f32(shape: number[], data?: Float32Array | number[]): HostTensor {
  return tensor('float32', shape, data === undefined ? undefined : data instanceof Float32Array ? data : Float32Array.from(data));
}

export function i64(shape: number[], values: readonly number[]): HostTensor {
  return tensor('int64', shape, BigInt64Array.from(values.map((v) => BigInt(v))));
}
