// Analysis by synthesis: the oracle asks the generator's layout where a part (a hat, eyes, drips...) would be drawn
// around the object it found, and measures how much the image agrees there compared with a ring just around it.
import { type Activity, type ObjectClass, type PlushieBody, hasAccessoryColor } from '../attributes.js';
import { BABY_SHIFT, BOUNCE_LIFT, BOUNCE_REST_DROP, POSITION_CENTER, SIZE_RADIUS, layoutScene, type Part } from '../layout.js';
import { rasterize } from '../raster.js';
import { NO_JITTER, scene } from '../scene.js';

export interface FoundObject {
  objectClass: ObjectClass;
  body: PlushieBody;
  r: number;
  /** Where the body is drawn (for bouncing, above its rest place). */
  center: [number, number];
}

/** The color synthesis draws a scarf or balloon in: any stand-in will do, the reader scores it as the accent. */
export const STAND_IN_ACCESSORY_COLOR = 'red';

/** The laid-out parts of a scene whose object is drawn where the found one is, doing `activity`. */
export function partsAt(found: FoundObject, activity: Activity): Part[] {
  const [cx, cy] = found.center;
  const restY = activity === 'bouncing' ? cy - BOUNCE_REST_DROP + BOUNCE_LIFT : cy;
  // The object a baby stands beside is drawn left of the scene's position.
  const restX = activity === 'baby' ? cx + BABY_SHIFT * found.r : cx;
  return layoutScene(
    scene({
      objectClass: found.objectClass,
      body: found.body,
      size: 'large',
      position: 'center',
      activity,
      accessoryColor: hasAccessoryColor(activity) ? STAND_IN_ACCESSORY_COLOR : null,
      jitter: { ...NO_JITTER, scale: found.r / SIZE_RADIUS.large, dx: restX - POSITION_CENTER.center[0], dy: restY - POSITION_CENTER.center[1] },
    }),
  ).parts;
}

/** A pixel set over a size x size image, with the box (pixel indices, inclusive) that holds it. */
export class PixelSet {
  readonly has: Uint8Array;
  x0 = Infinity;
  y0 = Infinity;
  x1 = -Infinity;
  y1 = -Infinity;
  constructor(readonly size: number) {
    this.has = new Uint8Array(size * size);
  }
  add(p: number): void {
    this.has[p] = 1;
    const x = p % this.size, y = (p - x) / this.size;
    if (x < this.x0) this.x0 = x;
    if (x > this.x1) this.x1 = x;
    if (y < this.y0) this.y0 = y;
    if (y > this.y1) this.y1 = y;
  }
  get empty(): boolean {
    return this.x1 < this.x0;
  }
  /** Adds the pixels a part covers at least `min` of (2 x 2 samples; one, the center, when `min` is 0.5). */
  cover(part: Part, min = 0.5): this {
    rasterize(part.region, this.size, min === 0.5 ? 1 : 2, (p, cov) => cov >= min && this.add(p));
    return this;
  }
  /** Visits the box grown by `margin`, clipped to the image. */
  window(margin: number, visit: (p: number, x: number, y: number) => void): void {
    if (this.empty) return;
    const s = this.size;
    for (let y = Math.max(0, this.y0 - margin); y <= Math.min(s - 1, this.y1 + margin); y++)
      for (let x = Math.max(0, this.x0 - margin); x <= Math.min(s - 1, this.x1 + margin); x++) visit(y * s + x, x, y);
  }
  /** City-block distance to the set, capped at `cap + 1`. */
  distance(x: number, y: number, cap: number): number {
    const s = this.size;
    let best = cap + 1;
    for (let dy = -cap; dy <= cap; dy++) {
      const ny = y + dy;
      if (ny < 0 || ny >= s) continue;
      const span = cap - Math.abs(dy);
      for (let dx = -span; dx <= span; dx++) {
        const nx = x + dx;
        if (nx >= 0 && nx < s && this.has[ny * s + nx]) {
          const d = Math.abs(dx) + Math.abs(dy);
          if (d < best) best = d;
        }
      }
    }
    return best;
  }

  /** City-block distances (0, 1, 2, or 3 for farther) over the box grown by 2, as a full-size map. */
  distances(): Uint8Array {
    const s = this.size;
    const d = new Uint8Array(s * s).fill(3);
    if (this.empty) return d;
    const x0 = Math.max(0, this.x0 - 2), x1 = Math.min(s - 1, this.x1 + 2), y0 = Math.max(0, this.y0 - 2), y1 = Math.min(s - 1, this.y1 + 2);
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (this.has[y * s + x]) d[y * s + x] = 0;
    // Two relaxation sweeps of a 4-neighbour distance transform, exact up to the cap.
    for (let pass = 0; pass < 2; pass++)
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const p = y * s + x;
          let v = d[p];
          if (x > x0) v = Math.min(v, d[p - 1] + 1);
          if (y > y0) v = Math.min(v, d[p - s] + 1);
          if (x < x1) v = Math.min(v, d[p + 1] + 1);
          if (y < y1) v = Math.min(v, d[p + s] + 1);
          d[p] = Math.min(3, v);
        }
    return d;
  }
}

/** The most of a map over a pixel and its 4 neighbours: tolerates a pixel of misplacement of thin parts. */
function localMax(map: Float32Array, size: number, p: number): number {
  const x = p % size;
  let m = map[p];
  if (x > 0) m = Math.max(m, map[p - 1]);
  if (x < size - 1) m = Math.max(m, map[p + 1]);
  if (p >= size) m = Math.max(m, map[p - size]);
  if (p + size < map.length) m = Math.max(m, map[p + size]);
  return m;
}

/**
 * Mean of `map` over the part (best of each pixel's neighbourhood) minus its mean over the ring two pixels out
 * (`ringMap`, default `map`). `skip(p)` pixels count for neither; `skipInside(p)` only not for the part. `exact`:
 * no neighbourhood (for parts that are not thin).
 */
export function contrast(
  inside: PixelSet,
  map: Float32Array,
  opts: { ringMap?: Float32Array; skip?: (p: number) => boolean; skipInside?: (p: number) => boolean; exact?: boolean } = {},
): number {
  const ringMap = opts.ringMap ?? map;
  const dist = inside.distances();
  let inSum = 0, inN = 0, ringSum = 0, ringN = 0;
  inside.window(2, (p) => {
    if (opts.skip?.(p)) return;
    if (inside.has[p]) {
      if (opts.skipInside?.(p)) return;
      inSum += opts.exact ? map[p] : localMax(map, inside.size, p);
      inN++;
    } else if (dist[p] === 2) {
      ringSum += ringMap[p];
      ringN++;
    }
  });
  return (inN ? inSum / inN : 0) - (ringN ? ringSum / ringN : 0);
}
