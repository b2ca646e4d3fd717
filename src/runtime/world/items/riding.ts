// The riding family: a vehicle under the body, with wheels. A skateboard is a thin brown deck on small wheels; a cart
// is a deep lime tray on big wheels with a handle, wider than the body.
import { BLACK, BROWN, LIME } from '../palette.js';
import { capsule, ellipse, rect, union } from '../raster.js';
import { type ItemContext, type Items, accessory, front } from './context.js';

export function skateboard({ p, b, r }: ItemContext): Items {
  const top = b.y1 + 0.012, deck = Math.max(0.12 * r, 0.045), wheel = Math.max(0.12 * r, 0.028);
  return front(
    accessory(rect(p.cx - 0.95 * r, top, p.cx + 0.95 * r, top + deck), BROWN),
    accessory(union(ellipse(p.cx - 0.6 * r, top + deck + 0.8 * wheel, wheel, wheel), ellipse(p.cx + 0.6 * r, top + deck + 0.8 * wheel, wheel, wheel)), BLACK),
  );
}

export function cart({ p, b, r }: ItemContext): Items {
  const top = b.y1 + 0.006, depth = Math.max(0.42 * r, 0.065), half = 1.05 * r, wheel = Math.max(0.22 * r, 0.036);
  const axle = top + depth + 0.5 * wheel;
  const handleLen = Math.max(0.4 * r, 0.06);
  return front(
    accessory(rect(p.cx - half, top, p.cx + half, top + depth), LIME),
    accessory(
      union(
        ellipse(p.cx - 0.55 * r, axle, wheel, wheel),
        ellipse(p.cx + 0.55 * r, axle, wheel, wheel),
        capsule(p.cx - half, top + 0.35 * depth, p.cx - half - 0.8 * handleLen, top - handleLen, 0.017),
      ),
      BLACK,
    ),
  );
}
