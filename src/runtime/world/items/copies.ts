// The "with its" family draws a second copy of the body: a twin (same size, beside it) and a baby (half size, beside
// it, bottoms level) are placements (layout.ts); the shadow is a dark copy offset down and right, behind the object.
import { PLUSHIE_PARTS, localDisc, shapeRegion } from '../geometry.js';
import { SHADOW } from '../palette.js';
import { union } from '../raster.js';
import { type ItemContext, type Items, behind } from './context.js';
import { clearOfHole } from './enclosures.js';

/** How far the shadow copy is offset: at least about 1.5 pixels at 32, so its crescent shows on small objects. */
export const shadowOffset = (r: number): [number, number] => [Math.max(0.3 * r, 0.05), Math.max(0.24 * r, 0.042)];

export function shadow(c: ItemContext): Items {
  const [dx, dy] = shadowOffset(c.r);
  const q = { ...c.p, cx: c.p.cx + dx, cy: c.p.cy + dy };
  let region = shapeRegion(c.shape, q);
  if (c.s.objectClass === 'plushie') {
    const { ears, earRadius } = PLUSHIE_PARTS[c.s.body];
    region = union(region, localDisc(q, -ears[0], ears[1], earRadius), localDisc(q, ears[0], ears[1], earRadius));
  }
  return behind({ kind: 'shadow', region: clearOfHole(c, region), rgb: SHADOW });
}
