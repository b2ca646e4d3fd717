// Where everything in a scene goes: the object's placement(s) from size, position and activity; the accessories and
// companion around it; and whether the result fits (inside the frame, nothing colliding). The renderer paints these
// parts in order; the sampler rejects scenes whose layout does not fit.
import type { Shape } from './attributes.js';
import { type Placement, PLUSHIE_PARTS, localDisc, markingRegion, shapeOutline, shapeRegion } from './geometry.js';
import { activityItems } from './items/index.js';
import { BALL_TEAL, BLACK, BROWN, MARK_WHITE, OBJECT_RGB, type RGB, SHADOW, SUN_YELLOW, TREE_GREEN } from './palette.js';
import { type Box, type Part, boxOfPoints, joinBoxes, overlaps } from './parts.js';
import { type Region, capsule, ellipse, rect, union } from './raster.js';
import type { Scene } from './scene.js';

export const SIZE_RADIUS = { small: 0.15, large: 0.23 } as const;
export const POSITION_CENTER = {
  center: [0.5, 0.5],
  left: [0.3, 0.5],
  right: [0.7, 0.5],
  top: [0.5, 0.3],
  bottom: [0.5, 0.7],
} as const;
/** Bouncing: the object rests a little lower and is drawn this much higher, above its shadow. */
export const BOUNCE_REST_DROP = 0.07;
export const BOUNCE_LIFT = 0.15;
/** Twin copies sit this far either side of the position (at least 1.25 radii). */
export const TWIN_OFFSET = 0.19;
export const STRETCH = { 'stretched-wide': [1.45, 0.62], 'stretched-tall': [0.62, 1.45] } as const;
/** Baby: half the size, its outline this far right of the object's (two pixels at 32, so that blur does not join
 * them), bottoms level; the object moves left by BABY_SHIFT radii so that the pair stays around the position. */
export const BABY_SCALE = 0.5;
export const BABY_GAP = 0.06;
export const BABY_SHIFT = 0.45;

export { BAR_WIDTH, type Box, type Part, type PartKind } from './parts.js';

export interface Layout {
  parts: Part[];
  /** One placement per drawn copy of the object (two for 'twin' and 'baby'). */
  bodies: Placement[];
  /** Everything but the companion. */
  figureBox: Box;
  companionBox: Box | null;
  fits: boolean;
  /** Why it does not fit. */
  problem?: string;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const tinted = (rgb: RGB, t: readonly number[]): RGB => [clamp01(rgb[0] + t[0]), clamp01(rgb[1] + t[1]), clamp01(rgb[2] + t[2])];

/** The shape whose outline the object's body has. */
export function bodyShape(s: Scene): Shape {
  return s.objectClass === 'plushie' ? s.body : s.objectClass;
}

/** The object's placement(s) before accessories. */
export function placements(s: Scene): Placement[] {
  const r = SIZE_RADIUS[s.size] * s.jitter.scale;
  let [cx, cy] = POSITION_CENTER[s.position];
  cx += s.jitter.dx;
  cy += s.jitter.dy;
  const [sx, sy] = s.activity === 'stretched-wide' || s.activity === 'stretched-tall' ? STRETCH[s.activity] : [1, 1];
  const base: Placement = { cx, cy, r, sx, sy, rotation: (s.jitter.rotation * Math.PI) / 180 };
  if (s.activity === 'bouncing') return [{ ...base, cy: cy + BOUNCE_REST_DROP - BOUNCE_LIFT }];
  if (s.activity === 'twin') return [{ ...base, cx: cx - Math.max(TWIN_OFFSET, 1.25 * r) }, { ...base, cx: cx + Math.max(TWIN_OFFSET, 1.25 * r) }];
  if (s.activity === 'baby') {
    const main = { ...base, cx: cx - BABY_SHIFT * r };
    const b = boxOfPoints(shapeOutline(bodyShape(s), main));
    return [main, { ...main, r: BABY_SCALE * r, cx: b.x1 + BABY_GAP + BABY_SCALE * (b.x1 - main.cx), cy: b.y1 - BABY_SCALE * (b.y1 - main.cy) }];
  }
  return [base];
}

/** Where a sun is drawn, on either side. */
export const sunCenter = (side: 'left' | 'right'): [number, number] => [side === 'right' ? 0.86 : 0.14, 0.14];
const SUN_REACH = 0.12;

/** A yellow or orange balloon where a sun stands (on either side) would pass for one: the sampler never draws it. */
function passesForSun(s: Scene, figure: Part[]): boolean {
  if (s.activity !== 'balloon' || (s.accessoryColor !== 'yellow' && s.accessoryColor !== 'orange')) return false;
  const item = figure.find((q) => q.kind === 'accessory' && q.rgb === OBJECT_RGB[s.accessoryColor!]);
  return !!item && (['left', 'right'] as const).some((side) => {
    const [x, y] = sunCenter(side);
    return overlaps(item.region, { x0: x - SUN_REACH, y0: y - SUN_REACH, x1: x + SUN_REACH, y1: y + SUN_REACH }, 0);
  });
}

function companionParts(s: Scene): Part[] {
  const right = s.companionSide === 'right';
  switch (s.companion) {
    case 'none':
      return [];
    case 'sun': {
      const [x, y] = sunCenter(s.companionSide);
      const rays = Array.from({ length: 8 }, (_, k) => {
        const a = (k * Math.PI) / 4 + Math.PI / 8;
        return capsule(x + 0.088 * Math.cos(a), y + 0.088 * Math.sin(a), x + 0.12 * Math.cos(a), y + 0.12 * Math.sin(a), 0.013);
      });
      return [{ kind: 'companion', region: union(ellipse(x, y, 0.062, 0.062), ...rays), rgb: SUN_YELLOW }];
    }
    case 'tree': {
      const x = right ? 0.88 : 0.12;
      return [
        { kind: 'companion', region: rect(x - 0.026, 0.48, x + 0.026, 0.9), rgb: BROWN },
        { kind: 'companion', region: ellipse(x, 0.42, 0.1, 0.1), rgb: TREE_GREEN },
      ];
    }
    case 'ball':
      return [{ kind: 'companion', region: ellipse(right ? 0.87 : 0.13, 0.83, 0.075, 0.075), rgb: BALL_TEAL }];
  }
}

export function layoutScene(s: Scene): Layout {
  const shape = bodyShape(s);
  const bodies = placements(s);
  const color = tinted(OBJECT_RGB[s.color], s.jitter.tint);
  const parts: Part[] = [...companionParts(s)];
  const figure: Part[] = [];
  const bodyBoxes = bodies.map((p) => boxOfPoints(shapeOutline(shape, p)));
  const r = bodies[0].r;

  if (s.activity === 'bouncing') {
    const p = bodies[0];
    const restBottom = bodyBoxes[0].y1 + BOUNCE_LIFT;
    figure.push({ kind: 'shadow', region: ellipse(p.cx, restBottom + 0.02, 0.75 * r, Math.max(0.13 * r, 0.028)), rgb: SHADOW });
  }
  bodies.forEach((p, i) => {
    const body = shapeRegion(shape, p);
    if (s.markings.includes('outline')) figure.push({ kind: 'marking', region: markingRegion('outline', shape, p, body), rgb: MARK_WHITE });
    const extra: Region[] = [];
    if (s.objectClass === 'plushie') {
      const { ears, earRadius } = PLUSHIE_PARTS[s.body];
      extra.push(localDisc(p, -ears[0], ears[1], earRadius), localDisc(p, ears[0], ears[1], earRadius));
    }
    if (s.activity === 'melting') {
      const bottom = bodyBoxes[i].y1;
      [[-0.45, 0.08], [0, 0.12], [0.45, 0.06]].forEach(([k, len]) => {
        const x = p.cx + k * r * p.sx;
        extra.push(capsule(x, p.cy + 0.25 * r, x, bottom + len, 0.022), ellipse(x, bottom + len + 0.008, 0.03, 0.03));
      });
    }
    figure.push({ kind: 'body', region: extra.length ? union(body, ...extra) : body, rgb: color });
    for (const m of s.markings) if (m !== 'outline') figure.push({ kind: 'marking', region: markingRegion(m, shape, p, body), rgb: MARK_WHITE });
    if (s.objectClass === 'plushie') {
      const { eyes, eyeRadius } = PLUSHIE_PARTS[s.body];
      figure.push({ kind: 'eye', region: union(localDisc(p, -eyes[0], eyes[1], eyeRadius), localDisc(p, eyes[0], eyes[1], eyeRadius)), rgb: BLACK });
    }
  });

  const body = figure.find((q) => q.kind === 'body')!.region;
  const items = activityItems({ s, shape, p: bodies[0], b: bodyBoxes[0], r, body, figure });
  figure.unshift(...items.behind);
  figure.push(...items.front);
  parts.push(...figure);

  const figureBox = joinBoxes(figure.map((q) => q.region));
  const companion = parts.filter((q) => q.kind === 'companion');
  const companionBox = companion.length ? joinBoxes(companion.map((q) => q.region)) : null;
  let problem: string | undefined;
  if (figureBox.x0 < 0.01 || figureBox.y0 < 0.01 || figureBox.x1 > 0.99 || figureBox.y1 > 0.99) problem = 'the object leaves the frame';
  else if (companionBox && overlaps(figureBox, companionBox, 0.02)) problem = 'the object collides with its companion';
  else if (passesForSun(s, figure)) problem = 'a yellow balloon stands where a sun would';
  else if (bodies.length === 2) {
    const [a, b2] = figure.filter((q) => q.kind === 'body').map((q) => q.region);
    if (overlaps(a, b2, 0.03)) problem = s.activity === 'baby' ? 'the baby touches the object' : 'the twins touch';
  }
  return { parts, bodies, figureBox, companionBox, fits: problem === undefined, problem };
}
