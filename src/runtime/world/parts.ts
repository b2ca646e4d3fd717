// What a layout is made of: painted parts (a region, a color, and what kind of thing it is) and the boxes the layout's
// fit checks compare. Shared by the layout and the activities' item drawings.
import type { RGB } from './palette.js';
import type { Region } from './raster.js';

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

export const boxOfPoints = (pts: [number, number][]): Box => ({
  x0: Math.min(...pts.map((p) => p[0])),
  y0: Math.min(...pts.map((p) => p[1])),
  x1: Math.max(...pts.map((p) => p[0])),
  y1: Math.max(...pts.map((p) => p[1])),
});
export const joinBoxes = (bs: Box[]): Box => ({
  x0: Math.min(...bs.map((b) => b.x0)),
  y0: Math.min(...bs.map((b) => b.y0)),
  x1: Math.max(...bs.map((b) => b.x1)),
  y1: Math.max(...bs.map((b) => b.y1)),
});
export const overlaps = (a: Box, b: Box, margin: number) =>
  a.x0 - margin < b.x1 && b.x0 - margin < a.x1 && a.y0 - margin < b.y1 && b.y0 - margin < a.y1;

/** Line widths that must survive a 32-pixel render (about one pixel). */
export const BAR_WIDTH = 0.045;
