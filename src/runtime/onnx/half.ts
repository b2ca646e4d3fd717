// 16-bit float conversions. Half values travel as raw bit patterns (numbers 0..0xffff, Uint16Array in arrays),
// matching how HostTensor stores float16/bfloat16. Float32 -> 16-bit rounds to nearest, ties to even, like
// torch/numpy casts, so weights we write are bit-identical to what PyTorch would save.

// One scratch word to reinterpret float32 bits; typed-array views use platform byte order, which cancels out here.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bits -> float16 bits (round to nearest even; overflow -> inf; subnormals kept; NaN stays NaN, quieted). */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero). Below 2^-25 everything rounds to zero; exactly 2^-25 is a tie that goes to 0 (even).
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++; // a carry into bit 10 correctly yields the smallest normal
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may reach 0x7c00 = inf, which is correct
  return sign | h;
}

/** float16 bits -> float32 bits (exact). */
export function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: normalize the mantissa into a float32 normal.
  let e = 113;
  let m = mant;
  while ((m & 0x400) === 0) { m <<= 1; e--; }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** float32 bits -> bfloat16 bits (round to nearest even; NaN stays NaN, quieted). */
export function f32BitsToBf16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  // Adding 0x7fff plus the lowest kept bit rounds ties to even; the sum stays below 2^32 for every non-NaN input.
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) / 0x10000 | 0;
}

export function float32ToFloat16(v: number): number { f32[0] = v; return f32BitsToF16(u32[0]!); }
export function float16ToFloat32(h: number): number { u32[0] = f16BitsToF32(h); return f32[0]!; }
export function float32ToBfloat16(v: number): number { f32[0] = v; return f32BitsToBf16(u32[0]!); }
export function bfloat16ToFloat32(h: number): number { u32[0] = (h & 0xffff) << 16; return f32[0]!; }

// Array versions work on 32-bit views of the float data, so no per-element scratch round trips.

export function float32ArrayToFloat16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16(bits[i]!);
  return out;
}

// A 65536-entry table makes half -> float32 one load per element (large checkpoints are mostly F16).
let f16Table: Uint32Array | undefined;
function halfTable(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32(h);
  }
  return f16Table;
}

export function float16ArrayToFloat32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const table = halfTable();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i]!]!;
  return out;
}

export function float32ArrayToBfloat16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToBf16(bits[i]!);
  return out;
}

export function bfloat16ArrayToFloat32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}
