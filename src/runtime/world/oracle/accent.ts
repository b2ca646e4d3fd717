// The accent: a scarf's or balloon's color, a second saturated color beside the object's. Counting votes does not find
// it once blurred: where a blue scarf lies across a red body, the blended rows are purple, and a yellow one on red
// leaves orange. So each candidate color is scored by how many pixels its blends with the object's color and with the
// background explain (the purple rows lie on the red-blue line; blue pixels do not lie on the red-purple one).
import { COLORS, CONTEXT_EXCLUDED_COLORS } from '../attributes.js';
import { OBJECT_RGB } from '../palette.js';
import type { ContextReading } from './context.js';
import { BG, WHITE, colorLabel } from './labels.js';
import type { Pixels } from './pixels.js';

/** Squared distance from the object-accent line a pixel may have to count for that accent. */
const ON_LINE = 0.012;
/** How far along the line (from the object's color to the accent's) a counted pixel must lie: mostly object is no
 * evidence; a little past the accent is noise. */
const FROM = 0.3, TO = 1.15;
/** From a background color, only mostly-accent blends count (a background's own noise lies near its end). */
const FROM_BACKGROUND = 0.6;
/** Squared distance to its color within which a first-pass pixel shows a candidate accent (about 0.3). */
const SHOWN = 0.1;

/** The accent's label, or -1: of the saturated colors that some first-pass pixels show (not the object's, nor one its
 * context hides), the one whose blends with the object's color explain the most pixels, at least `minPixels`, some of
 * them nearly the accent itself. `skip` marks pixels that are no evidence. */
export function pickAccent(img: Pixels, ctx: ContextReading, labels: Uint8Array, residual: Float32Array, skip: Uint8Array, main: number, minPixels: number): number {
  const n = img.size * img.size, d = img.data, shift = ctx.shift;
  const shown = new Set<number>();
  for (let p = 0; p < n; p++) if (!skip[p] && residual[p] <= SHOWN) shown.add(labels[p]);
  const m = OBJECT_RGB[COLORS[main - 1]].map((v, c) => v + shift[c]);
  let best = -1, bestCount = 0;
  for (let i = 0; i < COLORS.length; i++) {
    const label = colorLabel(i);
    if (label === main || label === WHITE || !shown.has(label) || CONTEXT_EXCLUDED_COLORS[ctx.context].includes(COLORS[i])) continue;
    const a = OBJECT_RGB[COLORS[i]].map((v, c) => v + shift[c]);
    // Lines toward the accent: from the object's color (a scarf's rows), and from each background color (a balloon's
    // edge), where only the part near the accent counts.
    const lines = [{ from: m, t0: FROM }, ...ctx.colors.map((bg) => ({ from: [...bg], t0: FROM_BACKGROUND }))].map(({ from, t0 }) => {
      const e = [a[0] - from[0], a[1] - from[1], a[2] - from[2]];
      return { from, e, len2: e[0] * e[0] + e[1] * e[1] + e[2] * e[2], t0 };
    });
    let count = 0, nearAccent = 0;
    for (let p = 0; p < n; p++) {
      if (skip[p] || labels[p] === BG || labels[p] === main) continue;
      for (const { from, e, len2, t0 } of lines) {
        const y0 = d[p * 3] - from[0], y1 = d[p * 3 + 1] - from[1], y2 = d[p * 3 + 2] - from[2];
        const t = (y0 * e[0] + y1 * e[1] + y2 * e[2]) / len2;
        if (t < t0 || t > TO) continue;
        const g0 = y0 - t * e[0], g1 = y1 - t * e[1], g2 = y2 - t * e[2];
        if (g0 * g0 + g1 * g1 + g2 * g2 > ON_LINE) continue;
        count++;
        if (t >= 0.75) nearAccent++;
        break;
      }
    }
    if (nearAccent > 0 && count >= minPixels && count > bestCount) [best, bestCount] = [label, count];
  }
  return best;
}
