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
  hasAccessoryColor,
} from './attributes.js';
import type { Rng } from '../onnx/random.js';
import type { Scene } from './scene.js';
import { SUBJECTS } from './subjects.js';
import {
  ACTIVITY_WORDINGS,
  COMPANION_WORDINGS,
  CONTEXT_WORDINGS,
  POSITION_WORDINGS,
  withAccessoryColor,
} from './wordings.js';

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

/** Which wording of each phrase a caption uses: the canonical one, or one drawn at random. */
type Choose = (wordings: readonly string[]) => string;

function captionWords(s: Scene, o: CaptionOptions, choose: Choose): { subject: string[]; phrases: string[] } {
  const subject = ['a'];
  if (o.size ?? true) subject.push(s.size);
  if (o.color ?? true) subject.push(s.color);
  if (o.identifier) subject.push(o.identifier);
  if (o.description) subject.push(o.description);
  else if (s.objectClass === 'plushie' && s.body !== 'circle') subject.push(s.body);
  subject.push(s.objectClass);
  const phrases: string[] = [];
  if (s.activity !== 'none') {
    const wording = choose(ACTIVITY_WORDINGS[s.activity]);
    phrases.push(hasAccessoryColor(s.activity) && s.accessoryColor ? withAccessoryColor(wording, s.activity, s.accessoryColor) : wording);
  }
  if (s.companion !== 'none') phrases.push(choose(COMPANION_WORDINGS[s.companion]));
  if (s.context !== 'plain') phrases.push(choose(CONTEXT_WORDINGS[s.context]));
  if (s.position !== 'center') phrases.push(choose(POSITION_WORDINGS[s.position]));
  return { subject, phrases };
}

/** The caption of a scene; every attribute that differs from the default is said once, in a fixed order, each in
 * its canonical wording. A scarf's or balloon's color is always said. */
export function caption(s: Scene, o: CaptionOptions = {}): string {
  const { subject, phrases } = captionWords(s, o, (w) => w[0]);
  return [...subject, ...phrases].join(' ');
}

/** A caption of the scene in a random wording of each phrase, the trailing phrases in random order half the time:
 * what the text encoder trains on, so that every wording means the same picture. */
export function captionVariant(s: Scene, rng: Rng, o: CaptionOptions = {}): string {
  const { subject, phrases } = captionWords(s, o, (w) => w[rng.int(w.length)]);
  if (rng.uniform() < 0.5)
    for (let i = phrases.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [phrases[i], phrases[j]] = [phrases[j], phrases[i]];
    }
  return [...subject, ...phrases].join(' ');
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
  | { attribute: 'activity'; value: Exclude<Activity, 'none'> }
  /** The color a scarf or balloon is claimed to have ("holding a blue balloon"). */
  | { attribute: 'accessoryColor'; value: ColorName };

export interface ParsedPrompt {
  requirements: Requirement[];
  /** Words that are no attribute: the subject's identifier, or words outside the world's language. */
  identifiers: string[];
}

type PhraseEntry = { words: string[]; requirements: Requirement[] };

function phraseEntries(): PhraseEntry[] {
  const entries: PhraseEntry[] = [];
  const add = (text: string, ...requirements: Requirement[]) => entries.push({ words: text.split(' '), requirements });
  for (const [value, wordings] of Object.entries(ACTIVITY_WORDINGS)) {
    const activity = value as Exclude<Activity, 'none'>;
    for (const w of wordings) {
      add(w, { attribute: 'activity', value: activity });
      // Every color a prompt may give a scarf or balloon, white included (the world never draws one, but may be asked).
      if (hasAccessoryColor(activity)) for (const c of COLORS) add(withAccessoryColor(w, activity, c), { attribute: 'activity', value: activity }, { attribute: 'accessoryColor', value: c });
    }
  }
  for (const [value, wordings] of Object.entries(COMPANION_WORDINGS)) for (const w of wordings) add(w, { attribute: 'companion', value } as Requirement);
  for (const [value, wordings] of Object.entries(CONTEXT_WORDINGS)) for (const w of wordings) add(w, { attribute: 'context', value } as Requirement);
  for (const [value, wordings] of Object.entries(POSITION_WORDINGS)) for (const w of wordings) add(w, { attribute: 'position', value } as Requirement);
  return entries.sort((a, b) => b.words.length - a.words.length);
}
const PHRASES = phraseEntries();

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
    hit.requirements.forEach(add);
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
  [ACTIVITY_WORDINGS, COMPANION_WORDINGS, CONTEXT_WORDINGS, POSITION_WORDINGS].forEach((table) => Object.values(table).flat().forEach(addText));
  for (const s of SUBJECTS) [s.identifier, s.description, s.classNoun].forEach(addText);
  return [...words].sort();
}

