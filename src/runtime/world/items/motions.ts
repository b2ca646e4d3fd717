// Motions mark the space around or under the body (bouncing's shadow and lift, and melting's drips, are drawn with
// the body in layout.ts): spinning's two black arcs at the sides, speeding's black lines trailing on the left, and
// glowing's lime halo hugging the silhouette behind it.
import { PLUSHIE_PARTS, localDisc, shapeRegion } from '../geometry.js';
import { BLACK, LIME } from '../palette.js';
import { joinBoxes } from '../parts.js';
import { type Region, capsule, ellipse, union } from '../raster.js';
import { type ItemContext, type Items, accessory, behind, front } from './context.js';

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
  const end = f.x0 - SPEED_GAP, len = Math.max(0.8 * c.r, 0.11);
  const lines = ([[-0.45, 0.75], [0, 1], [0.45, 0.6]] as const).map(([dy, k]) => {
    const y = c.p.cy + dy * c.r;
    return capsule(end - k * len, y, end, y, 0.018);
  });
  return front(accessory(union(...lines), BLACK));
}

/** The halo's outer edge, as a multiple of the body's size. */
export const GLOW_GROW = 1.42;

export function glowing(c: ItemContext): Items {
  const { p, shape } = c;
  // A ring's halo is outside it only: its hole stays open.
  let halo: Region = shape === 'ring' ? ellipse(p.cx, p.cy, GLOW_GROW * p.r * p.sx, GLOW_GROW * p.r * p.sy, 0, 1 / GLOW_GROW) : shapeRegion(shape, p, GLOW_GROW);
  if (c.s.objectClass === 'plushie') {
    const { ears, earRadius } = PLUSHIE_PARTS[c.s.body];
    const grow = (GLOW_GROW - 1) * 0.8;
    halo = union(halo, localDisc(p, -ears[0], ears[1], earRadius + grow), localDisc(p, ears[0], ears[1], earRadius + grow));
  }
  return behind(accessory(halo, LIME));
}
