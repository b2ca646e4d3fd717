// Finds the main object: its color (the most common object color; white only when no saturated color covers a
// quarter of the object pixels, so white markings never outvote their body), its pixels with enclosed white
// markings filled in, one or two bodies (twins), and each body's class by the nearest template.
import { COLORS, type ColorName } from '../attributes.js';
import type { Box } from '../layout.js';
import { BG, type BlendLabels, DARK, PURE, WHITE, isObjectLabel } from './labels.js';
import { type Moments, components, dilate, moments } from './pixels.js';
import { type Template, gridDistance, normalizedGrid, templates } from './templates.js';

export interface Body {
  pixels: number[];
  m: Moments;
  template: Template;
  distance: number;
  /** Every template with its distance, nearest first (a check may overrule the nearest). */
  ranked: { template: Template; distance: number }[];
  /** The normalized hidden map (none when nothing is hidden), to refit another template. */
  hidden: Float32Array | undefined;
  /** Spread ratio relative to the template's: about 2.3 stretched wide, 0.43 stretched tall, 1 otherwise. */
  stretch: number;
  /** The fraction of the template that the hidden pixels leave visible. */
  visible: number;
}

export interface FigureReading {
  color: ColorName;
  mainLabel: number;
  /** Object pixels, enclosed markings filled (1), over the whole image. */
  filled: Uint8Array;
  /** The object's soft share of each pixel (noise floor removed). */
  weight: Float32Array;
  bodies: Body[];
}

function outside(size: number, exclude: Box | null): Uint8Array {
  const n = size * size;
  const allowed = new Uint8Array(n);
  if (!exclude) return allowed.fill(1);
  for (let p = 0; p < n; p++) {
    const x = ((p % size) + 0.5) / size, y = (Math.floor(p / size) + 0.5) / size;
    allowed[p] = exclude && x >= exclude.x0 && x <= exclude.x1 && y >= exclude.y0 && y <= exclude.y1 ? 0 : 1;
  }
  return allowed;
}

/**
 * The object's color label from first-pass labels outside the companion's zone, or -1 when there is no object. Only
 * pure pixels vote: the edge of a white ring on blue is lavender, which is nearest to purple.
 */
export function mainColorLabel(labels: Uint8Array, residual: Float32Array, size: number, exclude: Box | null): number {
  const n = size * size;
  const allowed = outside(size, exclude);
  const minPixels = Math.max(3, 0.003 * n);
  // Pure votes first; a thin or noisy object may have too few, then every vote counts.
  for (const limit of [PURE, Infinity]) {
    const counts = new Array(8).fill(0);
    for (let p = 0; p < n; p++) if (allowed[p] && isObjectLabel(labels[p]) && residual[p] <= limit) counts[labels[p]]++;
    const total = counts.reduce((a, b) => a + b, 0);
    let main = -1;
    for (let l = 1; l <= 7; l++) if (l !== WHITE && counts[l] >= minPixels && (main < 0 || counts[l] > counts[main])) main = l;
    if (main < 0 || counts[main] < 0.25 * total) main = counts[WHITE] >= minPixels ? WHITE : -1;
    if (main >= 0) return main;
  }
  return -1;
}

export function readFigure(bl: BlendLabels, size: number, exclude: Box | null, main: number): FigureReading | null {
  const { labels } = bl;
  const n = size * size;
  const allowed = outside(size, exclude);

  // The main color's pixels, without specks.
  const mask = new Uint8Array(n);
  for (let p = 0; p < n; p++) mask[p] = allowed[p] && labels[p] === main ? 1 : 0;
  const speck = Math.max(2, (3 * n) / 1024);
  for (const c of components(mask, size).members) if (c.length < speck) for (const p of c) mask[p] = 0;
  if (!mask.some((v) => v)) return null;

  // Fill: a non-background pixel enclosed by main-color pixels both along its row and along its column belongs to
  // the object (white markings); so does a narrow run across a row. Dark pixels (eyes, sunglasses) are never
  // filled: they may cover a hole (a ring's), so they count as hidden instead.
  const filled = mask.slice();
  const rowLo = new Int32Array(size).fill(size), rowHi = new Int32Array(size).fill(-1);
  const colLo = new Int32Array(size).fill(size), colHi = new Int32Array(size).fill(-1);
  for (let p = 0; p < n; p++)
    if (mask[p]) {
      const x = p % size, y = (p - x) / size;
      rowLo[y] = Math.min(rowLo[y], x);
      rowHi[y] = Math.max(rowHi[y], x);
      colLo[x] = Math.min(colLo[x], y);
      colHi[x] = Math.max(colHi[x], y);
    }
  const fillable = (p: number) => !mask[p] && allowed[p] && labels[p] !== BG && labels[p] !== DARK;
  for (let p = 0; p < n; p++) {
    if (!fillable(p)) continue;
    const x = p % size, y = (p - x) / size;
    if (x > rowLo[y] && x < rowHi[y] && y > colLo[x] && y < colHi[x]) filled[p] = 1;
  }
  const maxGap = Math.max(2, Math.round(0.07 * size));
  for (let y = 0; y < size; y++)
    for (let x = rowLo[y] + 1; x < rowHi[y]; ) {
      if (mask[y * size + x]) {
        x++;
        continue;
      }
      let e = x;
      while (e < rowHi[y] && fillable(y * size + e)) e++;
      if (mask[y * size + e] && e - x <= maxGap) for (let k = x; k < e; k++) filled[y * size + k] = 1;
      x = Math.max(e, x + 1);
    }

  // Bodies: object pixels connected through any non-background pixels (an occluding bridge of sunglasses or a hat
  // brim does not split an object), one per group; two groups of like size side by side are twins.
  const solid = new Uint8Array(n);
  for (let p = 0; p < n; p++) solid[p] = filled[p] || (allowed[p] && labels[p] !== BG && bl.other[p] >= 0.6) ? 1 : 0;
  const groups = components(solid, size)
    .members.map((g) => g.filter((p) => filled[p]))
    .filter((g) => g.length > 0)
    .sort((a, b) => b.length - a.length);
  if (groups.length === 0) return null;
  let bodyPixels = [groups[0]];
  if (groups.length > 1 && groups[1].length >= 0.5 * groups[0].length) {
    const [a, b] = [moments(groups[0], size), moments(groups[1], size)];
    if (Math.abs(a.cy - b.cy) < 0.08 && (a.x1 <= b.x0 || b.x1 <= a.x0)) bodyPixels = [groups[0], groups[1]].sort((u, v) => moments(u, size).cx - moments(v, size).cx);
  }
  // Soft shares: a filled marking is all object; elsewhere the main color's share of the pixel. What is neither
  // object nor background (accessories, markings outside) hides what is behind it from the class comparison.
  const weight = new Float32Array(n), hidden = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    // Shares below 0.2 are mostly noise on the background: they would blur every silhouette alike.
    weight[p] = allowed[p] ? (filled[p] && !mask[p] ? 1 : Math.min(1, Math.max(0, (bl.share[p] - 0.2) / 0.6))) : 0;
    hidden[p] = allowed[p] && !filled[p] ? bl.other[p] : 0;
  }
  const bodies = bodyPixels.map((pixels) => classify(pixels, size, weight, hidden));
  return { color: COLORS[main - 1], mainLabel: main, filled, weight, bodies };
}

function classify(pixels: number[], size: number, weight: Float32Array, hidden: Float32Array): Body {
  // The body's share map: its pixels and their neighbours (blurred edges), nothing else.
  const region = dilate(pixels, size);
  const local = new Float32Array(size * size);
  for (const p of region) local[p] = weight[p];
  const m = moments(region, size, local);
  const grid = normalizedGrid(local, size, m);
  // Most objects hide nothing: then the plain distance is used.
  const hide = region.some((p) => hidden[p] > 0) ? normalizedGrid(hidden, size, m) : undefined;
  // Rank by the middle blur, then let the closest few try every blur.
  const ranked = templates()
    .map((template) => ({ template, distance: gridDistance(grid, template.grids[1], hide) }))
    .sort((a, b) => a.distance - b.distance);
  for (const r of ranked.slice(0, 6)) for (const g of r.template.grids) r.distance = Math.min(r.distance, gridDistance(grid, g, hide));
  ranked.sort((a, b) => a.distance - b.distance);
  return fitTemplate({ pixels, m: { ...m, ...boxOf(pixels, size) }, ranked, hidden: hide } as Body, ranked[0].template);
}

/** The body read as `template`: its distance, spread ratio and visible fraction. */
export function fitTemplate(body: Body, template: Template): Body {
  let all = 0, seen = 0;
  const hidden = body.hidden;
  template.grids[0].forEach((v, i) => {
    all += v;
    seen += v * (hidden ? 1 - Math.min(1, hidden[i]) : 1);
  });
  const distance = body.ranked.find((r) => r.template === template)?.distance ?? Infinity;
  return { ...body, template, distance, stretch: body.m.sx / body.m.sy / template.aspect, visible: all ? seen / all : 1 };
}

/** The hard box of a body's pixels (the soft moments' box also counts faint neighbours). */
function boxOf(pixels: number[], size: number) {
  const m = moments(pixels, size);
  return { x0: m.x0, y0: m.y0, x1: m.x1, y1: m.y1 };
}
