// Every color the renderer paints, by role. The oracle reads pixels against these same values, so a color changes
// here and nowhere else.
import type { ColorName, Context } from './attributes.js';

export type RGB = readonly [number, number, number];

export const OBJECT_RGB: Record<ColorName, RGB> = {
  red: [0.88, 0.12, 0.12],
  orange: [1.0, 0.55, 0.05],
  yellow: [0.96, 0.88, 0.12],
  green: [0.15, 0.72, 0.22],
  blue: [0.15, 0.3, 0.92],
  purple: [0.58, 0.2, 0.78],
  white: [0.97, 0.97, 0.97],
};

/** Accessories (hat, sunglasses, cage, wheels, spinning arcs, speed lines, the holding family's lines) and plushie
 * eyes. */
export const BLACK: RGB = [0.05, 0.05, 0.05];
/** The bouncing shadow and the "with its shadow" copy: dark but not black, far from the striped context's dark stripe
 * (0.35). */
export const SHADOW: RGB = [0.15, 0.15, 0.17];
/** Skateboard deck, box, frame and tree trunk. */
export const BROWN: RGB = [0.5, 0.3, 0.12];
/** Subject markings. */
export const MARK_WHITE: RGB = [0.98, 0.98, 0.98];

/** v2's item colors, each at least 0.45 (RGB distance) from every object, accessory, companion and background color,
 * so no object or context can hide them. Magenta: crown, bubble, umbrella, flower. */
export const MAGENTA: RGB = [1.0, 0.0, 0.9];
/** Lime: cart, flag, the glowing halo. */
export const LIME: RGB = [0.5, 1.0, 0.0];

export const SUN_YELLOW: RGB = [1.0, 0.84, 0.15];
export const TREE_GREEN: RGB = [0.1, 0.42, 0.15];
export const BALL_TEAL: RGB = [0.2, 0.8, 0.75];

export const SKY: RGB = [0.62, 0.8, 0.95];

/** The colors a context's background is made of (before per-scene jitter). The first is its dominant color. */
export const CONTEXT_RGB: Record<Context, readonly RGB[]> = {
  plain: [[0.55, 0.55, 0.55]],
  'blue-background': [[0.2, 0.35, 0.75]],
  'pink-background': [[0.98, 0.65, 0.78]],
  striped: [[0.35, 0.35, 0.38], [0.72, 0.72, 0.74]],
  // Cream dots and blue-gray snow: never mistaken for a subject's white markings.
  dotted: [[0.55, 0.55, 0.55], [0.96, 0.9, 0.6]],
  snow: [SKY, [0.8, 0.87, 0.96]],
  grass: [SKY, [0.25, 0.58, 0.18]],
  beach: [SKY, [0.1, 0.45, 0.7], [0.92, 0.82, 0.58]],
};

export function dist2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return d0 * d0 + d1 * d1 + d2 * d2;
}
