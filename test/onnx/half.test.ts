import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bfloat16ArrayToFloat32, bfloat16ToFloat32, float16ArrayToFloat32, float16ToFloat32,
  float32ArrayToBfloat16, float32ArrayToFloat16, float32ToBfloat16, float32ToFloat16, f32BitsToBf16, f32BitsToF16,
} from '../../src/runtime/onnx/half.js';

const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const isHalfNaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBfNaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

// Value of a half bit pattern straight from the IEEE 754 binary16 definition.
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

test('float32 -> float16 exact values, overflow, subnormals and ties', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // below the midpoint to infinity
    [65520, 0x7c00], // midpoint 65504..65536 ties to the even pattern, which is infinity
    [1e6, 0x7c00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [-(2 ** -24), 0x8001],
    [2 ** -25, 0x0000], // tie between 0 and 2^-24 -> even (0)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 (x 2^-24) -> even (2)
    [5 * 2 ** -25, 0x0002], // tie between 2 and 3 -> 2
    [2 ** -26, 0x0000],
    [1 + 2 ** -11, 0x3c00], // tie -> even mantissa 0
    [1 + 3 * 2 ** -11, 0x3c02], // tie -> even mantissa 2
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie rounds up
    [2047 * 2 ** -25, 0x0400], // rounding carries from subnormal into the smallest normal
    [0.1, 0x2e66], [1 / 3, 0x3555],
  ];
  for (const [v, bits] of cases) assert.equal(hex(float32ToFloat16(v)), hex(bits), `f16(${v})`);
  assert.ok(isHalfNaN(float32ToFloat16(NaN)));
  assert.ok(isHalfNaN(f32BitsToF16(0x7f800001)), 'a NaN with a low payload must not collapse to infinity');
  assert.equal(float32ToFloat16(-NaN) & 0x7c00, 0x7c00);
});

test('float16 -> float32 is exact for all 65536 patterns and round-trips', () => {
  for (let h = 0; h < 65536; h++) {
    const v = float16ToFloat32(h);
    const want = halfValue(h);
    if (Number.isNaN(want)) { assert.ok(Number.isNaN(v), hex(h)); assert.ok(isHalfNaN(float32ToFloat16(v))); continue; }
    assert.ok(Object.is(v, want), `${hex(h)}: ${v} vs ${want}`);
    assert.equal(float32ToFloat16(v), h, `round trip ${hex(h)}`);
  }
});

test('float32 -> float16 matches nearest-even rounding at every midpoint and on random inputs', () => {
  // Oracle: the nearest finite half by value, ties to the even pattern, or infinity from 65520 up.
  const finite: number[] = [];
  for (let h = 0; h <= 0x7bff; h++) finite.push(halfValue(h));
  const nearest = (x: number): number => {
    const a = Math.abs(x);
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    if (a >= 65520) return sign | 0x7c00;
    let lo = 0, hi = finite.length - 1;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (finite[mid]! <= a) lo = mid; else hi = mid; }
    const dl = a - finite[lo]!, dh = finite[hi]! - a;
    return sign | (dl < dh ? lo : dh < dl ? hi : (lo & 1 ? hi : lo));
  };
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const check = (x: number) => assert.equal(hex(float32ToFloat16(x)), hex(nearest(Math.fround(x))), `x = ${x}`);
  for (let h = 0; h < 0x7bff; h++) {
    const mid = (finite[h]! + finite[h + 1]!) / 2; // exact in float32
    f[0] = mid; const bits = u[0]!;
    for (const b of [bits - 1, bits, bits + 1]) { u[0] = b; check(f[0]!); check(-f[0]!); }
  }
  let seed = 12345;
  for (let i = 0; i < 200_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    u[0] = seed;
    if (!Number.isNaN(f[0]!)) check(f[0]!);
    // Mostly raw bit patterns are far outside half range; also sample magnitudes from 2^-26 to 2^17.
    u[0] = ((seed & 1) << 31) | (0x32800000 + (seed >>> 1) % (0x48000000 - 0x32800000));
    check(f[0]!);
  }
});

test('float32 <-> bfloat16 rounding, specials and exactness', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3f80], [-2, 0xc000],
    [1 + 2 ** -8, 0x3f80], // tie -> even
    [1 + 3 * 2 ** -8, 0x3f82], // tie -> even
    [1 + 2 ** -8 + 2 ** -20, 0x3f81],
    [Infinity, 0x7f80], [-Infinity, 0xff80],
    [3.3895313892515355e38, 0x7f7f], // largest finite bfloat16
  ];
  for (const [v, bits] of cases) assert.equal(hex(float32ToBfloat16(v)), hex(bits), `bf16(${v})`);
  assert.equal(hex(f32BitsToBf16(0x7f7fffff)), '0x7f80'); // max float32 rounds to infinity
  assert.equal(hex(f32BitsToBf16(0x7f7f8000)), '0x7f80'); // tie with odd 0x7f7f goes up to infinity
  assert.equal(hex(f32BitsToBf16(0x7f7f7fff)), '0x7f7f');
  assert.equal(hex(f32BitsToBf16(0x00000001)), '0x0000'); // tiny subnormal
  assert.equal(hex(f32BitsToBf16(0x00008001)), '0x0001');
  assert.ok(isBfNaN(float32ToBfloat16(NaN)));
  assert.ok(isBfNaN(f32BitsToBf16(0x7f800001)), 'a NaN with a low payload must not become infinity');
  assert.ok(isBfNaN(f32BitsToBf16(0xff800001)));
  for (let h = 0; h < 65536; h++) {
    const v = bfloat16ToFloat32(h);
    if (isBfNaN(h)) { assert.ok(Number.isNaN(v)); continue; }
    assert.equal(float32ToBfloat16(v), h, `round trip ${hex(h)}`);
  }
});

test('array conversions equal the scalar ones and respect views', () => {
  const src = Float32Array.from([0, -0, 1, 65504, 65520, 2 ** -24, 2 ** -25, 1 + 2 ** -11, NaN, -Infinity, 0.1, -3.75]);
  const h = float32ArrayToFloat16(src);
  const b = float32ArrayToBfloat16(src);
  src.forEach((v, i) => {
    assert.equal(h[i], float32ToFloat16(v));
    assert.equal(b[i], float32ToBfloat16(v));
  });
  const hb = float16ArrayToFloat32(h);
  const bb = bfloat16ArrayToFloat32(b);
  h.forEach((x, i) => assert.ok(Object.is(hb[i], float16ToFloat32(x))));
  b.forEach((x, i) => assert.ok(Object.is(bb[i], bfloat16ToFloat32(x))));
  // Views that start mid-buffer, and caller-provided outputs.
  const view = src.subarray(2, 5);
  assert.deepEqual([...float32ArrayToFloat16(view)], [0x3c00, 0x7bff, 0x7c00]);
  const out = new Float32Array(6);
  float16ArrayToFloat32(Uint16Array.from([0x3c00, 0xc000]), out.subarray(3, 5));
  assert.deepEqual([...out], [0, 0, 0, 1, -2, 0]);
});
