// Which item activities are worth synthesizing for an image, and which color each laid-out part is scored in. Most
// images hold no item color near the object, so no hypothesis is drawn at all; the rest draw one to a few.
import type { Activity } from '../attributes.js';
import type { Part } from '../layout.js';
import { BLACK, BROWN, LIME, MAGENTA, SHADOW } from '../palette.js';
import type { BlendLabels, Ink } from './labels.js';
import type { FoundObject } from './synthesis.js';

const INK_OF_RGB = new Map<unknown, Ink>([[BLACK, 'dark'], [SHADOW, 'dark'], [BROWN, 'brown'], [MAGENTA, 'magenta'], [LIME, 'lime']]);

/** The color a laid-out part is scored in, or null when it is no evidence (the object itself, its eyes, markings). */
export function itemInks(activity: Activity, part: Part, firstBody: boolean): Ink | 'main' | null {
  if (part.kind === 'body') return activity === 'baby' && !firstBody ? 'main' : null;
  if (part.kind !== 'accessory' && part.kind !== 'shadow') return null;
  // Any other color is a scarf's or balloon's, drawn in a stand-in color by the synthesis.
  return INK_OF_RGB.get(part.rgb) ?? 'accent';
}

export type Gate = (activity: Activity) => boolean;

const ZONES = ['inside', 'above', 'below', 'sides', 'left', 'right', 'lower-right'] as const;
type Zone = (typeof ZONES)[number];
const GATE_INKS = ['dark', 'brown', 'magenta', 'lime', 'accent'] as const;
type GateInk = (typeof GATE_INKS)[number];
const Z = ZONES.length;

/** Item-color mass around the object, by zone and color, and the gate it implies. */
export function worthTrying(bl: BlendLabels, size: number, found: FoundObject, skip: Uint8Array): Gate {
  const [cx, cy] = found.center, r = found.r;
  const maps = [bl.dark, bl.brown, bl.magenta, bl.lime, bl.accent];
  const mass = new Float64Array(GATE_INKS.length * Z);
  const near = 2.6 * r + 0.15;
  const clampPx = (v: number) => Math.min(size - 1, Math.max(0, Math.floor(v * size)));
  const [px0, px1, py0, py1] = [clampPx(cx - near), clampPx(cx + near), clampPx(cy - near), clampPx(cy + near)];
  for (let py = py0; py <= py1; py++)
    for (let px = px0; px <= px1; px++) {
      const p = py * size + px;
      if (skip[p]) continue;
      const sx = (px + 0.5) / size - cx, dy = (py + 0.5) / size - cy, dx = Math.abs(sx), ady = Math.abs(dy);
      // v1's zones (inside, above, below, sides, the first that holds), and v2's left and right of the object.
      const zone =
        dx < r && ady < r ? 0 : dx < 1.6 * r && dy < -0.8 * r && dy > -2.2 * r ? 1 : dx < 1.8 * r && dy > 0.8 * r && dy < 2 * r + 0.2 ? 2 : dx < 1.5 * r + 0.15 && ady < 1.3 * r ? 3 : -1;
      // Left and right of the object: outside its v1 'inside' square.
      const half = zone === 0 ? -1 : sx < 0 ? 4 : 5;
      // The quarter below and right of the center, inside the square too (where a small star's shadow shows), from
      // mostly dark pixels only (a white object's edge on gray passes for a little dark).
      const lowerRight = sx > 0.2 * r && dy > 0.2 * r;
      for (let k = 0; k < maps.length; k++) {
        const v = maps[k][p];
        if (v < 0.1) continue;
        if (zone >= 0) mass[k * Z + zone] += v;
        if (half >= 0) mass[k * Z + half] += v;
        if (lowerRight && v >= 0.5) mass[k * Z + 6] += v;
      }
    }
  const enough = 1.5 * (size / 32) ** 2;
  const m = (ink: GateInk, zone: Zone) => mass[GATE_INKS.indexOf(ink) * Z + ZONES.indexOf(zone)];
  const has = (ink: GateInk, ...where: Zone[]) => where.reduce((a, z) => a + m(ink, z), 0) >= enough;
  // v1 read its accessories from dark and brown together.
  const db = (z: Zone) => m('dark', z) + m('brown', z) >= enough;
  // Each of v2's items by its color where the layout puts it: on the body, under it, at its sides (around it), to its
  // right (the holding family, a shadow) or left (speed lines). A baby is gated by the figure reader's pieces.
  const gates: Partial<Record<Activity, boolean>> = {
    hat: db('above'),
    sunglasses: db('inside'),
    skateboard: db('below'),
    bouncing: db('below'),
    spinning: db('sides'),
    cage: db('above') && db('below'),
    crown: has('magenta', 'above', 'inside'),
    scarf: has('accent', 'inside'),
    // (Under a triangle, whose bottom is higher than its radius, the cart lies in its square.)
    cart: has('lime', 'below', 'inside'),
    box: has('brown', 'sides'),
    bubble: has('magenta', 'sides'),
    frame: has('brown', 'above') && has('brown', 'below'),
    // A shadow shows right of and below the object, or only in a small star's notches, inside its square.
    shadow: has('dark', 'right', 'below') || has('dark', 'lower-right'),
    balloon: has('accent', 'right'),
    flag: has('lime', 'right'),
    umbrella: has('magenta', 'right'),
    flower: has('magenta', 'right'),
    speeding: has('dark', 'left'),
    glowing: has('lime', 'sides'),
  };
  return (a) => gates[a] ?? false;
}
