// Where everything in a scene goes: the object's placement(s) from size, position and activity; the accessories and
// companion around it; and whether the result fits (inside the frame, nothing colliding). The renderer paints these
// parts in order; the sampler rejects scenes whose layout does not fit.
import type { Shape } from './attributes.js';
import { type Placement, PLUSHIE_PARTS, localDisc, markingRegion, shapeOutline, shapeRegion } from './geometry.js';
import { BALL_TEAL, BLACK, BROWN, MARK_WHITE, OBJECT_RGB, type RGB, SHADOW, SUN_YELLOW, TREE_GREEN } from './palette.js';
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
/** Line widths that must survive a 32-pixel render (about one pixel). */
export const BAR_WIDTH = 0.045;

export type PartKind = 'companion' | 'shadow' | 'body' | 'marking' | 'eye' | 'accessory';
export interface Part {
  kind: PartKind;
  region: Region;
  rgb: RGB;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Layout {
  parts: Part[];
  /** One placement per drawn copy of the object (two for 'twin'). */
  bodies: Placement[];
  /** Everything but the companion. */
  figureBox: Box;
  companionBox: Box | null;
  fits: boolean;
  /** Why it does not fit. */
  problem?: string;
}

const boxOfPoints = (pts: [number, number][]): Box => ({
  x0: Math.min(...pts.map((p) => p[0])),
  y0: Math.min(...pts.map((p) => p[1])),
  x1: Math.max(...pts.map((p) => p[0])),
  y1: Math.max(...pts.map((p) => p[1])),
});
const joinBoxes = (bs: Box[]): Box => ({
  x0: Math.min(...bs.map((b) => b.x0)),
  y0: Math.min(...bs.map((b) => b.y0)),
  x1: Math.max(...bs.map((b) => b.x1)),
  y1: Math.max(...bs.map((b) => b.y1)),
});
const overlaps = (a: Box, b: Box, margin: number) =>
  a.x0 - margin < b.x1 && b.x0 - margin < a.x1 && a.y0 - margin < b.y1 && b.y0 - margin < a.y1;

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
  return [base];
}

function companionParts(s: Scene): Part[] {
  const right = s.companionSide === 'right';
  switch (s.companion) {
    case 'none':
      return [];
    case 'sun': {
      const x = right ? 0.86 : 0.14, y = 0.14;
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

  const b = bodyBoxes[0];
  const p = bodies[0];
  const accessory = (region: Region, rgb: RGB = BLACK) => figure.push({ kind: 'accessory', region, rgb });
  switch (s.activity) {
    case 'hat':
      accessory(rect(p.cx - 0.62 * r, b.y0 - Math.max(0.1 * r, 0.02), p.cx + 0.62 * r, b.y0 + Math.max(0.06 * r, 0.012)));
      accessory(rect(p.cx - 0.4 * r, b.y0 - 0.8 * r, p.cx + 0.4 * r, b.y0 - 0.05 * r));
      break;
    case 'sunglasses': {
      // Lenses no smaller than about 1.3 pixels at 32, so small objects still wear readable glasses.
      const [lx, ly] = [Math.max(0.3 * r, 0.042), Math.max(0.22 * r, 0.034)];
      const lens = (side: number) => {
        const c = localDisc(p, side * 0.36, -0.2, 1);
        return ellipse((c.x0 + c.x1) / 2, (c.y0 + c.y1) / 2, lx, ly, p.rotation);
      };
      const [l, rr] = [lens(-1), lens(1)];
      accessory(union(l, rr, capsule((l.x0 + l.x1) / 2, (l.y0 + l.y1) / 2, (rr.x0 + rr.x1) / 2, (rr.y0 + rr.y1) / 2, Math.max(0.06 * r, 0.015))));
      break;
    }
    case 'skateboard': {
      const top = b.y1 + 0.012, deck = Math.max(0.12 * r, 0.045), wheel = Math.max(0.12 * r, 0.028);
      accessory(rect(p.cx - 0.95 * r, top, p.cx + 0.95 * r, top + deck), BROWN);
      accessory(union(ellipse(p.cx - 0.6 * r, top + deck + 0.8 * wheel, wheel, wheel), ellipse(p.cx + 0.6 * r, top + deck + 0.8 * wheel, wheel, wheel)));
      break;
    }
    case 'cage': {
      // Bars behind the object (drawn first, so the object stays whole at 32 pixels), frame around it.
      const f = joinBoxes(figure.map((q) => q.region));
      const m = 0.1 * r + 0.02, t = BAR_WIDTH / 2;
      const [X0, Y0, X1, Y1] = [f.x0 - m, f.y0 - m, f.x1 + m, f.y1 + m];
      const bars: Region[] = [rect(X0 - t, Y0 - t, X1 + t, Y0 + t), rect(X0 - t, Y1 - t, X1 + t, Y1 + t)];
      for (let k = 0; k <= 4; k++) {
        const x = X0 + (k * (X1 - X0)) / 4;
        bars.push(rect(x - t, Y0 - t, x + t, Y1 + t));
      }
      figure.unshift({ kind: 'accessory', region: union(...bars), rgb: BLACK });
      break;
    }
    case 'spinning': {
      const f = joinBoxes(figure.map((q) => q.region));
      const R = Math.max(f.x1 - f.x0, f.y1 - f.y0) / 2 + 0.07;
      const [fx, fy] = [(f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2];
      const segs: Region[] = [];
      for (const mid of [0, Math.PI])
        for (let k = 0; k < 6; k++) {
          const a0 = mid - 0.65 + (1.3 * k) / 6, a1 = mid - 0.65 + (1.3 * (k + 1)) / 6;
          segs.push(capsule(fx + R * Math.cos(a0), fy + R * Math.sin(a0), fx + R * Math.cos(a1), fy + R * Math.sin(a1), 0.022));
        }
      accessory(union(...segs));
      break;
    }
  }
  parts.push(...figure);

  const figureBox = joinBoxes(figure.map((q) => q.region));
  const companion = parts.filter((q) => q.kind === 'companion');
  const companionBox = companion.length ? joinBoxes(companion.map((q) => q.region)) : null;
  let problem: string | undefined;
  if (figureBox.x0 < 0.01 || figureBox.y0 < 0.01 || figureBox.x1 > 0.99 || figureBox.y1 > 0.99) problem = 'the object leaves the frame';
  else if (companionBox && overlaps(figureBox, companionBox, 0.02)) problem = 'the object collides with its companion';
  else if (bodies.length === 2) {
    const [a, b2] = figure.filter((q) => q.kind === 'body').map((q) => q.region);
    if (overlaps(a, b2, 0.03)) problem = 'the twins touch';
  }
  return { parts, bodies, figureBox, companionBox, fits: problem === undefined, problem };
}
