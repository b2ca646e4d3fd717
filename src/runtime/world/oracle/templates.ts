// Class templates: each class's silhouette, drawn by the generator's own layout code and normalized by its moments
// (centroid, and spread along x and y separately). Spread-normalizing makes the comparison blind to size, position
// and to stretching along the image axes, so one template per class serves "stretched wide" too; the stretch is read
// from the spread ratio instead. Melting adds drips of absolute size, so it has its own templates per size.
import { type ObjectClass, PLUSHIE_BODIES, type PlushieBody, SHAPES, type Size } from '../attributes.js';
import { layoutScene } from '../layout.js';
import { rasterize } from '../raster.js';
import { NO_JITTER, scene } from '../scene.js';
import { type Moments, moments } from './pixels.js';

export const GRID = 20;
/** The grid spans +-EXTENT spreads around the centroid. */
export const EXTENT = 3;
const RES = 64;

export interface Template {
  objectClass: ObjectClass;
  body: PlushieBody;
  melting: boolean;
  /** For melting templates, the size drawn (drips do not scale with the object). */
  size: Size;
  /** The silhouette on the normalized grid, sharp and blurred by each of BLURS. */
  grids: Float32Array[];
  /** Spread ratio sx / sy of the unstretched silhouette. */
  aspect: number;
  /** Area over radius^2 (plain) or absolute area (melting), image units. */
  area: number;
  /** Centroid minus placement center, in radii (ears lift it, drips lower it). */
  offsetY: number;
  /** Spread along x over radius: sizes melting objects, whose drips spoil the area. */
  spreadX: number;
}

/** Template blurs in grid cells: the pixel grid and a small model's blur soften small objects by about this much. */
export const BLURS = [0, 0.7, 1.4];

function blurGrid(g: Float32Array, sigma: number): Float32Array {
  if (sigma === 0) return g;
  const rad = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * rad + 1 }, (_, i) => Math.exp(-((i - rad) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(g.length), out = new Float32Array(g.length);
  for (let j = 0; j < GRID; j++)
    for (let i = 0; i < GRID; i++) {
      let a = 0;
      for (let t = -rad; t <= rad; t++) if (i + t >= 0 && i + t < GRID) a += k[t + rad] * g[j * GRID + i + t];
      tmp[j * GRID + i] = a / ks;
    }
  for (let j = 0; j < GRID; j++)
    for (let i = 0; i < GRID; i++) {
      let a = 0;
      for (let t = -rad; t <= rad; t++) if (j + t >= 0 && j + t < GRID) a += k[t + rad] * tmp[(j + t) * GRID + i];
      out[j * GRID + i] = a / ks;
    }
  return out;
}

/** Samples a pixel map (1 inside, or a share) at the moment-normalized grid, bilinearly. */
export function normalizedGrid(mask: ArrayLike<number>, size: number, m: Moments): Float32Array {
  const g = new Float32Array(GRID * GRID);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= size || y >= size ? 0 : mask[y * size + x]);
  for (let j = 0; j < GRID; j++)
    for (let i = 0; i < GRID; i++) {
      const u = -EXTENT + (2 * EXTENT * (i + 0.5)) / GRID, v = -EXTENT + (2 * EXTENT * (j + 0.5)) / GRID;
      const fx = (m.cx + u * m.sx) * size - 0.5, fy = (m.cy + v * m.sy) * size - 0.5;
      const x = Math.floor(fx), y = Math.floor(fy), ax = fx - x, ay = fy - y;
      g[j * GRID + i] = (1 - ay) * ((1 - ax) * at(x, y) + ax * at(x + 1, y)) + ay * ((1 - ax) * at(x, y + 1) + ax * at(x + 1, y + 1));
    }
  return g;
}

function build(objectClass: ObjectClass, body: PlushieBody, melting: boolean, size: Size): Template {
  const acc = new Float32Array(GRID * GRID);
  let aspect = 0, area = 0, offsetY = 0, spreadX = 0;
  const rotations = [-5, 0, 5];
  for (const rotation of rotations) {
    const s = scene({ objectClass, body, size, activity: melting ? 'melting' : 'none', jitter: { ...NO_JITTER, rotation } });
    const layout = layoutScene(s);
    const mask = new Uint8Array(RES * RES);
    // Eyes count as body: the reader fills enclosed non-background pixels the same way.
    for (const part of layout.parts)
      if (part.kind === 'body' || part.kind === 'eye') rasterize(part.region, RES, 2, (p, cov) => cov >= 0.5 && (mask[p] = 1));
    const pix: number[] = [];
    mask.forEach((v, p) => v && pix.push(p));
    const m = moments(pix, RES);
    normalizedGrid(mask, RES, m).forEach((v, i) => (acc[i] += v / rotations.length));
    const r = layout.bodies[0].r;
    aspect += m.sx / m.sy / rotations.length;
    area += (melting ? m.area : m.area / (r * r)) / rotations.length;
    offsetY += (m.cy - layout.bodies[0].cy) / r / rotations.length;
    spreadX += m.sx / r / rotations.length;
  }
  return { objectClass, body, melting, size, grids: BLURS.map((b) => blurGrid(acc, b)), aspect, area, offsetY, spreadX };
}

let cache: Template[] | undefined;

/** Every class (and plushie body) plain, and melting at each size. Built once, on first use. */
export function templates(): Template[] {
  if (cache) return cache;
  const keys: [ObjectClass, PlushieBody][] = [
    ...SHAPES.map((s): [ObjectClass, PlushieBody] => [s, 'circle']),
    ...PLUSHIE_BODIES.map((b): [ObjectClass, PlushieBody] => ['plushie', b]),
  ];
  cache = keys.flatMap(([c, b]) => [build(c, b, false, 'large'), build(c, b, true, 'small'), build(c, b, true, 'large')]);
  return cache;
}

/** Mean absolute difference over the grid, ignoring cells in proportion to how hidden they are. */
export function gridDistance(a: Float32Array, b: Float32Array, hidden?: Float32Array): number {
  let d = 0;
  if (!hidden) {
    for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
    return d / a.length;
  }
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    const h = hidden[i];
    const v = h >= 1 ? 0 : 1 - h;
    d += v * Math.abs(a[i] - b[i]);
    w += v;
  }
  return d / Math.max(w, 1e-9);
}
