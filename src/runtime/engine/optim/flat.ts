// Many tensors as views of one Float32Array: the layout that lets one onnxruntime run update every parameter (fused
// optimizer) and lets a training session write every gradient straight into place.
import type { ParamMap } from './common.js';

export interface FlatLayout {
  names: string[];
  offsets: number[];
  sizes: number[];
  total: number;
}

export function layoutOf(map: ParamMap): FlatLayout {
  const names = [...map.keys()];
  const sizes = names.map((n) => map.get(n)!.length);
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) {
    offsets.push(total);
    total += s;
  }
  return { names, offsets, sizes, total };
}

/** Views of `buffer` per name, in layout order. */
export function viewsOf(buffer: Float32Array, layout: FlatLayout): ParamMap {
  return new Map(layout.names.map((n, i) => [n, buffer.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i])]));
}

/** The one buffer the map's tensors are consecutive views of (in layout order), or undefined. */
export function contiguousBuffer(map: ParamMap, layout: FlatLayout): Float32Array | undefined {
  const first = map.get(layout.names[0]);
  if (!first) return undefined;
  const base = first.byteOffset;
  for (let i = 0; i < layout.names.length; i++) {
    const v = map.get(layout.names[i]);
    if (!v || v.buffer !== first.buffer || v.byteOffset !== base + 4 * layout.offsets[i] || v.length !== layout.sizes[i]) return undefined;
  }
  return new Float32Array(first.buffer, base, layout.total);
}

export function gather(map: ParamMap, layout: FlatLayout, out: Float32Array): Float32Array {
  layout.names.forEach((n, i) => out.set(map.get(n)!, layout.offsets[i]));
  return out;
}

export function scatter(flat: Float32Array, layout: FlatLayout, map: ParamMap): void {
  layout.names.forEach((n, i) => map.get(n)!.set(flat.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i])));
}
