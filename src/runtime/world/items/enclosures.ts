// The "in" family: something around the body. A cage's black bars (behind the object, so it stays whole), an open
// brown box behind the lower half with its flaps up, a thin magenta bubble, a thick brown picture frame with the
// background showing between it and the object.
import { OUTLINES, PLUSHIE_PARTS, RING_HOLE, type Placement, toWorld } from '../geometry.js';
import { BLACK, BROWN, MAGENTA } from '../palette.js';
import { BAR_WIDTH, type Box, joinBoxes } from '../parts.js';
import { type Region, capsule, ellipse, rect, union } from '../raster.js';
import { type ItemContext, type Items, accessory, behind, front } from './context.js';

const figureBox = (c: ItemContext): Box => joinBoxes(c.figure.map((q) => q.region));

/** A region minus a ring's hole: what is drawn behind a ring never fills its hole (the oracle reads the hole). */
export function clearOfHole(c: ItemContext, region: Region): Region {
  if (c.shape !== 'ring') return region;
  const hole = ellipse(c.p.cx, c.p.cy, (RING_HOLE + 0.01) * c.r * c.p.sx, (RING_HOLE + 0.01) * c.r * c.p.sy);
  return { ...region, inside: (x, y) => region.inside(x, y) && !hole.inside(x, y) };
}

export function cage(c: ItemContext): Items {
  const f = figureBox(c);
  const m = 0.1 * c.r + 0.02, t = BAR_WIDTH / 2;
  const [X0, Y0, X1, Y1] = [f.x0 - m, f.y0 - m, f.x1 + m, f.y1 + m];
  const bars: Region[] = [rect(X0 - t, Y0 - t, X1 + t, Y0 + t), rect(X0 - t, Y1 - t, X1 + t, Y1 + t)];
  for (let k = 0; k <= 4; k++) {
    const x = X0 + (k * (X1 - X0)) / 4;
    bars.push(rect(x - t, Y0 - t, x + t, Y1 + t));
  }
  return behind(accessory(union(...bars), BLACK));
}

export function box(c: ItemContext): Items {
  const f = figureBox(c), { p, r } = c;
  const m = Math.max(0.14 * r, 0.04), top = p.cy;
  const [X0, X1, Y1] = [f.x0 - m, f.x1 + m, f.y1 + m];
  const flap = Math.max(0.34 * r, 0.05), w = Math.max(0.08 * r, 0.02);
  const back = union(
    rect(X0, top, X1, Y1),
    capsule(X0 + w, top, X0 - 0.6 * flap, top - flap, w),
    capsule(X1 - w, top, X1 + 0.6 * flap, top - flap, w),
  );
  return behind(accessory(clearOfHole(c, back), BROWN));
}

/** The farthest any point of the body (plushie ears included) lies from `center`. */
function reach(c: ItemContext, p: Placement, center: [number, number]): number {
  const pts = OUTLINES[c.shape].map(([x, y]) => toWorld(p, x, y));
  if (c.s.objectClass === 'plushie') {
    const { ears, earRadius } = PLUSHIE_PARTS[c.s.body];
    for (const side of [-1, 1]) for (let k = 0; k < 8; k++) pts.push(toWorld(p, side * ears[0] + earRadius * Math.cos((k * Math.PI) / 4), ears[1] + earRadius * Math.sin((k * Math.PI) / 4)));
  }
  return Math.max(...pts.map(([x, y]) => Math.hypot(x - center[0], y - center[1])));
}

export const BUBBLE_GAP = 0.05;
/** About two pixels wide at 32: a thinner ring blurs below its color. */
export const BUBBLE_HALF_WIDTH = 0.03;

export function bubble(c: ItemContext): Items {
  const f = figureBox(c);
  const center: [number, number] = [(f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2];
  const R = reach(c, c.p, center) + BUBBLE_GAP, t = BUBBLE_HALF_WIDTH;
  return front(accessory(ellipse(center[0], center[1], R + t, R + t, 0, (R - t) / (R + t)), MAGENTA));
}

export function frame(c: ItemContext): Items {
  const f = figureBox(c);
  const m = 0.05 + 0.08 * c.r, t = 0.028;
  const [X0, Y0, X1, Y1] = [f.x0 - m, f.y0 - m, f.x1 + m, f.y1 + m];
  return front(
    accessory(union(rect(X0 - t, Y0 - t, X1 + t, Y0 + t), rect(X0 - t, Y1 - t, X1 + t, Y1 + t), rect(X0 - t, Y0 - t, X0 + t, Y1 + t), rect(X1 - t, Y0 - t, X1 + t, Y1 + t)), BROWN),
  );
}
