// Reads the activity. Twins, melting and stretching change the silhouette, and the figure reader already has them
// (two bodies, a melting template, the spread ratio). Accessories are read by synthesis: for each accessory activity
// the generator's own layout draws where its hat, glasses, skateboard, cage, arcs or shadow would be around the body
// that was found; the evidence is how dark (brown, for a deck) the image is there minus how dark it is in a ring
// just around it, so that one dark thing (a cage) does not pass for every accessory that would overlap it.
import type { Activity } from '../attributes.js';
import { BROWN } from '../palette.js';
import type { Body } from './figure.js';
import type { BlendLabels } from './labels.js';
import { type FoundObject, PixelSet, contrast, partsAt } from './synthesis.js';

export const ACCESSORY_ACTIVITIES = ['hat', 'sunglasses', 'skateboard', 'cage', 'spinning', 'bouncing'] as const;
type AccessoryActivity = (typeof ACCESSORY_ACTIVITIES)[number];

export type ActivityEvidence = Record<AccessoryActivity, number>;

export interface ActivityReading {
  activity: Activity;
  evidence: ActivityEvidence;
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

/** Each accessory activity's contrast around the found object. `skip`: pixels that are no evidence (a companion's). */
export function accessoryEvidence(
  bl: BlendLabels,
  size: number,
  filled: Uint8Array,
  found: FoundObject,
  skip: Uint8Array,
  stretch: Activity = 'none',
): ActivityEvidence {
  const evidence = Object.fromEntries(ACCESSORY_ACTIVITIES.map((a) => [a, 0])) as ActivityEvidence;
  // Accessories are dark or brown; the ring around them should be neither.
  const accessoryColor = new Float32Array(size * size);
  for (let p = 0; p < accessoryColor.length; p++) accessoryColor[p] = bl.dark[p] + bl.brown[p];
  // Where dark or brown mass lies around the object decides which accessories are worth synthesizing: none at all
  // for most images, one or two for the rest.
  const [cx, cy] = found.center, r = found.r;
  const mass = { above: 0, below: 0, sides: 0, inside: 0 };
  for (let p = 0; p < accessoryColor.length; p++) {
    const v = accessoryColor[p];
    if (v < 0.1 || skip[p]) continue;
    const dx = Math.abs(((p % size) + 0.5) / size - cx), dy = (Math.floor(p / size) + 0.5) / size - cy;
    if (dx < r && Math.abs(dy) < r) mass.inside += v;
    else if (dx < 1.6 * r && dy < -0.8 * r && dy > -2.2 * r) mass.above += v;
    else if (dx < 1.8 * r && dy > 0.8 * r && dy < 2 * r + 0.2) mass.below += v;
    else if (dx < 1.5 * r + 0.15 && Math.abs(dy) < 1.3 * r) mass.sides += v;
  }
  const enough = 1.5 * (size / 32) ** 2;
  const worth: Record<AccessoryActivity, boolean> = {
    hat: mass.above >= enough,
    sunglasses: mass.inside >= enough,
    skateboard: mass.below >= enough,
    bouncing: mass.below >= enough,
    spinning: mass.sides >= enough,
    cage: mass.above >= enough && mass.below >= enough,
  };
  // A plushie's eyes are no evidence (they are dark without any accessory); where they are depends on stretching.
  const eyes = new PixelSet(size);
  if (found.objectClass === 'plushie') for (const part of partsAt(found, stretch)) if (part.kind === 'eye') eyes.cover(part, 0.25);
  const eyeDist = eyes.distances();
  for (const activity of ACCESSORY_ACTIVITIES) {
    if (!worth[activity]) continue;
    const parts = partsAt(found, activity);
    const firstBody = parts.findIndex((q) => q.kind === 'body');
    const dark = new PixelSet(size), brown = new PixelSet(size), behind = new PixelSet(size);
    parts.forEach((part, i) => {
      if (part.kind !== 'accessory' && part.kind !== 'shadow') return;
      (part.rgb === BROWN ? brown : dark).cover(part);
      // A part drawn before the body (the cage's bars) is hidden where the object is.
      if (i < firstBody) behind.cover(part);
    });
    // Nor, for glasses, are the eyes' blurred surroundings (glasses are scored without looking at neighbours).
    const glasses = activity === 'sunglasses';
    const skipAll = (p: number) => skip[p] === 1 || eyeDist[p] <= (glasses ? 0 : 1);
    const skipInside = (p: number) => behind.has[p] === 1 && filled[p] === 1;
    // A deck is brown, the rest dark: score each against its own color, weighted by its size.
    let sum = 0, weight = 0;
    for (const [set, map] of [[dark, bl.dark], [brown, bl.brown]] as const) {
      if (set.empty) continue;
      const count = set.has.reduce((a, v) => a + v, 0);
      sum += count * contrast(set, map, { ringMap: accessoryColor, skip: skipAll, skipInside, exact: glasses });
      weight += count;
    }
    evidence[activity] = weight ? sum / weight : 0;
  }
  return evidence;
}

export function readActivity(bodies: Body[], evidence: ActivityEvidence): Activity {
  const best = ACCESSORY_ACTIVITIES.reduce((a, b) => (evidence[b] > evidence[a] ? b : a));
  const body = bodies[0];
  if (bodies.length === 2) return 'twin';
  if (evidence[best] >= ACCESSORY_THRESHOLD) return best;
  if (body.template.melting) return 'melting';
  return stretchOf(body.stretch);
}
