// Each activity's item drawing, by activity. Activities that only place or reshape the body (twin, baby, stretching,
// bouncing's lift, melting) have none here: layout.ts draws them with the body.
import type { Activity } from '../attributes.js';
import { type ItemContext, type Items } from './context.js';
import { box, bubble, cage, frame } from './enclosures.js';
import { balloon, flag, flower, umbrella } from './holding.js';
import { glowing, speeding, spinning } from './motions.js';
import { cart, skateboard } from './riding.js';
import { shadow } from './copies.js';
import { crown, hat, scarf, sunglasses } from './wearing.js';

export type { ItemContext, Items } from './context.js';

const ITEMS: Partial<Record<Activity, (c: ItemContext) => Items>> = {
  hat,
  crown,
  sunglasses,
  scarf,
  skateboard,
  cart,
  cage,
  box,
  bubble,
  frame,
  shadow,
  balloon,
  flag,
  umbrella,
  flower,
  spinning,
  speeding,
  glowing,
};

export function activityItems(c: ItemContext): Items {
  return ITEMS[c.s.activity]?.(c) ?? { behind: [], front: [] };
}
