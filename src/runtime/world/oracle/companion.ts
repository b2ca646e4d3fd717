// Companions stand in fixed places (the layout puts them on the side away from the object), so each is read by
// the share of its color in the core of where it would be: a sun's yellow disc in a top corner, a tree's dark
// green crown and brown trunk at a side, a teal ball in a bottom corner.
import { COLORS, type Companion } from '../attributes.js';
import type { Box } from '../layout.js';
import { BROWN_LABEL, TEAL, TREE, colorLabel } from './labels.js';

export interface CompanionReading {
  companion: Companion;
  side: 'left' | 'right';
  /** Where the companion is drawn (with a margin): the object reader ignores it. */
  zone: Box | null;
  score: number;
}

const YELLOWISH = new Set([colorLabel(COLORS.indexOf('yellow')), colorLabel(COLORS.indexOf('orange'))]);

interface Zone {
  /** Box (image units) holding the zone. */
  box: [number, number, number, number];
  inside(x: number, y: number): boolean;
}

/** Fraction of the zone's pixels whose label passes `accept`. */
function share(labels: Uint8Array, size: number, zone: Zone, accept: (l: number) => boolean): number {
  let hit = 0, all = 0;
  const [x0, y0, x1, y1] = zone.box.map((v) => Math.min(size - 1, Math.max(0, Math.floor(v * size))));
  for (let py = y0; py <= y1; py++)
    for (let px = x0; px <= x1; px++) {
      if (!zone.inside((px + 0.5) / size, (py + 0.5) / size)) continue;
      all++;
      if (accept(labels[py * size + px])) hit++;
    }
  return all ? hit / all : 0;
}

const disc = (cx: number, cy: number, r: number): Zone => ({ box: [cx - r, cy - r, cx + r, cy + r], inside: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r });

export function readCompanion(labels: Uint8Array, size: number): CompanionReading {
  // At least a few pixels per core, whatever the resolution.
  const px = 1 / size;
  let best: CompanionReading = { companion: 'none', side: 'right', zone: null, score: 0 };
  for (const side of ['left', 'right'] as const) {
    const mirror = (x: number) => (side === 'right' ? x : 1 - x);
    const sun = share(labels, size, disc(mirror(0.86), 0.14, Math.max(0.045, 1.6 * px)), (l) => YELLOWISH.has(l));
    const crown = share(labels, size, disc(mirror(0.88), 0.42, Math.max(0.065, 2 * px)), (l) => l === TREE);
    const half = Math.max(0.012, 0.6 * px);
    const trunkZone: Zone = { box: [mirror(0.88) - half, 0.58, mirror(0.88) + half, 0.86], inside: (x, y) => Math.abs(x - mirror(0.88)) <= half && y >= 0.58 && y <= 0.86 };
    const trunk = share(labels, size, trunkZone, (l) => l === BROWN_LABEL);
    const ball = share(labels, size, disc(mirror(0.87), 0.83, Math.max(0.045, 1.6 * px)), (l) => l === TEAL);
    // Zones: the companion's drawn box plus 0.015 (the layout keeps the object 0.02 away from it).
    const zone = (x0: number, y0: number, x1: number, y1: number): Box =>
      side === 'right' ? { x0, y0, x1, y1 } : { x0: 1 - x1, y0, x1: 1 - x0, y1 };
    const found: [Companion, number, Box][] = [
      ['sun', sun, zone(0.712, 0, 1, 0.288)],
      ['tree', Math.min(crown, trunk), zone(0.765, 0.305, 1, 0.915)],
      ['ball', ball, zone(0.78, 0.74, 0.96, 0.92)],
    ];
    for (const [companion, score, z] of found) if (score >= 0.5 && score > best.score) best = { companion, side, zone: z, score };
  }
  return best;
}
