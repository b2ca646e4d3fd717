// The wearing family: an item on the body. A hat and a crown on top, sunglasses over the eyes, a scarf across the
// lower third with a tail hanging past the body's edge (so that it reads as worn, not as a stripe).
import { localDisc, shapeRegion } from '../geometry.js';
import { BLACK, MAGENTA, OBJECT_RGB } from '../palette.js';
import { type Region, capsule, ellipse, polygon, rect, union } from '../raster.js';
import { type ItemContext, type Items, accessory, front } from './context.js';

export function hat({ p, b, r }: ItemContext): Items {
  return front(
    accessory(rect(p.cx - 0.62 * r, b.y0 - Math.max(0.1 * r, 0.02), p.cx + 0.62 * r, b.y0 + Math.max(0.06 * r, 0.012)), BLACK),
    accessory(rect(p.cx - 0.4 * r, b.y0 - 0.8 * r, p.cx + 0.4 * r, b.y0 - 0.05 * r), BLACK),
  );
}

export function sunglasses({ p, r }: ItemContext): Items {
  // Lenses no smaller than about 1.3 pixels at 32, so small objects still wear readable glasses.
  const [lx, ly] = [Math.max(0.3 * r, 0.042), Math.max(0.22 * r, 0.034)];
  const lens = (side: number) => {
    const c = localDisc(p, side * 0.36, -0.2, 1);
    return ellipse((c.x0 + c.x1) / 2, (c.y0 + c.y1) / 2, lx, ly, p.rotation);
  };
  const [l, rr] = [lens(-1), lens(1)];
  return front(accessory(union(l, rr, capsule((l.x0 + l.x1) / 2, (l.y0 + l.y1) / 2, (rr.x0 + rr.x1) / 2, (rr.y0 + rr.y1) / 2, Math.max(0.06 * r, 0.015))), BLACK));
}

/** A band sitting on the body's top like the hat's brim, with three spikes: a crown's outline at any size. */
export function crown({ p, b, r }: ItemContext): Items {
  const half = 0.62 * r, band = Math.max(0.28 * r, 0.042), spike = Math.max(0.42 * r, 0.06), spikeHalf = Math.max(0.2 * r, 0.03);
  const base = b.y0 + Math.max(0.06 * r, 0.012), top = base - band;
  const spikes = [-1, 0, 1].map((k) => {
    const x = p.cx + k * (half - spikeHalf);
    return polygon([[x - spikeHalf, top + 0.002], [x + spikeHalf, top + 0.002], [x, top - spike]]);
  });
  return front(accessory(union(rect(p.cx - half, top, p.cx + half, base), ...spikes), MAGENTA));
}

/** The band's height (radii, at least 1.8 pixels at 32: its color still reads, and a small object's markings still
 * show around it) and where its middle sits, as a fraction of the body's height from the top: the lower third,
 * whatever the shape. */
const SCARF_BAND = 0.3;
const SCARF_AT = 0.6;

export function scarf({ s, shape, p, b, r }: ItemContext): Items {
  if (!s.accessoryColor) throw new Error('a scarf needs its accessoryColor');
  const y = b.y0 + SCARF_AT * (b.y1 - b.y0), h = Math.max(SCARF_BAND * r, 0.055);
  // Across the body and no wider (a ring's hole stays open): the body's outline stays whole for the oracle.
  const body = shapeRegion(shape, p);
  const band: Region = { x0: body.x0, x1: body.x1, y0: y - h / 2, y1: y + h / 2, inside: (x, yy) => Math.abs(yy - y) <= h / 2 && body.inside(x, yy) };
  const tailX = p.cx + 0.45 * r * p.sx, tailW = Math.max(0.24 * r, 0.05);
  const tail = rect(tailX, y, tailX + tailW, b.y1 + Math.max(0.3 * r, 0.05));
  return front(accessory(union(band, tail), OBJECT_RGB[s.accessoryColor]));
}
