// Motions mark the space around or under the body (bouncing's shadow and lift, and melting's drips, are drawn with
// the body in layout.ts): spinning's two black arcs at the sides, speeding's black lines trailing on the left, and
// glowing's lime halo, an ellipse behind the figure.
import { BLACK, LIME } from '../palette.js';
import { joinBoxes } from '../parts.js';
import { type Region, capsule, ellipse, union } from '../raster.js';
import { type ItemContext, type Items, accessory, behind, front } from './context.js';
import { clearOfHole } from './enclosures.js';

export function spinning(c: ItemContext): Items {
  const f = joinBoxes(c.figure.map((q) => q.region));
  const R = Math.max(f.x1 - f.x0, f.y1 - f.y0) / 2 + 0.07;
  const [fx, fy] = [(f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2];
  const segs: Region[] = [];
  for (const mid of [0, Math.PI])
    for (let k = 0; k < 6; k++) {
      const a0 = mid - 0.65 + (1.3 * k) / 6, a1 = mid - 0.65 + (1.3 * (k + 1)) / 6;
      segs.push(capsule(fx + R * Math.cos(a0), fy + R * Math.sin(a0), fx + R * Math.cos(a1), fy + R * Math.sin(a1), 0.022));
    }
  return front(accessory(union(...segs), BLACK));
}

/** Where speed lines stop short of the body: beyond where a spinning object's arcs are (0.07), so that neither passes
 * for the other. */
export const SPEED_GAP = 0.105;

/** Three lines of unequal length, left of the body at its upper, middle and lower heights. */
export function speeding(c: ItemContext): Items {
  const f = joinBoxes(c.figure.map((q) => q.region));
  const end = f.x0 - SPEED_GAP, len = Math.max(1.1 * c.r, 0.15);
  const lines = ([[-0.45, 0.75], [0, 1], [0.45, 0.6]] as const).map(([dy, k]) => {
    // At least 2.5 pixels apart at 32, so that a small object's three lines do not blur into one mark.
    const y = c.p.cy + dy * Math.max(c.r, 0.18);
    return capsule(end - k * len, y, end, y, 0.022);
  });
  return front(accessory(union(...lines), BLACK));
}

/** The halo: an ellipse around the figure, this many times its half-extent plus GLOW_PAD. Round, not a grown copy of
 * the silhouette, so that the object's outline is drawn only in its own color (a star's halo shaped like a star made
 * the model draw a round object inside a lime star). */
export const GLOW_SCALE = 1.15;
export const GLOW_PAD = 0.05;

export function glowing(c: ItemContext): Items {
  const f = joinBoxes(c.figure.map((q) => q.region));
  const [hx, hy] = [(f.x1 - f.x0) / 2, (f.y1 - f.y0) / 2];
  const halo = ellipse((f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, GLOW_SCALE * hx + GLOW_PAD, GLOW_SCALE * hy + GLOW_PAD);
  return behind(accessory(clearOfHole(c, halo), LIME));
}
