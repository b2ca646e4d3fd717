// Backgrounds. Patterns have fixed phases (stripes and dots on a grid aligned with the frame) so that a tiny model
// can learn them exactly; decorations (snowflakes) vary with the scene's detail seed.
import { Rng } from '../onnx/random.js';
import type { Context } from './attributes.js';
import { CONTEXT_RGB, type RGB } from './palette.js';
import { type Canvas, ellipse, polygon, rect } from './raster.js';

/** Where the ground starts in the contexts that have one (image heights). */
export const GROUND_Y = 0.72;
// Patterns no finer than 4 pixels at 32: a small model's blur would erase finer ones (and the oracle with them).
export const STRIPE_PERIOD = 0.25;
export const DOT_SPACING = 0.2;
export const DOT_RADIUS = 0.045;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export function contextColors(context: Context, tint: readonly number[]): RGB[] {
  return CONTEXT_RGB[context].map((c) => [clamp01(c[0] + tint[0]), clamp01(c[1] + tint[1]), clamp01(c[2] + tint[2])] as const);
}

/** A band from y(x) (sampled) down to the bottom edge. */
function ground(top: (x: number) => number): ReturnType<typeof polygon> {
  const pts: [number, number][] = [];
  for (let k = 0; k <= 32; k++) pts.push([k / 32, top(k / 32)]);
  pts.push([1.01, top(1)], [1.01, 1.01], [-0.01, 1.01], [-0.01, top(0)]);
  return polygon(pts);
}

export function drawContext(canvas: Canvas, context: Context, tint: readonly number[], detailSeed: number): void {
  const [a, b, c] = contextColors(context, tint);
  canvas.fill(context === 'striped' ? b : a);
  switch (context) {
    case 'striped':
      for (let x = 0; x < 1; x += STRIPE_PERIOD) canvas.paint(rect(x, -0.01, x + STRIPE_PERIOD / 2, 1.01), a);
      break;
    case 'dotted':
      for (let j = 0; j < 5; j++)
        for (let i = 0; i < 5; i++) canvas.paint(ellipse((i + 0.5) * DOT_SPACING, (j + 0.5) * DOT_SPACING, DOT_RADIUS, DOT_RADIUS), b);
      break;
    case 'snow': {
      canvas.paint(ground((x) => GROUND_Y - 0.03 + 0.025 * Math.sin(x * 7 + 1)), b);
      const rng = new Rng(detailSeed);
      for (let k = 0; k < 6; k++) canvas.paint(ellipse(0.04 + 0.92 * rng.uniform(), 0.04 + 0.55 * rng.uniform(), 0.014, 0.014), b);
      break;
    }
    case 'grass':
      // Blade tips: a zigzag edge.
      canvas.paint(ground((x) => GROUND_Y + (Math.round(x * 32) % 2 === 0 ? -0.03 : 0.01)), b);
      break;
    case 'beach':
      canvas.paint(rect(-0.01, 0.56, 1.01, 1.01), b);
      canvas.paint(ground((x) => GROUND_Y + 0.015 * Math.sin(x * 9)), c);
      break;
  }
}
