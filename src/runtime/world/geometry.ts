// The outlines of the world's shapes in local units (radius ~1, y down, area centroid at the origin) and their
// placement in the image: world = center + diag(sx, sy) * rotate(rotation) * (r * local). Stretching acts along the
// image axes after rotation, so "stretched wide" is wide whatever the jitter.
import type { Marking, PlushieBody, Shape } from './attributes.js';
import { type Region, ellipse, polygon } from './raster.js';

export interface Placement {
  cx: number;
  cy: number;
  r: number;
  sx: number;
  sy: number;
  /** Radians. */
  rotation: number;
}

type Pt = readonly [number, number];

export function toWorld(p: Placement, lx: number, ly: number): [number, number] {
  const c = Math.cos(p.rotation), s = Math.sin(p.rotation);
  const x = p.r * (lx * c - ly * s), y = p.r * (lx * s + ly * c);
  return [p.cx + p.sx * x, p.cy + p.sy * y];
}

export function toLocal(p: Placement, x: number, y: number): [number, number] {
  const c = Math.cos(p.rotation), s = Math.sin(p.rotation);
  const u = (x - p.cx) / (p.sx * p.r), v = (y - p.cy) / (p.sy * p.r);
  return [u * c + v * s, -u * s + v * c];
}

function regular(n: number, radius: (k: number) => number, phase = -Math.PI / 2): Pt[] {
  return Array.from({ length: n }, (_, k) => {
    const a = phase + (2 * Math.PI * k) / n;
    return [radius(k) * Math.cos(a), radius(k) * Math.sin(a)] as const;
  });
}

function centered(points: Pt[]): Pt[] {
  // Area centroid of a simple polygon (shoelace), so the shape's mass sits on its placement center.
  let a = 0, cx = 0, cy = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i], [x1, y1] = points[(i + 1) % points.length];
    const cross = x0 * y1 - x1 * y0;
    a += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  cx /= 3 * a;
  cy /= 3 * a;
  return points.map(([x, y]) => [x - cx, y - cy] as const);
}

function heartOutline(): Pt[] {
  const pts: Pt[] = [];
  for (let k = 0; k < 48; k++) {
    const t = (2 * Math.PI * k) / 48;
    pts.push([Math.sin(t) ** 3, -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t)) / 16]);
  }
  return centered(pts).map(([x, y]) => [x * 1.12, y * 1.12] as const);
}

const CIRCLE_OUTLINE = regular(48, () => 1);
/** Polygon outlines (circle and ring are drawn as exact ellipses; these outlines serve extents and templates). */
export const OUTLINES: Record<Shape, readonly Pt[]> = {
  circle: CIRCLE_OUTLINE,
  ring: CIRCLE_OUTLINE,
  square: [[-0.86, -0.86], [0.86, -0.86], [0.86, 0.86], [-0.86, 0.86]],
  triangle: centered([[0, -1.3], [1.2, 0.65], [-1.2, 0.65]]),
  star: regular(10, (k) => (k % 2 === 0 ? 1.15 : 0.48)),
  cross: [
    [-0.33, -1], [0.33, -1], [0.33, -0.33], [1, -0.33], [1, 0.33], [0.33, 0.33],
    [0.33, 1], [-0.33, 1], [-0.33, 0.33], [-1, 0.33], [-1, -0.33], [-0.33, -0.33],
  ],
  heart: heartOutline(),
};

/** The ring's hole, as a fraction of its radius. */
export const RING_HOLE = 0.55;

/** The region of a shape; `grow` scales it about its center (outlines are drawn as a grown copy underneath). */
export function shapeRegion(shape: Shape, p: Placement, grow = 1): Region {
  if (shape === 'circle' || shape === 'ring') {
    // A circle stretched along the image axes is an axis-aligned ellipse whatever the rotation. A grown ring grows
    // inward as much as outward.
    const inner = shape === 'ring' ? Math.max(0, RING_HOLE - (grow - 1)) : 0;
    return ellipse(p.cx, p.cy, p.r * grow * p.sx, p.r * grow * p.sy, 0, inner / grow);
  }
  return polygon(OUTLINES[shape].map(([x, y]) => toWorld(p, x * grow, y * grow)));
}

/** The image-space outline points of a shape (for extents). */
export function shapeOutline(shape: Shape, p: Placement): [number, number][] {
  return OUTLINES[shape].map(([x, y]) => toWorld(p, x, y));
}

/** Where a plushie's ears and eyes sit on each body (local units): a triangle's eyes high enough to clear a scarf. */
export const PLUSHIE_PARTS: Record<PlushieBody, { ears: Pt; earRadius: number; eyes: Pt; eyeRadius: number }> = {
  circle: { ears: [0.64, -0.9], earRadius: 0.32, eyes: [0.34, -0.15], eyeRadius: 0.16 },
  square: { ears: [0.56, -1.02], earRadius: 0.3, eyes: [0.34, -0.2], eyeRadius: 0.16 },
  triangle: { ears: [0.42, -0.86], earRadius: 0.26, eyes: [0.26, -0.25], eyeRadius: 0.15 },
};

/** A circle of local radius `radius` at local (lx, ly), as placed (an ellipse when stretched). */
export function localDisc(p: Placement, lx: number, ly: number, radius: number): Region {
  const [x, y] = toWorld(p, lx, ly);
  return ellipse(x, y, radius * p.r * p.sx, radius * p.r * p.sy);
}

/** The white part a marking adds; `body` clips the markings painted on the body. */
export function markingRegion(marking: Marking, shape: Shape, p: Placement, body: Region): Region {
  const clip = (inside: (u: number, v: number) => boolean): Region => ({
    ...body,
    inside: (x, y) => {
      if (!body.inside(x, y)) return false;
      const [u, v] = toLocal(p, x, y);
      return inside(u, v);
    },
  });
  switch (marking) {
    case 'outline':
      return shapeRegion(shape, p, 1.28);
    case 'center-dot':
      return clip((u, v) => u * u + v * v <= 0.3 * 0.3);
    case 'checker':
      // 3 x 3 cells inside a body-colored border, corners and center colored: every white cell is enclosed by the
      // body, so the body still reads as one square.
      return clip((u, v) => Math.max(Math.abs(u), Math.abs(v)) < 0.62 && (Math.floor((u + 0.62) / 0.414) + Math.floor((v + 0.62) / 0.414)) % 2 === 1);
    case 'stripes': {
      // Two bands through the center, kept off the ring's edges: four white bars across a ring. Diagonal on a round
      // ring; on a stretched one they turn toward its long axis, where the ring stays thick enough to hold them.
      const angle = Math.atan2(p.sy, p.sx), [sin, cos] = [Math.sin(angle), Math.cos(angle)];
      return clip((u, v) => {
        const rr = Math.sqrt(u * u + v * v);
        return rr > 0.66 && rr < 0.89 && (Math.abs(u * sin - v * cos) < 0.184 || Math.abs(u * sin + v * cos) < 0.184);
      });
    }
    case 'polka-dots':
      return clip((u, v) =>
        ([[-0.38, -0.3], [0.38, -0.3], [0, 0.28]] as const).some(([a, b]) => (u - a) ** 2 + (v - b) ** 2 <= 0.17 * 0.17),
      );
    case 'belly':
      return clip((u, v) => (u / 0.4) ** 2 + ((v - 0.2) / 0.26) ** 2 <= 1);
  }
}
