// Reads the activity. Twins, melting and stretching change the silhouette, and the figure reader already has them
// (two bodies, a melting template, the spread ratio). Everything else is read by synthesis: for each item activity the
// generator's own layout draws where its items (a hat, a cart, a balloon on its string, a baby...) would be around the
// body that was found; the evidence is how much of each item's color the image has there minus how much of any item
// color it has in a ring just around it, so that one item (a cage) does not pass for every item that would overlap it.
// Where two hypotheses come close, the one that leaves less item color unexplained wins.
import type { Activity } from '../attributes.js';
import { type Gate, itemInks, worthTrying } from './activity-gates.js';
import { UnexplainedItems } from './activity-unexplained.js';
import type { Body } from './figure.js';
import type { BlendLabels, Ink } from './labels.js';
import { type FoundObject, PixelSet, contrast, partsAt } from './synthesis.js';

/** Activities read by synthesis: v1's accessories, then v2's items (the baby is an item drawn in the body's color). */
export const ACCESSORY_ACTIVITIES = [
  'hat',
  'sunglasses',
  'skateboard',
  'cage',
  'spinning',
  'bouncing',
  'crown',
  'scarf',
  'cart',
  'box',
  'bubble',
  'frame',
  'shadow',
  'baby',
  'balloon',
  'flag',
  'umbrella',
  'flower',
  'speeding',
  'glowing',
] as const satisfies readonly Activity[];
export type AccessoryActivity = (typeof ACCESSORY_ACTIVITIES)[number];

export type ActivityEvidence = Record<AccessoryActivity, number>;

export interface ActivityReadout {
  /** Each item activity's contrast (inside its items minus around them). */
  evidence: ActivityEvidence;
  /** The item color near the body each leaves unexplained, per pixel of its items. */
  unexplained: ActivityEvidence;
}

/** Spread ratios (relative to the class's own) beyond which an object reads as stretched: drawn at 2.3 and 0.43. */
export const STRETCHED_WIDE = 1.5;
export const STRETCHED_TALL = 0.67;

/** How a body's spread ratio reads. */
export function stretchOf(stretch: number): Activity {
  return stretch > STRETCHED_WIDE ? 'stretched-wide' : stretch < STRETCHED_TALL ? 'stretched-tall' : 'none';
}

/** Contrast (inside minus around) an accessory needs. */
export const ACCESSORY_THRESHOLD = 0.3;

export interface EvidenceOptions {
  /** How the body is stretched (moves a plushie's eyes). */
  stretch?: Activity;
  /** The found body's pixels: no evidence of a second copy of it. */
  own?: readonly number[];
  /** Whether a smaller piece of the object's color stands beside it (only then is a baby worth drawing). */
  babyBeside?: boolean;
}

/** Each item activity's evidence around the found object, and the item color it leaves unexplained. `skip`: pixels
 * that are no evidence (a companion's). */
export function accessoryEvidence(
  bl: BlendLabels,
  size: number,
  filled: Uint8Array,
  found: FoundObject,
  skip: Uint8Array,
  { stretch = 'none', own = [], babyBeside = false }: EvidenceOptions = {},
): ActivityReadout {
  const evidence = Object.fromEntries(ACCESSORY_ACTIVITIES.map((a) => [a, 0])) as ActivityEvidence;
  const unexplained = { ...evidence };
  // Items are dark, brown, magenta, lime or the accent color; the ring around them should be none of these.
  const itemColor = new Float32Array(size * size);
  for (let p = 0; p < itemColor.length; p++) itemColor[p] = bl.dark[p] + bl.brown[p] + bl.magenta[p] + bl.lime[p] + bl.accent[p];
  const gate: Gate = worthTrying(bl, size, found, skip);
  const worth = (a: Activity) => (a === 'baby' ? babyBeside : gate(a));
  // A plushie's eyes are no evidence (they are dark without any accessory); where they are depends on stretching.
  const eyes = new PixelSet(size);
  // The line through both eyes, across the box that holds them.
  let eyeLine: [[number, number], [number, number]] | null = null;
  if (found.objectClass === 'plushie')
    for (const part of partsAt(found, stretch))
      if (part.kind === 'eye') {
        eyes.cover(part, 0.25);
        const { x0, x1, y0, y1 } = part.region, y = (y0 + y1) / 2;
        eyeLine = [[x0, y], [x1, y]];
      }
  const eyeDist = eyes.distances();
  const ownBody = new PixelSet(size);
  for (const p of own) ownBody.add(p);
  const ownDist = ownBody.distances();
  const leftOver = new UnexplainedItems(itemColor, bl.labels, ownBody);
  for (const activity of ACCESSORY_ACTIVITIES) {
    if (!worth(activity)) continue;
    const parts = partsAt(found, activity);
    const firstBody = parts.findIndex((q) => q.kind === 'body');
    const sets = new Map<Ink | 'main', PixelSet>();
    const behind = new PixelSet(size);
    parts.forEach((part, i) => {
      const ink = itemInks(activity, part, i === firstBody);
      if (!ink) return;
      if (!sets.has(ink)) sets.set(ink, new PixelSet(size));
      sets.get(ink)!.cover(part);
      // A part drawn before the body (the cage's bars, the box, a halo, a shadow) is hidden where the object is.
      if (i < firstBody) behind.cover(part);
    });
    // Nor, for glasses, are the eyes' blurred surroundings (glasses are scored without looking at neighbours).
    const glasses = activity === 'sunglasses';
    // On a plushie what tells glasses from its eyes is the bridge between them, thinner than a pixel on a small one
    // and missed by a coverage raster when it lies along a pixel edge: the pixels along the line between the eyes.
    if (glasses && eyeLine) addSegment(sets.get('dark')!, ...eyeLine);
    const skipAll = (p: number) => skip[p] === 1 || eyeDist[p] <= (glasses ? 0 : 1);
    const skipInside = (p: number) => behind.has[p] === 1 && filled[p] === 1;
    // Each item is scored against its own color, weighted by its size; a baby against the object's own color, away
    // from the object.
    let sum = 0, weight = 0;
    for (const [ink, set] of sets) {
      const main = ink === 'main';
      const count = set.has.reduce((a, v) => a + v, 0);
      const skipHere = main ? (p: number) => skipAll(p) || ownDist[p] <= 1 : skipAll;
      sum += count * contrast(set, main ? bl.share : bl[ink], { ringMap: main ? bl.share : itemColor, skip: skipHere, skipInside, exact: glasses });
      weight += count;
    }
    evidence[activity] = weight ? sum / weight : 0;
    unexplained[activity] = weight ? leftOver.share(sets.values(), weight, skipAll) : 0;
  }
  return { evidence, unexplained };
}

/** Adds the pixels the segment from `a` to `b` (image units) passes through. */
function addSegment(set: PixelSet, a: [number, number], b: [number, number]): void {
  const size = set.size, steps = Math.ceil(4 * size * Math.hypot(b[0] - a[0], b[1] - a[1])) + 1;
  for (let i = 0; i <= steps; i++) {
    const x = Math.floor((a[0] + ((b[0] - a[0]) * i) / steps) * size), y = Math.floor((a[1] + ((b[1] - a[1]) * i) / steps) * size);
    if (x >= 0 && y >= 0 && x < size && y < size) set.add(y * size + x);
  }
}

/** How close (in evidence) a hypothesis must come to the best one for what each leaves unexplained to decide. */
export const CLOSE_EVIDENCE = 0.1;

/** Twins; else the item activity with the most evidence if it passes the threshold (of those within CLOSE_EVIDENCE of
 * it, the one that leaves the least item color unexplained); else melting, or the stretch. */
export function readActivity(bodies: Body[], { evidence, unexplained }: ActivityReadout): Activity {
  const body = bodies[0];
  if (bodies.length === 2) return 'twin';
  const best = ACCESSORY_ACTIVITIES.reduce((a, b) => (evidence[b] > evidence[a] ? b : a));
  if (evidence[best] >= ACCESSORY_THRESHOLD) {
    const close = ACCESSORY_ACTIVITIES.filter((a) => evidence[a] >= ACCESSORY_THRESHOLD && evidence[a] >= evidence[best] - CLOSE_EVIDENCE);
    return close.reduce((a, b) => (evidence[b] - unexplained[b] > evidence[a] - unexplained[a] ? b : a));
  }
  if (body.template.melting) return 'melting';
  return stretchOf(body.stretch);
}
