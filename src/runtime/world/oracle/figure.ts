// Finds the main object: its color (the most common object color; white only when no saturated color covers a
// quarter of the object pixels, so white markings never outvote their body), its pixels with enclosed white
// markings filled in, one or two bodies (twins), and each body's class by the nearest template.
import { COLORS, type ColorName } from '../attributes.js';
import type { Box } from '../layout.js';
import { BG, type BlendLabels, DARK, LIME_LABEL, MAGENTA_LABEL, PURE, WHITE, isObjectLabel } from './labels.js';

const UNFILLABLE = new Set([BG, DARK, MAGENTA_LABEL, LIME_LABEL]);
/** Item colors by label, as a table: hot loops read it (imported bindings cost a call each under CommonJS). */
const IS_ITEM_INK = Uint8Array.from({ length: 256 }, (_, l) => (l === MAGENTA_LABEL || l === LIME_LABEL ? 1 : 0));
const IS_OBJECT = Uint8Array.from({ length: 256 }, (_, l) => (isObjectLabel(l) ? 1 : 0));
const SOLID_NEIGHBOUR = Uint8Array.from({ length: 256 }, (_, l) => (l !== BG && l !== DARK ? 1 : 0));
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
  /** The object color's other pieces (a baby, specks), biggest first. */
  others: Moments[];
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

/** White is the object's color rather than its markings' when it outnumbers the best saturated color by this much
 * and does not hug it (a subject's white outline can outnumber its body, but it lies along its edge; a balloon on a
 * white object is a blob of its own). */
const WHITE_OVER_COLOR = 1.2;
const WHITE_HUGS = 0.45;
/** Squared color distance an accent's blurred pixels may have (about 0.3 in RGB). */
const LOOSE = 0.1;

export interface ObjectColors {
  /** The object's color label, or -1 when there is no object. */
  main: number;
  /** A second saturated color near it (a scarf's or balloon's), or -1. */
  accent: number;
}

/**
 * The object's color label from first-pass labels outside the companion's zone, and the accent color's. Only pure
 * pixels vote: the edge of a white ring on blue is lavender, which is nearest to purple.
 */
export function objectColorLabels(labels: Uint8Array, residual: Float32Array, size: number, exclude: Box | null): ObjectColors {
  const n = size * size;
  const allowed = outside(size, exclude);
  // A magenta or lime item's edge on a background can pass for an object color (magenta on blue is purple): pixels
  // touching those colors do not vote.
  const voting = allowed.slice();
  for (let p = 0; p < n; p++)
    if (IS_ITEM_INK[labels[p]]) {
      const x = p % size, y = (p - x) / size;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (x + dx >= 0 && x + dx < size && y + dy >= 0 && y + dy < size) voting[(y + dy) * size + x + dx] = 0;
    }
  // Blended edges take any color's label (red on grass passes for purple): shapes are compared on pixels close to
  // their color.
  const pure = allowed.map((a, p) => (a && residual[p] <= LOOSE ? 1 : 0));
  const minPixels = Math.max(3, 0.003 * n);
  // Pure votes first; a thin or noisy object may have too few, then every vote counts.
  for (const limit of [PURE, Infinity]) {
    const counts = new Array(8).fill(0);
    for (let p = 0; p < n; p++) if (voting[p] && IS_OBJECT[labels[p]] && residual[p] <= limit) counts[labels[p]]++;
    const total = counts.reduce((a, b) => a + b, 0);
    const ranked = [1, 2, 3, 4, 5, 6, 7].filter((l) => l !== WHITE && counts[l] >= minPixels).sort((a, b) => counts[b] - counts[a]);
    const best = ranked.length ? ranked[0] : -1;
    let main = best;
    if (counts[WHITE] >= minPixels) {
      if (best < 0 || counts[best] < 0.25 * total) main = WHITE;
      else if (counts[WHITE] >= WHITE_OVER_COLOR * counts[best] && hugs(labels, pure, size, WHITE, best) < WHITE_HUGS) main = WHITE;
    }
    if (main < 0) continue;
    // A scarf can outnumber a small object. It lies across the object, which is above and below it and never beside
    // it; nothing of the object lies between two parts of a scarf, and none of it inside the scarf on both axes (a
    // subject's white center dot does, inside a small body its white outline encloses).
    for (const other of [ranked.find((l) => l !== main) ?? -1, WHITE]) {
      if (other < 0 || other === main || counts[other] < 0.4 * counts[main]) continue;
      // (The scarf's tail hangs past a wide body's bottom, which lies beside it: a narrow run is no band.)
      const inOther = enclosedBy(labels, pure, size, main, other, scarfBandRun(size)), around = enclosedBy(labels, pure, size, other, main);
      if (inOther.horizontal <= 0.1 && around.around <= 0.05 && inOther.vertical - inOther.horizontal >= around.vertical - around.horizontal + 0.05) {
        main = other;
        break;
      }
    }
    return { main, accent: ranked.find((l) => l !== main) ?? looseAccent(labels, residual, allowed, size, main, minPixels) };
  }
  return { main: -1, accent: -1 };
}

/** An accent blurred out of pure pixels: its color close enough, inside the figure (the blended edges of an object with
 * a background or a dark item take every color's label, but only there). */
function looseAccent(labels: Uint8Array, residual: Float32Array, allowed: Uint8Array, size: number, main: number, minPixels: number): number {
  const counts = new Array(8).fill(0);
  for (let y = 1; y < size - 1; y++)
    for (let x = 1; x < size - 1; x++) {
      const p = y * size + x, l = labels[p];
      if (!allowed[p] || !IS_OBJECT[l] || l === main || l === WHITE || residual[p] > LOOSE) continue;
      // Neither background nor dark beside it: blends with those take object colors' labels.
      if (SOLID_NEIGHBOUR[labels[p - 1]] && SOLID_NEIGHBOUR[labels[p + 1]] && SOLID_NEIGHBOUR[labels[p - size]] && SOLID_NEIGHBOUR[labels[p + size]]) counts[l]++;
    }
  let best = -1;
  for (let l = 1; l <= 7; l++) if (counts[l] >= minPixels && (best < 0 || counts[l] > counts[best])) best = l;
  return best;
}

/** The fraction of `label`'s pixels (where `use` is 1) within two pixels of an `other` pixel. */
export function hugs(labels: Uint8Array, use: Uint8Array, size: number, label: number, other: number): number {
  let all = 0, near = 0;
  for (let p = 0; p < size * size; p++) {
    if (!use[p] || labels[p] !== label) continue;
    all++;
    const x = p % size, y = (p - x) / size;
    search: for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < size && ny < size && labels[ny * size + nx] === other) {
          near++;
          break search;
        }
      }
  }
  return all ? near / all : 0;
}

/** Pixels a row run of a scarf's color must span to be its band rather than the tail hanging from it (about 1.5 times
 * the tail's width). */
export const scarfBandRun = (size: number) => Math.max(3, Math.round(0.1 * size));

/** The fractions of `inner`'s pixels (where `use` is 1) with `outer` pixels above and below them in their column
 * (vertical), left and right in their row (horizontal), or both. With `minRun`, only a pixel in a run of at least that
 * many `inner` pixels along its row counts as horizontally enclosed. */
export function enclosedBy(labels: Uint8Array, use: Uint8Array, size: number, inner: number, outer: number, minRun = 0): { vertical: number; horizontal: number; around: number } {
  const colLo = new Int32Array(size).fill(size), colHi = new Int32Array(size).fill(-1);
  const rowLo = new Int32Array(size).fill(size), rowHi = new Int32Array(size).fill(-1);
  for (let p = 0; p < size * size; p++)
    if (use[p] && labels[p] === outer) {
      const x = p % size, y = (p - x) / size;
      colLo[x] = Math.min(colLo[x], y);
      colHi[x] = Math.max(colHi[x], y);
      rowLo[y] = Math.min(rowLo[y], x);
      rowHi[y] = Math.max(rowHi[y], x);
    }
  let all = 0, vertical = 0, horizontal = 0, around = 0;
  const runOf = (p: number, x: number) => {
    let a = x, b = x;
    while (a > 0 && labels[p - (x - a) - 1] === inner) a--;
    while (b < size - 1 && labels[p + (b - x) + 1] === inner) b++;
    return b - a + 1;
  };
  for (let p = 0; p < size * size; p++) {
    if (!use[p] || labels[p] !== inner) continue;
    const x = p % size, y = (p - x) / size;
    const v = y > colLo[x] && y < colHi[x], h = x > rowLo[y] && x < rowHi[y] && (minRun <= 1 || runOf(p, x) >= minRun);
    all++;
    if (v) vertical++;
    if (h) horizontal++;
    if (v && h) around++;
  }
  return all ? { vertical: vertical / all, horizontal: horizontal / all, around: around / all } : { vertical: 0, horizontal: 0, around: 0 };
}

export function readFigure(bl: BlendLabels, size: number, exclude: Box | null, main: number, accent = -1): FigureReading | null {
  const { labels } = bl;
  const n = size * size;
  const allowed = outside(size, exclude);

  // The main color's pixels, without specks.
  const mask = new Uint8Array(n);
  for (let p = 0; p < n; p++) mask[p] = allowed[p] && labels[p] === main ? 1 : 0;
  // A piece is a speck when, joined with the dark items it touches, it still has too few of the main color's pixels:
  // a small star's arms that its glasses cut off are joined to it through the glasses. (Not through other items: a
  // magenta bubble's blend with a blue background passes for a purple object's specks all around it.)
  const speck = Math.max(2, (3 * n) / 1024);
  const joined = new Uint8Array(n);
  for (let p = 0; p < n; p++) joined[p] = mask[p] || (allowed[p] && labels[p] === DARK && bl.dark[p] >= 0.6) ? 1 : 0;
  for (const c of components(joined, size).members) if (c.reduce((a, p) => a + mask[p], 0) < speck) for (const p of c) mask[p] = 0;
  if (!mask.some((v) => v)) return null;

  // Fill: a non-background pixel enclosed by main-color pixels both along its row and along its column belongs to
  // the object (white markings); so does a narrow run across a row. Dark pixels (eyes, sunglasses) and items' colors
  // are never filled: they may cover a hole (a ring's) or a star's notch, so they count as hidden instead.
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
  const fillable = (p: number) => !mask[p] && allowed[p] && !UNFILLABLE.has(labels[p]) && labels[p] !== accent;
  for (let p = 0; p < n; p++) {
    if (!fillable(p)) continue;
    const x = p % size, y = (p - x) / size;
    if (x > rowLo[y] && x < rowHi[y] && y > colLo[x] && y < colHi[x]) filled[p] = 1;
  }
  // A scarf's band lies across the body: its pixels with the object above and below them are the object's, and so
  // are its rows below the object (a band across a heart's tip or a star's feet, which the band leaves only specks
  // of): a run wider than the tail that hangs from it, under the object.
  if (accent > 0) {
    const wide = scarfBandRun(size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; ) {
        const p = y * size + x;
        if (labels[p] !== accent || !allowed[p]) {
          x++;
          continue;
        }
        let e = x;
        while (e < size && labels[y * size + e] === accent && allowed[y * size + e]) e++;
        const band = e - x >= wide;
        for (let k = x; k < e; k++) if (y > colLo[k] && (band || y < colHi[k])) filled[y * size + k] = 1;
        x = e;
      }
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
  const solid = new Uint8Array(n), bgLabel = BG;
  for (let p = 0; p < n; p++) solid[p] = filled[p] || (allowed[p] && labels[p] !== bgLabel && bl.other[p] >= 0.6) ? 1 : 0;
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
  const others = groups.filter((g) => !bodyPixels.includes(g)).map((g) => moments(g, size));
  return { color: COLORS[main - 1], mainLabel: main, filled, weight, bodies, others };
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
