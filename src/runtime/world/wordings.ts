// Every phrase of the world in several wordings. The first wording of each is the canonical one (what `caption`
// says); training captions draw among all of them (`captionVariant`), so a text encoder learns that they mean the same
// picture, and `parsePrompt` maps each to the same claims. Wordings must not collide: no two attribute values share a
// wording, and a wording that is the start of a longer one means the same thing (phrases are matched longest first).
import type { Activity, ColoredAccessoryActivity, Companion, Context, Position } from './attributes.js';

export const ACTIVITY_WORDINGS: Record<Exclude<Activity, 'none'>, readonly string[]> = {
  hat: ['wearing a hat', 'with a hat on', 'in a hat'],
  skateboard: ['riding a skateboard', 'on a skateboard', 'skateboarding'],
  bouncing: ['bouncing', 'jumping', 'hopping'],
  'stretched-wide': ['stretched wide', 'stretched sideways', 'pulled wide'],
  cage: ['in a cage', 'inside a cage', 'behind bars'],
  sunglasses: ['wearing sunglasses', 'with sunglasses on', 'in sunglasses'],
  'stretched-tall': ['stretched tall', 'stretched upward', 'pulled tall'],
  twin: ['with its twin', 'beside its twin', 'next to its twin'],
  melting: ['melting', 'dripping', 'melting down'],
  spinning: ['spinning', 'twirling', 'whirling'],
  crown: ['wearing a crown', 'with a crown on', 'in a crown'],
  scarf: ['wearing a scarf', 'with a scarf on', 'in a scarf'],
  cart: ['riding a cart', 'riding in a cart', 'on a cart'],
  box: ['in a box', 'inside a box', 'sitting in a box'],
  bubble: ['in a bubble', 'inside a bubble', 'floating in a bubble'],
  frame: ['in a frame', 'inside a frame', 'in a picture frame'],
  shadow: ['with its shadow', 'casting a shadow', 'beside its shadow'],
  baby: ['with its baby', 'beside its baby', 'next to its baby'],
  balloon: ['holding a balloon', 'with a balloon', 'carrying a balloon'],
  flag: ['holding a flag', 'with a flag', 'waving a flag'],
  umbrella: ['holding an umbrella', 'with an umbrella', 'under an umbrella'],
  flower: ['holding a flower', 'with a flower', 'carrying a flower'],
  speeding: ['speeding', 'racing', 'zooming'],
  glowing: ['glowing', 'shining', 'gleaming'],
};

/** The word a colored accessory's color goes before ("wearing a red scarf", "with a red scarf on"). */
export const ACCESSORY_NOUNS: Record<ColoredAccessoryActivity, string> = { scarf: 'scarf', balloon: 'balloon' };

export const COMPANION_WORDINGS: Record<Exclude<Companion, 'none'>, readonly string[]> = {
  sun: ['under a sun', 'under the sun', 'beneath a sun'],
  tree: ['beside a tree', 'next to a tree', 'by a tree'],
  ball: ['next to a ball', 'beside a ball', 'by a ball'],
};

/** 'plain' has wordings prompts may use; captions leave the default unsaid. */
export const CONTEXT_WORDINGS: Record<Context, readonly string[]> = {
  plain: ['on a gray background', 'on a plain background', 'on a grey background'],
  'blue-background': ['on a blue background', 'against a blue background'],
  'pink-background': ['on a pink background', 'against a pink background'],
  striped: ['on a striped background', 'against stripes'],
  dotted: ['on a dotted background', 'on a spotted background'],
  snow: ['in the snow', 'in snowy weather', 'on the snow'],
  grass: ['on the grass', 'on a lawn'],
  beach: ['on the beach', 'at the beach', 'by the sea'],
};

export const POSITION_WORDINGS: Record<Position, readonly string[]> = {
  center: ['in the center'],
  left: ['on the left'],
  right: ['on the right'],
  top: ['at the top'],
  bottom: ['at the bottom'],
};

const canonical = <K extends string>(table: Record<K, readonly string[]>) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [k, (v as readonly string[])[0]])) as Record<K, string>;

export const ACTIVITY_PHRASES = canonical(ACTIVITY_WORDINGS);
export const COMPANION_PHRASES = canonical(COMPANION_WORDINGS);
export const CONTEXT_PHRASES = canonical(CONTEXT_WORDINGS);
export const POSITION_PHRASES = canonical(POSITION_WORDINGS);

/** A wording of a colored accessory with its color said before the item's noun, the article fitting the color ("with an
 * orange balloon"). */
export function withAccessoryColor(wording: string, activity: ColoredAccessoryActivity, color: string): string {
  const words = wording.split(' ');
  const at = words.indexOf(ACCESSORY_NOUNS[activity]);
  if (at < 0) throw new Error(`"${wording}" does not name its ${activity}`);
  if (at > 0 && (words[at - 1] === 'a' || words[at - 1] === 'an')) words[at - 1] = /^[aeiou]/.test(color) ? 'an' : 'a';
  words.splice(at, 0, color);
  return words.join(' ');
}
