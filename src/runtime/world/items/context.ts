// What an activity's item drawing gets to work with, and what it gives back: parts in front of the object and parts
// behind it (painted before the object, so the object stays whole at 32 pixels).
import type { Shape } from '../attributes.js';
import type { Placement } from '../geometry.js';
import type { RGB } from '../palette.js';
import type { Box, Part } from '../parts.js';
import type { Region } from '../raster.js';
import type { Scene } from '../scene.js';

export interface ItemContext {
  s: Scene;
  shape: Shape;
  /** The (first) body's placement, its outline's box and its radius. */
  p: Placement;
  b: Box;
  r: number;
  /** The first body's region, plushie ears included (to find its edge). */
  body: Region;
  /** Everything of the figure drawn so far: a bouncing shadow, the bodies, their markings and eyes. */
  figure: Part[];
}

export interface Items {
  behind: Part[];
  front: Part[];
}

export const accessory = (region: Region, rgb: RGB): Part => ({ kind: 'accessory', region, rgb });
export const front = (...parts: Part[]): Items => ({ behind: [], front: parts });
export const behind = (...parts: Part[]): Items => ({ behind: parts, front: [] });
