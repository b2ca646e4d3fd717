// Labels every pixel with the designed color that explains it: background, an object color, or an accessory or
// companion color. Two passes. The first takes the nearest color among all of them, which is right inside regions
// and is enough to find the companion and the object's main color. The second knows the main color and explains each
// pixel as one color or as a blend of two along the edges that occur in this world (background with anything, the
// object with dark accessories or white markings), giving the object's share of every pixel: edges blur, and a
// red-on-blue edge must not read as purple, nor a yellow-and-black one as brown.
import { COLORS, CONTEXT_EXCLUDED_COLORS } from '../attributes.js';
import { BALL_TEAL, BLACK, BROWN, LIME, MAGENTA, MARK_WHITE, OBJECT_RGB, type RGB, SHADOW, SUN_YELLOW, TREE_GREEN } from '../palette.js';
import { type ContextReading, colorSupport } from './context.js';
import type { Pixels } from './pixels.js';

/** Label ids: 0 background, 1..7 the object colors in COLORS order, then accessory and companion colors. */
export const BG = 0;
export const colorLabel = (i: number) => 1 + i;
export const WHITE = colorLabel(COLORS.indexOf('white'));
export const YELLOW = colorLabel(COLORS.indexOf('yellow'));
export const DARK = 8;
export const BROWN_LABEL = 9;
export const TREE = 10;
export const TEAL = 11;
export const MAGENTA_LABEL = 12;
export const LIME_LABEL = 13;
export const isObjectLabel = (l: number) => l >= 1 && l <= 7;

/** Squared color distance a two-color blend pays (about 0.06 in RGB): dark green is not green-and-black. */
const BLEND_PENALTY = 0.004;
/** Object colors this close to a background color are not told apart from it where that background can appear. */
const SAME_AS_BACKGROUND = 0.15;

interface Candidate {
  rgb: RGB;
  label: number;
  /** Index of the background color, or -1. */
  bg: number;
  /** An object's own color (which a context may exclude), not a marking, accessory or companion color. */
  object?: boolean;
}

function shiftedBy(s: RGB) {
  return (c: RGB): RGB => [c[0] + s[0], c[1] + s[1], c[2] + s[2]];
}


/**
 * Which candidates can explain a pixel: backgrounds only where they can appear; object colors the context never
 * pairs with it (CONTEXT_EXCLUDED_COLORS) nowhere; other colors not where a background that looks the same is.
 * Returns per pixel a bit mask over the candidates (at most 32) that may not explain it.
 */
function availability(cands: Candidate[], ctx: ContextReading, size: number): Int32Array {
  const nb = ctx.colors.length;
  const excluded = new Set(CONTEXT_EXCLUDED_COLORS[ctx.context].map((c) => colorLabel(COLORS.indexOf(c))));
  let always = 0;
  cands.forEach((c, k) => c.object && excluded.has(c.label) && (always |= 1 << k));
  // Per background color: its own bit (blocked where it cannot appear) and the bits of the colors it hides.
  const own = ctx.colors.map((_, b) => 1 << cands.findIndex((c) => c.bg === b));
  const hides = ctx.colors.map((bg) =>
    cands.reduce((m, c, k) => (c.bg < 0 && (bg[0] - c.rgb[0]) ** 2 + (bg[1] - c.rgb[1]) ** 2 + (bg[2] - c.rgb[2]) ** 2 < SAME_AS_BACKGROUND ** 2 ? m | (1 << k) : m), 0),
  );
  const mask = new Int32Array(size * size).fill(always);
  if (nb === 1 && hides[0] === 0) return mask;
  const supports = ctx.colors.map((_, i) => colorSupport(ctx.context, i));
  for (let p = 0; p < mask.length; p++) {
    const px = ((p % size) + 0.5) / size, py = (Math.floor(p / size) + 0.5) / size;
    let m = always;
    for (let b = 0; b < nb; b++) m |= supports[b](px, py) ? hides[b] : own[b];
    mask[p] = m;
  }
  return mask;
}

const ACCESSORY_COLORS: [RGB, number][] = [
  [MARK_WHITE, WHITE],
  [BLACK, DARK],
  [SHADOW, DARK],
  [BROWN, BROWN_LABEL],
  [TREE_GREEN, TREE],
  [BALL_TEAL, TEAL],
  [MAGENTA, MAGENTA_LABEL],
  [LIME, LIME_LABEL],
];

/** Squared distance under which a background color is taken at once (no other designed color is this close to one). */
const CLOSE = 0.004;

/** A first-pass label farther than this from its color (squared) is an edge blend: no vote for the object color. */
export const PURE = 0.03;

/** Pass 1: the nearest of all designed colors; `residual` gets the squared distance to it. */
export function nearestLabels(img: Pixels, ctx: ContextReading, residual?: Float32Array): Uint8Array {
  const sh = shiftedBy(ctx.shift);
  const cands: Candidate[] = [
    ...ctx.colors.map((rgb, i) => ({ rgb, label: BG, bg: i })),
    ...COLORS.map((name, i) => ({ rgb: sh(OBJECT_RGB[name]), label: colorLabel(i), bg: -1, object: true })),
    ...ACCESSORY_COLORS.map(([rgb, label]) => ({ rgb: sh(rgb), label, bg: -1 })),
  ];
  const K = cands.length, n = img.size * img.size, d = img.data;
  const cr = new Float64Array(K * 3);
  cands.forEach((c, k) => cr.set(c.rgb, k * 3));
  const blocked = availability(cands, ctx, img.size);
  const labels = new Uint8Array(n);
  const candLabel = Uint8Array.from(cands, (c) => c.label);
  const nb = ctx.colors.length;
  for (let p = 0; p < n; p++) {
    const x0 = d[p * 3], x1 = d[p * 3 + 1], x2 = d[p * 3 + 2];
    const off = blocked[p];
    let best = Infinity, label = 0;
    // Most pixels are plain background: done as soon as one background color explains them closely.
    for (let k = 0; k < nb; k++) {
      if (off & (1 << k)) continue;
      const e0 = x0 - cr[k * 3], e1 = x1 - cr[k * 3 + 1], e2 = x2 - cr[k * 3 + 2];
      const e = e0 * e0 + e1 * e1 + e2 * e2;
      if (e < best) best = e;
    }
    if (best < CLOSE) {
      labels[p] = BG;
      if (residual) residual[p] = best;
      continue;
    }
    for (let k = nb; k < K; k++) {
      if (off & (1 << k)) continue;
      const e0 = x0 - cr[k * 3], e1 = x1 - cr[k * 3 + 1], e2 = x2 - cr[k * 3 + 2];
      const e = e0 * e0 + e1 * e1 + e2 * e2;
      if (e < best) {
        best = e;
        label = candLabel[k];
      }
    }
    labels[p] = label;
    if (residual) residual[p] = best;
  }
  return labels;
}

/** The colors items are painted in, each with its own share map (what the activity reader measures). */
export const INKS = ['dark', 'brown', 'magenta', 'lime', 'accent'] as const;
export type Ink = (typeof INKS)[number];

export interface BlendLabels {
  labels: Uint8Array;
  /** The main color's share of each pixel. */
  share: Float32Array;
  /** Dark (accessories, shadows, eyes) share. */
  dark: Float32Array;
  /** Brown (skateboard deck, box, frame, tree trunk) share. */
  brown: Float32Array;
  magenta: Float32Array;
  lime: Float32Array;
  /** The accent color's share (a scarf's or balloon's: the second object color), zero when there is none. */
  accent: Float32Array;
  /** The share of each pixel covered by anything neither background nor the main color. */
  other: Float32Array;
}

// Candidate kinds: what share map a candidate's share goes to (0 background, 1 the object, 4 other only).
const KIND_OF_LABEL = new Map<number, number>([[DARK, 2], [BROWN_LABEL, 3], [MAGENTA_LABEL, 5], [LIME_LABEL, 6]]);
const ACCENT_KIND = 7;
/** Colors an object's edge meets (markings, items on or behind it): the object blends with these as with backgrounds. */
// (Not brown: a box's edge is rare, and a yellow or orange object's edge with black is nearly brown.)
const TOUCHES_OBJECT = new Set([DARK, WHITE, MAGENTA_LABEL, LIME_LABEL]);

/** v2's item colors: pass 2 offers them only where pass 1 saw them, so that they cost v1's scenes nothing (a purple
 * object shifted toward magenta stays purple). */
export const OPTIONAL_INKS: ReadonlySet<number> = new Set([MAGENTA_LABEL, LIME_LABEL]);

/** Squared distance within which a first-pass pixel shows an optional item color (about 0.3: a blurred thin ring's
 * pixels are no purer; object colors are 0.48 or more away). */
const INK_SEEN = 0.1;

/** The optional item colors with at least a few close first-pass pixels outside `skip`. */
export function inksSeen(labels: Uint8Array, residual: Float32Array, skip: Uint8Array): Set<number> {
  const counts = new Map<number, number>();
  for (let p = 0; p < labels.length; p++) if (!skip[p] && residual[p] <= INK_SEEN && OPTIONAL_INKS.has(labels[p])) counts.set(labels[p], (counts.get(labels[p]) ?? 0) + 1);
  return new Set([...counts].filter(([, n]) => n >= 3).map(([l]) => l));
}

/** The tree's dark green is offered by pass 2 only when a tree was found (add TREE to `inks`): elsewhere a pixel of
 * that color is a green object's blend with a dark item (the bridge of a small plushie's glasses), which must count as
 * dark. */
const ALL_INKS: ReadonlySet<number> = new Set([...OPTIONAL_INKS, TREE]);

/** Pass 2: single colors and the world's blends, knowing the main color (and the accent's, or -1), and which optional
 * item colors (and whether the tree's color) the image has. */
export function blendLabels(img: Pixels, ctx: ContextReading, main: number, accent = -1, inks: ReadonlySet<number> = ALL_INKS): BlendLabels {
  const sh = shiftedBy(ctx.shift);
  const mainName = COLORS[main - 1];
  const cands: Candidate[] = [
    ...ctx.colors.map((rgb, i) => ({ rgb, label: BG, bg: i })),
    { rgb: sh(OBJECT_RGB[mainName]), label: main, bg: -1, object: true },
    ...[...ACCESSORY_COLORS, [SUN_YELLOW, YELLOW] as [RGB, number]]
      .filter(([, label]) => !(label === main && main === WHITE) && ((!OPTIONAL_INKS.has(label) && label !== TREE) || inks.has(label)))
      .map(([rgb, label]) => ({ rgb: sh(rgb), label, bg: -1 })),
    ...(accent > 0 ? [{ rgb: sh(OBJECT_RGB[COLORS[accent - 1]]), label: accent, bg: -1, object: true }] : []),
  ];
  const K = cands.length, nb = ctx.colors.length, mainK = nb;
  // The edges this world draws: background with anything, the object with its items and white markings.
  const pa: number[] = [], pb: number[] = [];
  for (let a = 0; a < nb; a++) for (let b = a + 1; b < K; b++) pa.push(a), pb.push(b);
  cands.forEach((c, k) => k > mainK && (TOUCHES_OBJECT.has(c.label) || (accent > 0 && c.label === accent)) && (pa.push(mainK), pb.push(k)));
  const P = pa.length;
  // Flat copies for the inner loop.
  const cr = new Float64Array(K * 3);
  cands.forEach((c, k) => cr.set(c.rgb, k * 3));
  // By label: the sun's yellow counts as the object's (or the accent's) color when that is yellow.
  const kind = Int8Array.from(cands, (c) => (c.bg >= 0 ? 0 : c.label === main ? 1 : accent > 0 && c.label === accent ? ACCENT_KIND : (KIND_OF_LABEL.get(c.label) ?? 4)));
  const n = img.size * img.size, d = img.data;
  const blocked = availability(cands, ctx, img.size);
  const labels = new Uint8Array(n);
  const out: Omit<BlendLabels, 'labels'> = {
    share: new Float32Array(n),
    dark: new Float32Array(n),
    brown: new Float32Array(n),
    magenta: new Float32Array(n),
    lime: new Float32Array(n),
    accent: new Float32Array(n),
    other: new Float32Array(n),
  };
  const d2 = new Float64Array(K);
  for (let p = 0; p < n; p++) {
    const x0 = d[p * 3], x1 = d[p * 3 + 1], x2 = d[p * 3 + 2];
    let best = Infinity, bestA = 0, bestB = 0, bestT = 1;
    const off = blocked[p];
    let bgBest = Infinity;
    for (let k = 0; k < nb; k++) {
      if (off & (1 << k)) continue;
      const f0 = x0 - cr[k * 3], f1 = x1 - cr[k * 3 + 1], f2 = x2 - cr[k * 3 + 2];
      bgBest = Math.min(bgBest, f0 * f0 + f1 * f1 + f2 * f2);
    }
    if (bgBest < CLOSE) continue; // background: label 0, no shares
    for (let k = 0; k < K; k++) {
      const f0 = x0 - cr[k * 3], f1 = x1 - cr[k * 3 + 1], f2 = x2 - cr[k * 3 + 2];
      const e = off & (1 << k) ? Infinity : f0 * f0 + f1 * f1 + f2 * f2;
      d2[k] = e;
      if (e < best) {
        best = e;
        bestA = bestB = k;
        bestT = 1;
      }
    }
    // Every blend pays the penalty: a pixel one color explains that well needs no blend (most pixels).
    for (let q = best <= BLEND_PENALTY ? P : 0; q < P; q++) {
      const ia = pa[q], ib = pb[q];
      if (d2[ia] === Infinity || d2[ib] === Infinity) continue;
      const e0 = cr[ia * 3] - cr[ib * 3], e1 = cr[ia * 3 + 1] - cr[ib * 3 + 1], e2 = cr[ia * 3 + 2] - cr[ib * 3 + 2];
      const len2 = e0 * e0 + e1 * e1 + e2 * e2;
      if (len2 === 0) continue;
      const y0 = x0 - cr[ib * 3], y1 = x1 - cr[ib * 3 + 1], y2 = x2 - cr[ib * 3 + 2];
      // Two background colors may also overshoot a little past either one (ringing of lossy coding on stripes).
      const over = ia < nb && ib < nb ? 0.35 : 0;
      let t = (y0 * e0 + y1 * e1 + y2 * e2) / len2;
      t = t < -over ? -over : t > 1 + over ? 1 + over : t;
      const g0 = y0 - t * e0, g1 = y1 - t * e1, g2 = y2 - t * e2;
      const r = g0 * g0 + g1 * g1 + g2 * g2 + BLEND_PENALTY;
      if (r < best) {
        best = r;
        bestA = ia;
        bestB = ib;
        bestT = t;
      }
    }
    // bestT is the share of A, the rest is B's.
    labels[p] = bestT >= 0.5 ? cands[bestA].label : cands[bestB].label;
    bestT = Math.min(1, Math.max(0, bestT));
    addShare(out, kind[bestA], bestT, p);
    if (bestB !== bestA) addShare(out, kind[bestB], 1 - bestT, p);
  }
  if (accent > 0) bridgeAccent(img, labels, out, cands[mainK].rgb, cands[K - 1].rgb, main, accent);
  return { labels, ...out };
}

/** Squared distance from the object-accent line a background-labelled pixel between the two may have. */
const BRIDGE_ON_LINE = 0.01;

/**
 * Where a scarf's band meets the object, the blend of the two can pass for background: yellow and blue blend to the
 * plain background's gray. A background-labelled pixel between the object's color and the accent's (above and below
 * it, or left and right), on the line between them, is that blend.
 */
function bridgeAccent(img: Pixels, labels: Uint8Array, out: Omit<BlendLabels, 'labels'>, m: RGB, a: RGB, main: number, accent: number): void {
  const size = img.size, d = img.data;
  const e = [a[0] - m[0], a[1] - m[1], a[2] - m[2]], len2 = e[0] * e[0] + e[1] * e[1] + e[2] * e[2];
  const apart = (u: number, v: number) => (u === main && v === accent) || (u === accent && v === main);
  const found: number[] = [];
  for (let y = 1; y < size - 1; y++)
    for (let x = 1; x < size - 1; x++) {
      const p = y * size + x;
      if (labels[p] !== BG || !(apart(labels[p - size], labels[p + size]) || apart(labels[p - 1], labels[p + 1]))) continue;
      found.push(p);
    }
  for (const p of found) {
    const y0 = d[p * 3] - m[0], y1 = d[p * 3 + 1] - m[1], y2 = d[p * 3 + 2] - m[2];
    const t = (y0 * e[0] + y1 * e[1] + y2 * e[2]) / len2;
    if (t < 0.1 || t > 0.9) continue;
    const g0 = y0 - t * e[0], g1 = y1 - t * e[1], g2 = y2 - t * e[2];
    if (g0 * g0 + g1 * g1 + g2 * g2 > BRIDGE_ON_LINE) continue;
    // t is the accent's share.
    labels[p] = t < 0.5 ? main : accent;
    out.share[p] = 1 - t;
    out.accent[p] = t;
    out.other[p] = t;
  }
}

function addShare(out: Omit<BlendLabels, 'labels'>, kind: number, t: number, p: number): void {
  if (kind === 1) out.share[p] += t;
  else if (kind >= 2) {
    out.other[p] += t;
    if (kind === 2) out.dark[p] += t;
    else if (kind === 3) out.brown[p] += t;
    else if (kind === 5) out.magenta[p] += t;
    else if (kind === 6) out.lime[p] += t;
    else if (kind === ACCENT_KIND) out.accent[p] += t;
  }
}
