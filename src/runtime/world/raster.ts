// A tiny anti-aliased rasterizer: regions are point-in-shape tests in image units ([0,1] x [0,1], y down) with a
// bounding box; coverage is the fraction of an ss x ss grid of samples inside. No canvas dependency, and the oracle
// rasterizes its templates with the very same code.
import type { RGB } from './palette.js';

export interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  inside(x: number, y: number): boolean;
}

/**
 * Calls visit(pixelIndex, coverage) for every pixel of a size x size grid the region touches. With ss >= 4 a pixel
 * whose four corner samples agree is taken as wholly in or out (no part of this world is thinner than a pixel), so
 * only edge pixels pay for the full grid.
 */
export function rasterize(region: Region, size: number, ss: number, visit: (index: number, coverage: number) => void): void {
  const px0 = Math.max(0, Math.floor(region.x0 * size));
  const px1 = Math.min(size - 1, Math.ceil(region.x1 * size) - 1);
  const py0 = Math.max(0, Math.floor(region.y0 * size));
  const py1 = Math.min(size - 1, Math.ceil(region.y1 * size) - 1);
  const step = 1 / (ss * size);
  const n = ss * ss;
  const lo = 0.5 * step, hi = (ss - 0.5) * step;
  for (let py = py0; py <= py1; py++) {
    const top = py / size;
    for (let px = px0; px <= px1; px++) {
      const left = px / size;
      if (ss >= 4) {
        const a = region.inside(left + lo, top + lo);
        if (a === region.inside(left + hi, top + lo) && a === region.inside(left + lo, top + hi) && a === region.inside(left + hi, top + hi)) {
          if (a) visit(py * size + px, 1);
          continue;
        }
      }
      let hits = 0;
      for (let j = 0; j < ss; j++) {
        const y = top + (j + 0.5) * step;
        for (let i = 0; i < ss; i++) if (region.inside(left + (i + 0.5) * step, y)) hits++;
      }
      if (hits > 0) visit(py * size + px, hits / n);
    }
  }
}

/** An RGB float image being painted, back to front. */
export class Canvas {
  readonly data: Float32Array;
  constructor(
    readonly size: number,
    readonly supersample = 4,
  ) {
    this.data = new Float32Array(size * size * 3);
  }

  fill(rgb: RGB): void {
    for (let p = 0; p < this.size * this.size; p++) this.data.set(rgb, p * 3);
  }

  /** Paints rgb over the region with the given opacity, anti-aliased by coverage. */
  paint(region: Region, rgb: RGB, opacity = 1): void {
    const d = this.data;
    rasterize(region, this.size, this.supersample, (p, cov) => {
      const a = cov * opacity;
      for (let c = 0; c < 3; c++) d[p * 3 + c] += a * (rgb[c] - d[p * 3 + c]);
    });
  }
}

const inBox = (r: Region, x: number, y: number) => x >= r.x0 && x <= r.x1 && y >= r.y0 && y <= r.y1;

/** Ellipse (rotation in radians), optionally with a concentric hole (ring) as a fraction of the radii. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, rotation = 0, hole = 0): Region {
  const c = Math.cos(rotation), s = Math.sin(rotation);
  const ex = Math.sqrt((rx * c) ** 2 + (ry * s) ** 2), ey = Math.sqrt((rx * s) ** 2 + (ry * c) ** 2);
  const h2 = hole * hole;
  return {
    x0: cx - ex,
    y0: cy - ey,
    x1: cx + ex,
    y1: cy + ey,
    inside(x, y) {
      const dx = x - cx, dy = y - cy;
      const u = (dx * c + dy * s) / rx, v = (-dx * s + dy * c) / ry;
      const q = u * u + v * v;
      return q <= 1 && q >= h2;
    },
  };
}

export function rect(x0: number, y0: number, x1: number, y1: number): Region {
  return { x0, y0, x1, y1, inside: (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1 };
}

/** Polygon with any number of rings, even-odd rule (a ring inside another is a hole). Points are [x, y] pairs. */
export function polygon(...rings: (readonly (readonly [number, number])[])[]): Region {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const flat = rings.map((ring) => {
    const f = new Float64Array(ring.length * 2);
    ring.forEach(([x, y], i) => {
      f[i * 2] = x;
      f[i * 2 + 1] = y;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    });
    return f;
  });
  const region: Region = {
    x0,
    y0,
    x1,
    y1,
    inside(x, y) {
      if (!inBox(region, x, y)) return false;
      let odd = false;
      for (const f of flat) {
        const n = f.length / 2;
        for (let i = 0, j = n - 1; i < n; j = i++) {
          const yi = f[i * 2 + 1], yj = f[j * 2 + 1];
          if (yi > y !== yj > y) {
            const xi = f[i * 2], xj = f[j * 2];
            if (x < xi + ((y - yi) * (xj - xi)) / (yj - yi)) odd = !odd;
          }
        }
      }
      return odd;
    },
  };
  return region;
}

/** A thick line segment with round ends. */
export function capsule(ax: number, ay: number, bx: number, by: number, radius: number): Region {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy || 1e-12;
  const r2 = radius * radius;
  return {
    x0: Math.min(ax, bx) - radius,
    y0: Math.min(ay, by) - radius,
    x1: Math.max(ax, bx) + radius,
    y1: Math.max(ay, by) + radius,
    inside(x, y) {
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
      const ex = x - ax - t * dx, ey = y - ay - t * dy;
      return ex * ex + ey * ey <= r2;
    },
  };
}

export function union(...parts: Region[]): Region {
  const region: Region = {
    x0: Math.min(...parts.map((p) => p.x0)),
    y0: Math.min(...parts.map((p) => p.y0)),
    x1: Math.max(...parts.map((p) => p.x1)),
    y1: Math.max(...parts.map((p) => p.y1)),
    inside: (x, y) => inBox(region, x, y) && parts.some((p) => inBox(p, x, y) && p.inside(x, y)),
  };
  return region;
}
