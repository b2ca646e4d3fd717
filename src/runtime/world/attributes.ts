// The world's closed set of attribute values. Everything else (drawing, captions, parsing, the oracle) is keyed by
// these ids, so adding a value here and in its one drawing/phrase table is the whole change.

export const OBJECT_CLASSES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'heart', 'plushie'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];

/** Shapes a drawn figure can take: the plain classes' outlines, reused as plushie bodies. */
export const SHAPES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'heart'] as const;
export type Shape = (typeof SHAPES)[number];

/** Plushie bodies the base model is trained on: 'circle' is the default ("a plushie"), and "a square plushie" teaches
 * that a shape word before "plushie" shapes its body. (Star and heart bodies were dropped: a blurred star's notches
 * and a heart's lobes pass for ears.) */
export const BASE_PLUSHIE_BODIES = ['circle', 'square'] as const;
/** Every plushie body the world can draw. 'triangle' is held out of base training: the rare subject has it. */
export const PLUSHIE_BODIES = ['circle', 'square', 'triangle'] as const;
export type PlushieBody = (typeof PLUSHIE_BODIES)[number];

// Hues far apart in RGB (the closest pair, orange/yellow, is 0.34 apart) so that a small VAE's shifts keep them apart.
export const COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'white'] as const;
export type ColorName = (typeof COLORS)[number];

export const SIZES = ['small', 'large'] as const;
export type Size = (typeof SIZES)[number];

export const POSITIONS = ['center', 'left', 'right', 'top', 'bottom'] as const;
export type Position = (typeof POSITIONS)[number];

/** 'plain' is the unmentioned default: a mid-gray background. */
export const CONTEXTS = ['plain', 'blue-background', 'pink-background', 'striped', 'dotted', 'snow', 'grass', 'beach'] as const;
export type Context = (typeof CONTEXTS)[number];

export const COMPANIONS = ['none', 'sun', 'tree', 'ball'] as const;
export type Companion = (typeof COMPANIONS)[number];

export const ACTIVITIES = [
  'none',
  // v1's ten, in v1's order (a shipped model was trained on them).
  'hat',
  'skateboard',
  'bouncing',
  'stretched-wide',
  'cage',
  'sunglasses',
  'stretched-tall',
  'twin',
  'melting',
  'spinning',
  // v2's families fill in around them (docs/world-v2.md).
  'crown',
  'scarf',
  'cart',
  'box',
  'bubble',
  'frame',
  'shadow',
  'baby',
  'balloon',
  'flag',
  'umbrella',
  'flower',
  'speeding',
  'glowing',
] as const;
export type Activity = (typeof ACTIVITIES)[number];

/** Activities in families that share words and a visual part, so what a model learns of one carries to its siblings. */
export const ACTIVITY_FAMILIES = {
  wearing: ['hat', 'crown', 'sunglasses', 'scarf'],
  riding: ['skateboard', 'cart'],
  in: ['cage', 'box', 'bubble', 'frame'],
  stretched: ['stretched-wide', 'stretched-tall'],
  'with its': ['twin', 'shadow', 'baby'],
  holding: ['balloon', 'flag', 'umbrella', 'flower'],
  motions: ['bouncing', 'spinning', 'melting', 'speeding', 'glowing'],
} as const satisfies Record<string, readonly Exclude<Activity, 'none'>[]>;
export type ActivityFamily = keyof typeof ACTIVITY_FAMILIES;

/** The family an activity belongs to. */
export function familyOf(activity: Exclude<Activity, 'none'>): ActivityFamily {
  for (const [family, members] of Object.entries(ACTIVITY_FAMILIES)) if ((members as readonly string[]).includes(activity)) return family as ActivityFamily;
  throw new Error(`activity ${activity} has no family`);
}

/** Activities whose item carries a color claim ("wearing a red scarf"), as DreamBench's accessorization prompts do. */
export const COLORED_ACCESSORY_ACTIVITIES = ['scarf', 'balloon'] as const satisfies readonly Activity[];
export type ColoredAccessoryActivity = (typeof COLORED_ACCESSORY_ACTIVITIES)[number];
export const hasAccessoryColor = (a: Activity): a is ColoredAccessoryActivity => (COLORED_ACCESSORY_ACTIVITIES as readonly string[]).includes(a);

/** Colors a scarf or balloon comes in: the saturated object colors (white is the subjects' marking color, and a white
 * item would read as a marking). Never the object's own color, nor one its context hides. */
export const ACCESSORY_COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple'] as const satisfies readonly ColorName[];

/** Activities RL fine-tuning trains on; the rest are only evaluated (the paper's unseen prompts). Each unseen one has
 * a seen relative (sunglasses~hat, tall~wide, spinning~cage...) so generalization is plausible but not free. */
export const SEEN_ACTIVITIES = ['hat', 'skateboard', 'bouncing', 'stretched-wide', 'cage'] as const satisfies readonly Activity[];
export const UNSEEN_ACTIVITIES = ['sunglasses', 'stretched-tall', 'twin', 'melting', 'spinning'] as const satisfies readonly Activity[];

/** Subject-only surface markings (always white, drawn on or around the body). Base training never shows them. */
export const MARKINGS = ['outline', 'center-dot', 'checker', 'stripes', 'polka-dots', 'belly'] as const;
export type Marking = (typeof MARKINGS)[number];

/** Object colors a context hides (same or near color), so the generator never pairs them. */
export const CONTEXT_EXCLUDED_COLORS: Record<Context, readonly ColorName[]> = {
  plain: [],
  'blue-background': ['blue'],
  'pink-background': [],
  striped: [],
  dotted: ['white'],
  snow: ['white'],
  grass: ['green'],
  beach: ['blue'],
};
