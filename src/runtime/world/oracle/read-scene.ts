// The oracle's reading of one image: context, companion, then the object (color, class, body, size, position) and
// its activity, each from the pixels alone. On the world's own renders it returns the scene's attributes exactly;
// on blurred, noisy or color-shifted images it degrades gracefully.
import { type ImageBatch, imageAt } from '../../engine/image.js';
import { type Activity, COLORS, type ColorName, type Companion, type Context, type ObjectClass, type PlushieBody, type Position, type Size, hasAccessoryColor } from '../attributes.js';
import { caption } from '../grammar.js';
import { BABY_SHIFT, BOUNCE_LIFT, BOUNCE_REST_DROP, type Box, SIZE_RADIUS } from '../layout.js';
import { NO_JITTER, type Scene } from '../scene.js';
import { ACCESSORY_THRESHOLD, type ActivityEvidence, accessoryEvidence, readActivity, stretchOf } from './activity.js';
import { pickAccent } from './accent.js';
import { readCompanion } from './companion.js';
import { readContext } from './context.js';
import { type Body, type FigureReading, fitTemplate, objectColorLabels, readFigure } from './figure.js';
import { type BlendLabels, TREE, blendLabels, inksSeen, nearestLabels } from './labels.js';
import type { Pixels } from './pixels.js';
import { type FoundObject, PixelSet, contrast, partsAt } from './synthesis.js';

export interface SceneReading {
  context: Context;
  companion: Companion;
  /** Whether an object was seen at all; the object fields below are set only when it was. */
  found: boolean;
  objectClass?: ObjectClass;
  /** The plushie's body; set for plushies only. */
  body?: PlushieBody;
  color?: ColorName;
  size?: Size;
  position?: Position;
  activity?: Activity;
  /** A scarf's or balloon's color; set only when the activity is one of those. */
  accessoryColor?: ColorName;
  /** Diagnostics: the object's rest center and radius (image units), the class template distance, activity cues. */
  center?: [number, number];
  radius?: number;
  classDistance?: number;
  evidence?: ActivityEvidence;
  /** Item color each tested activity leaves unexplained (what settles two that pass). */
  unexplained?: ActivityEvidence;
  /** Internals the identity reader reuses. */
  detail?: { labels: Uint8Array; filled: Uint8Array; bodies: Body[]; mainLabel: number; size: number };
}

/** Between the small and large radii (geometric mean), so jitter and blur on either side stay on their side. */
const SIZE_THRESHOLD = Math.sqrt(SIZE_RADIUS.small * SIZE_RADIUS.large);
/** Contrast the eyes of a plushie, or the drips of a melting object, must show to be believed. */
const EYES_THRESHOLD = 0.12;
const DRIPS_THRESHOLD = 0.3;

/** The body's radius: its visible area over the template's visible area (what accessories hide is not missing). */
function bodyRadius(b: Body): number {
  return b.template.melting ? b.m.sx / b.template.spreadX : Math.sqrt(b.m.area / (b.template.area * b.visible));
}

function positionOf(x: number, y: number): Position {
  const dx = x - 0.5, dy = y - 0.5;
  if (Math.max(Math.abs(dx), Math.abs(dy)) < 0.1) return 'center';
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 'left' : 'right';
  return dy < 0 ? 'top' : 'bottom';
}

function foundOf(b: Body): FoundObject {
  const r = bodyRadius(b);
  return { objectClass: b.template.objectClass, body: b.template.body, r, center: [b.m.cx, b.m.cy - b.template.offsetY * r] };
}

function zoneMask(size: number, zone: Box | null): Uint8Array {
  const m = new Uint8Array(size * size);
  if (zone)
    for (let p = 0; p < m.length; p++) {
      const x = ((p % size) + 0.5) / size, y = (Math.floor(p / size) + 0.5) / size;
      m[p] = x >= zone.x0 && x <= zone.x1 && y >= zone.y0 && y <= zone.y1 ? 1 : 0;
    }
  return m;
}

/** Do drips hang where a melting object of this class would have them? */
function dripContrast(fig: FigureReading, size: number, found: FoundObject, skip: Uint8Array): number {
  const melted = new PixelSet(size), plain = new PixelSet(size);
  for (const part of partsAt(found, 'melting')) if (part.kind === 'body') melted.cover(part);
  for (const part of partsAt(found, 'none')) if (part.kind === 'body') plain.cover(part, 0.25);
  const drips = new PixelSet(size);
  const near = plain.distances();
  melted.window(0, (p) => melted.has[p] && near[p] > 1 && drips.add(p));
  return contrast(drips, fig.weight, { skip: (p) => skip[p] === 1 || near[p] <= 1 });
}

/** Are there dark eyes where a plushie of this body would have them? */
function eyeContrast(bl: BlendLabels, size: number, found: FoundObject, skip: Uint8Array): number {
  const eyes = new PixelSet(size);
  for (const part of partsAt(found, 'none')) if (part.kind === 'eye') eyes.cover(part);
  return contrast(eyes, bl.dark, { skip: (p) => skip[p] === 1 });
}

/** Is there a smaller piece of the object's color to the right of the body, about where a baby would stand? */
function babyBeside(fig: FigureReading, body: Body): boolean {
  const r = bodyRadius(body), [cx, cy] = [body.m.cx, body.m.cy];
  return fig.others.some((o) => o.area >= 0.05 * body.m.area && o.area <= 0.6 * body.m.area && o.cx - cx > 0.8 * r && o.cx - cx < 3 * r && Math.abs(o.cy - cy) < 1.5 * r);
}

/** The nearest template that passes `ok`. */
function refit(body: Body, ok: (b: Body) => boolean): Body {
  for (const { template } of body.ranked) {
    const b = fitTemplate(body, template);
    if (ok(b)) return b;
  }
  return body;
}

export function readPixels(img: Pixels): SceneReading {
  const size = img.size;
  const ctx = readContext(img);
  const residual = new Float32Array(size * size);
  const first = nearestLabels(img, ctx, residual);
  const comp = readCompanion(first, size);
  const base: SceneReading = { context: ctx.context, companion: comp.companion, found: false };
  const { main } = objectColorLabels(first, residual, size, comp.zone);
  if (main < 0) return base;
  const skip = zoneMask(size, comp.zone);
  const accent = pickAccent(img, ctx, first, residual, skip, main, Math.max(3, 0.003 * size * size));
  const inks = inksSeen(first, residual, skip);
  if (comp.companion === 'tree') inks.add(TREE);
  const blend = blendLabels(img, ctx, main, accent, inks);
  const fig = readFigure(blend, size, comp.zone, main, accent);
  if (!fig) return base;

  // Checks that can overrule the nearest template: drips for melting, eyes for plushies (unless glasses hide them).
  // A melting object is never stretched: a melting template that only fits stretched is a stretched plain object.
  const melts = (c: Body) => c.stretch > 0.77 && c.stretch < 1.3 && dripContrast(fig, size, foundOf(c), skip) >= DRIPS_THRESHOLD;
  const bodies = fig.bodies.map((b) => (b.template.melting ? refit(b, (c) => !c.template.melting || melts(c)) : b));
  let body = bodies[0];
  const evidenceOf = (b: Body) => accessoryEvidence(blend, size, fig.filled, foundOf(b), skip, { stretch: stretchOf(b.stretch), own: b.pixels, babyBeside: babyBeside(fig, b) });
  let readout = evidenceOf(body);
  if (body.template.objectClass === 'plushie') {
    const ev = readout.evidence;
    const glasses = ev.sunglasses >= ACCESSORY_THRESHOLD && Object.values(ev).every((v) => v <= ev.sunglasses);
    if (!glasses && eyeContrast(blend, size, foundOf(body), skip) < EYES_THRESHOLD) {
      body = refit(body, (c) => c.template.objectClass !== 'plushie' && !(c.template.melting && body.template.melting === false));
      readout = evidenceOf(body);
    }
  }
  bodies[0] = body;
  const activity = readActivity(bodies, readout);
  const t = body.template;
  const r = bodyRadius(body);
  const drawn = bodies.map((b) => foundOf(b).center);
  const center: [number, number] = [drawn.reduce((a, d) => a + d[0], 0) / drawn.length, drawn.reduce((a, d) => a + d[1], 0) / drawn.length];
  if (activity === 'bouncing') center[1] += BOUNCE_LIFT - BOUNCE_REST_DROP;
  // The object stands left of the position to make room for its baby.
  if (activity === 'baby') center[0] += BABY_SHIFT * r;
  return {
    ...base,
    found: true,
    objectClass: t.objectClass,
    ...(t.objectClass === 'plushie' ? { body: t.body } : {}),
    color: fig.color,
    size: r >= SIZE_THRESHOLD ? 'large' : 'small',
    position: positionOf(center[0], center[1]),
    activity,
    ...(hasAccessoryColor(activity) && accent > 0 ? { accessoryColor: COLORS[accent - 1] } : {}),
    center,
    radius: r,
    classDistance: body.distance,
    evidence: readout.evidence,
    unexplained: readout.unexplained,
    detail: { labels: blend.labels, filled: fig.filled, bodies, mainLabel: fig.mainLabel, size },
  };
}

export function readScene(image: ImageBatch, index = 0): SceneReading {
  const img = imageAt(image, index);
  if (img.width !== img.height || img.channels < 3) throw new Error(`the world oracle reads square RGB images, got ${img.width}x${img.height}x${img.channels}`);
  let data = img.data;
  if (img.channels !== 3) {
    data = new Float32Array(img.width * img.height * 3);
    for (let p = 0; p < img.width * img.height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = img.data[p * img.channels + c];
  }
  return readPixels({ size: img.width, data });
}

export function readScenes(images: ImageBatch): SceneReading[] {
  return Array.from({ length: images.count }, (_, i) => readScene(images, i));
}

/** The reading as a scene (defaults where nothing was read), e.g. to caption it or compare it with the truth. */
export function readingAsScene(r: SceneReading): Scene {
  return {
    objectClass: r.objectClass ?? 'circle',
    body: r.body ?? 'circle',
    color: r.color ?? 'red',
    size: r.size ?? 'large',
    position: r.position ?? 'center',
    context: r.context,
    companion: r.companion,
    companionSide: 'right',
    activity: r.activity ?? 'none',
    accessoryColor: r.accessoryColor ?? null,
    markings: [],
    jitter: NO_JITTER,
  };
}

/** The reading as the caption the world would give it. */
export function describeReading(r: SceneReading): string {
  if (!r.found) return `no object (${r.context}${r.companion === 'none' ? '' : `, ${r.companion}`})`;
  return caption(readingAsScene(r));
}
