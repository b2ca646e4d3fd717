// The world's language, in one place: the phrase for every attribute value, scene -> caption, prompt -> required
// attributes, and the vocabulary (every word a caption or prompt of this world can hold).
//
// Captions read like the paper's prompts: "a [V] [description] [class] [activity]" for subjects, and for the base
// world "a small red star wearing a hat under a sun on the grass on the left".
import {
  type Activity,
  COLORS,
  type ColorName,
  type Companion,
  type Context,
  OBJECT_CLASSES,
  type ObjectClass,
  PLUSHIE_BODIES,
  type Position,
  SHAPES,
  type Shape,
  SIZES,
  type Size,
} from './attributes.js';
import type { Scene } from './scene.js';
import { SUBJECTS } from './subjects.js';

export const ACTIVITY_PHRASES: Record<Exclude<Activity, 'none'>, string> = {
  hat: 'wearing a hat',
  skateboard: 'riding a skateboard',
  bouncing: 'bouncing',
  'stretched-wide': 'stretched wide',
  cage: 'in a cage',
  sunglasses: 'wearing sunglasses',
  'stretched-tall': 'stretched tall',
  twin: 'with its twin',
  melting: 'melting',
  spinning: 'spinning',
};

export const COMPANION_PHRASES: Record<Exclude<Companion, 'none'>, string> = {
  sun: 'under a sun',
  tree: 'beside a tree',
  ball: 'next to a ball',
};

/** 'plain' has a phrase prompts may use; captions leave the default unsaid. */
export const CONTEXT_PHRASES: Record<Context, string> = {
  plain: 'on a gray background',
  'blue-background': 'on a blue background',
  'pink-background': 'on a pink background',
  striped: 'on a striped background',
  dotted: 'on a dotted background',
  snow: 'in the snow',
  grass: 'on the grass',
  beach: 'on the beach',
};

export const POSITION_PHRASES: Record<Position, string> = {
  center: 'in the center',
  left: 'on the left',
  right: 'on the right',
  top: 'at the top',
  bottom: 'at the bottom',
};

export interface CaptionOptions {
  /** The subject's rare token, placed before the description and class noun ("a sks star"). */
  identifier?: string;
  /** Words between the identifier and the class noun ("triangle" in "a sks triangle plushie"). */
  description?: string;
  /** Say the size word (default true). */
  size?: boolean;
  /** Say the color word (default true; subjects' prompts leave it to the identifier). */
  color?: boolean;
}

/** The caption of a scene; every attribute that differs from the default is said once, in a fixed order. */
export function caption(s: Scene, o: CaptionOptions = {}): string {
  const words = ['a'];
  if (o.size ?? true) words.push(s.size);
  if (o.color ?? true) words.push(s.color);
  if (o.identifier) words.push(o.identifier);
  if (o.description) words.push(o.description);
  else if (s.objectClass === 'plushie' && s.body !== 'circle') words.push(s.body);
  words.push(s.objectClass);
  if (s.activity !== 'none') words.push(ACTIVITY_PHRASES[s.activity]);
  if (s.companion !== 'none') words.push(COMPANION_PHRASES[s.companion]);
  if (s.context !== 'plain') words.push(CONTEXT_PHRASES[s.context]);
  if (s.position !== 'center') words.push(POSITION_PHRASES[s.position]);
  return words.join(' ');
}

/** One checkable claim of a prompt. */
export type Requirement =
  | { attribute: 'class'; value: ObjectClass }
  | { attribute: 'body'; value: Shape }
  | { attribute: 'color'; value: ColorName }
  | { attribute: 'size'; value: Size }
  | { attribute: 'position'; value: Position }
  | { attribute: 'context'; value: Context }
  | { attribute: 'companion'; value: Exclude<Companion, 'none'> }
  | { attribute: 'activity'; value: Exclude<Activity, 'none'> };

export interface ParsedPrompt {
  requirements: Requirement[];
  /** Words that are no attribute: the subject's identifier, or words outside the world's language. */
  identifiers: string[];
}

type PhraseEntry = { words: string[]; requirement: Requirement };
const PHRASES: PhraseEntry[] = [
  ...Object.entries(ACTIVITY_PHRASES).map(([value, p]) => ({ words: p.split(' '), requirement: { attribute: 'activity', value } as Requirement })),
  ...Object.entries(COMPANION_PHRASES).map(([value, p]) => ({ words: p.split(' '), requirement: { attribute: 'companion', value } as Requirement })),
  ...Object.entries(CONTEXT_PHRASES).map(([value, p]) => ({ words: p.split(' '), requirement: { attribute: 'context', value } as Requirement })),
  ...Object.entries(POSITION_PHRASES).map(([value, p]) => ({ words: p.split(' '), requirement: { attribute: 'position', value } as Requirement })),
].sort((a, b) => b.words.length - a.words.length);

const ARTICLES = new Set(['a', 'an', 'the']);
const isOneOf = <T extends string>(list: readonly T[], w: string): w is T => (list as readonly string[]).includes(w);

/** Words of a prompt: lowercased, punctuation dropped. */
export function promptWords(prompt: string): string[] {
  return prompt.toLowerCase().replace(/[^a-z0-9\s-]/g, ' ').split(/\s+/).filter(Boolean);
}

/**
 * What a prompt claims. Multi-word phrases are matched first (longest first), so "on a blue background" is a context
 * and never the color blue; the head noun is the last class noun, and a shape word right before "plushie" is its body.
 */
export function parsePrompt(prompt: string): ParsedPrompt {
  const words = promptWords(prompt);
  const used = new Array(words.length).fill(false);
  const requirements: Requirement[] = [];
  const seen = new Set<string>();
  const add = (r: Requirement) => {
    const key = `${r.attribute}:${r.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      requirements.push(r);
    }
  };
  for (let i = 0; i < words.length; i++) {
    if (used[i]) continue;
    const hit = PHRASES.find((p) => p.words.every((w, k) => words[i + k] === w && !used[i + k]));
    if (!hit) continue;
    for (let k = 0; k < hit.words.length; k++) used[i + k] = true;
    add(hit.requirement);
  }
  let head = -1;
  for (let i = 0; i < words.length; i++) if (!used[i] && isOneOf(OBJECT_CLASSES, words[i])) head = i;
  const identifiers: string[] = [];
  const subject: Requirement[] = [];
  for (let i = 0; i < words.length; i++) {
    if (used[i]) continue;
    const w = words[i];
    if (i === head) subject.push({ attribute: 'class', value: w as ObjectClass });
    else if (head >= 0 && words[head] === 'plushie' && i === head - 1 && isOneOf(SHAPES, w)) subject.push({ attribute: 'body', value: w });
    else if (isOneOf(COLORS, w)) subject.push({ attribute: 'color', value: w });
    else if (isOneOf(SIZES, w)) subject.push({ attribute: 'size', value: w });
    else if (!ARTICLES.has(w)) identifiers.push(w);
  }
  // The subject's own words first: class, body, color, size, then the phrases in prompt order.
  const order = ['class', 'body', 'color', 'size'];
  subject.sort((a, b) => order.indexOf(a.attribute) - order.indexOf(b.attribute));
  const phrases = requirements.splice(0);
  seen.clear();
  for (const r of [...subject, ...phrases]) add(r);
  return { requirements, identifiers };
}

/** Every word any caption or prompt of this world can contain, identifiers and subject descriptions included. */
export function worldVocabulary(): string[] {
  const words = new Set<string>(['a', 'an', 'the']);
  const addText = (t: string) => t.split(/\s+/).filter(Boolean).forEach((w) => words.add(w));
  [...OBJECT_CLASSES, ...PLUSHIE_BODIES, ...COLORS, ...SIZES].forEach(addText);
  [ACTIVITY_PHRASES, COMPANION_PHRASES, CONTEXT_PHRASES, POSITION_PHRASES].forEach((table) => Object.values(table).forEach(addText));
  for (const s of SUBJECTS) [s.identifier, s.description, s.classNoun].forEach(addText);
  return [...words].sort();
}

