// Random scenes: attribute weights, per-image jitter, and rejection of layouts that do not fit. The same seed gives
// the same scene; any attribute can be pinned (the sampler draws the rest around it).
import type { Rng } from '../onnx/random.js';
import {
  ACCESSORY_COLORS,
  ACTIVITIES,
  type Activity,
  BASE_PLUSHIE_BODIES,
  COLORS,
  COMPANIONS,
  CONTEXT_EXCLUDED_COLORS,
  type ColorName,
  CONTEXTS,
  type Context,
  OBJECT_CLASSES,
  type ObjectClass,
  POSITIONS,
  hasAccessoryColor,
} from './attributes.js';
import { layoutScene } from './layout.js';
import type { Scene, SceneJitter } from './scene.js';

function pick<T>(rng: Rng, items: readonly T[], weights?: readonly number[]): T {
  if (!weights) return items[rng.int(items.length)];
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let i = 0; i < items.length; i++) if ((u -= weights[i]) < 0) return items[i];
  return items[items.length - 1];
}

/** Base-world weights: the default value of each optional attribute is the most common. */
export const WEIGHTS = {
  context: CONTEXTS.map((c: Context) => (c === 'plain' ? 3 : 1)),
  position: POSITIONS.map((p) => (p === 'center' ? 0.4 : 0.15)),
  companion: COMPANIONS.map((c) => (c === 'none' ? 0.55 : 0.15)),
  activity: ACTIVITIES.map((a: Activity) => (a === 'none' ? 0.25 : 0.075)),
};

/** The colors a scarf or balloon on this object in this context may have. */
export function accessoryColorsFor(color: ColorName, context: Context): ColorName[] {
  return ACCESSORY_COLORS.filter((c) => c !== color && !CONTEXT_EXCLUDED_COLORS[context].includes(c));
}

/** A colored accessory has an allowed color; every other activity has none. */
function accessoryColorFits(s: Scene): boolean {
  if (!hasAccessoryColor(s.activity)) return s.accessoryColor === null;
  return s.accessoryColor !== null && accessoryColorsFor(s.color, s.context).includes(s.accessoryColor);
}

export function sampleJitter(rng: Rng): SceneJitter {
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
  return {
    dx: u(-0.02, 0.02),
    dy: u(-0.02, 0.02),
    rotation: u(-6, 6),
    scale: u(0.94, 1.06),
    tint: [u(-0.03, 0.03), u(-0.03, 0.03), u(-0.03, 0.03)],
    backgroundTint: [u(-0.02, 0.02), u(-0.02, 0.02), u(-0.02, 0.02)],
    detailSeed: rng.nextU32(),
  };
}

export interface SampleOptions {
  /** Classes to draw from (default: all). */
  classes?: readonly ObjectClass[];
  /** Tries before giving up on pinned attributes that never fit. */
  maxTries?: number;
}

/** A random base-world scene with `pinned` attributes kept as given. Markings stay as pinned ([] by default). */
export function sampleScene(rng: Rng, pinned: Partial<Scene> = {}, opts: SampleOptions = {}): Scene {
  const tries = opts.maxTries ?? 200;
  for (let t = 0; t < tries; t++) {
    const objectClass = pinned.objectClass ?? pick(rng, opts.classes ?? OBJECT_CLASSES);
    const body = pinned.body ?? (objectClass === 'plushie' ? pick(rng, BASE_PLUSHIE_BODIES) : 'circle');
    const context = pinned.context ?? pick(rng, CONTEXTS, WEIGHTS.context);
    const colors = COLORS.filter((c) => !CONTEXT_EXCLUDED_COLORS[context].includes(c));
    const color = pinned.color ?? pick(rng, colors);
    const activity = pinned.activity ?? pick(rng, ACTIVITIES, WEIGHTS.activity);
    // Twins are drawn small: two large copies do not fit side by side.
    const size = pinned.size ?? (activity === 'twin' ? 'small' : pick(rng, ['small', 'large'] as const));
    const position = pinned.position ?? pick(rng, POSITIONS, WEIGHTS.position);
    const companion = pinned.companion ?? pick(rng, COMPANIONS, WEIGHTS.companion);
    const side = rng.uniform() < 0.5 ? 'left' : 'right';
    const companionSide = pinned.companionSide ?? (position === 'left' ? 'right' : position === 'right' ? 'left' : side);
    const jitter = pinned.jitter ?? sampleJitter(rng);
    const accessoryColor = pinned.accessoryColor !== undefined ? pinned.accessoryColor : hasAccessoryColor(activity) ? pick(rng, accessoryColorsFor(color, context)) : null;
    const s: Scene = { objectClass, body, color, size, position, context, companion, companionSide, activity, accessoryColor, markings: pinned.markings ?? [], jitter };
    if (!CONTEXT_EXCLUDED_COLORS[context].includes(color) && accessoryColorFits(s) && layoutScene(s).fits) return s;
  }
  throw new Error(`no scene fits ${JSON.stringify(pinned)} after ${tries} tries`);
}
