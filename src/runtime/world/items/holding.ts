// The holding family: a thin black line from the body's right side up to an item beside its top. A balloon (in its
// claimed color) floats on a string, a lime flag hangs from a pole, a magenta umbrella's canopy covers the object's
// top, a small magenta flower sits on its stem.
import { BLACK, LIME, MAGENTA, OBJECT_RGB } from '../palette.js';
import { joinBoxes } from '../parts.js';
import { type Region, capsule, ellipse, rect, union } from '../raster.js';
import { type ItemContext, type Items, accessory, front } from './context.js';

/** Half-width of the holding line: about a pixel wide at 32. */
export const LINE_HALF_WIDTH = 0.017;

interface Grip {
  /** Where the line leaves the body (its right edge, a little below the center). */
  hand: [number, number];
  /** The figure's right edge and top (plushie ears included). */
  right: number;
  top: number;
}

function grip(c: ItemContext): Grip {
  const f = joinBoxes(c.figure.map((q) => q.region));
  const y = c.p.cy + 0.1 * c.r;
  let x = c.b.x1;
  // Walk in from the outline's box to the body's edge at that height (a star's arm tip is not at mid-height).
  while (x > c.p.cx && !c.body.inside(x, y)) x -= 0.004;
  return { hand: [x, y], right: f.x1, top: f.y0 };
}

const line = (g: Grip, x: number, y: number) => capsule(g.hand[0], g.hand[1], x, y, LINE_HALF_WIDTH);

export function balloon(c: ItemContext): Items {
  if (!c.s.accessoryColor) throw new Error('a balloon needs its accessoryColor');
  const g = grip(c);
  const ry = Math.max(0.5 * c.r, 0.07), rx = 0.85 * ry;
  const [x, y] = [g.right + rx + 0.02, g.top - 0.3 * ry];
  return front(accessory(line(g, x, y + ry), BLACK), accessory(ellipse(x, y, rx, ry), OBJECT_RGB[c.s.accessoryColor]));
}

export function flag(c: ItemContext): Items {
  const g = grip(c);
  const w = Math.max(0.75 * c.r, 0.105), h = Math.max(0.5 * c.r, 0.072);
  const [x, y] = [g.right + 0.03, g.top - 0.06];
  return front(accessory(line(g, x, y), BLACK), accessory(rect(x, y - LINE_HALF_WIDTH, x + w, y + h), LIME));
}

export function umbrella(c: ItemContext): Items {
  const g = grip(c);
  const rx = Math.max(0.85 * c.r, 0.12), ry = Math.max(0.6 * c.r, 0.085);
  const [x, y] = [g.right, g.top - 0.035];
  const dome = ellipse(x, y, rx, ry);
  const canopy: Region = { ...dome, y1: y, inside: (px, py) => py <= y && dome.inside(px, py) };
  return front(accessory(line(g, x, y), BLACK), accessory(canopy, MAGENTA));
}

export function flower(c: ItemContext): Items {
  const g = grip(c);
  const fr = Math.max(0.38 * c.r, 0.055);
  const [x, y] = [g.right + fr + 0.02, g.top + 0.15 * c.r];
  const petals = Array.from({ length: 5 }, (_, k) => {
    const a = -Math.PI / 2 + (2 * Math.PI * k) / 5;
    return ellipse(x + 0.55 * fr * Math.cos(a), y + 0.55 * fr * Math.sin(a), 0.5 * fr, 0.5 * fr);
  });
  // A lime leaf halfway down the stem tells a flower from a balloon on its string.
  const [mx, my] = [(x + g.hand[0]) / 2, (y + fr + g.hand[1]) / 2];
  const leaf = ellipse(mx + 0.6 * fr, my, 0.65 * fr, Math.max(0.3 * fr, 0.02), -0.5);
  return front(accessory(line(g, x, y + fr), BLACK), accessory(leaf, LIME), accessory(union(ellipse(x, y, 0.6 * fr, 0.6 * fr), ...petals), MAGENTA));
}
