// Evaluation prompt sets: which prompts a personalized model is judged on. Built in: DreamBench's 25 prompts per
// subject (google/dreambooth dataset/prompts_and_classes.txt) with its 30 subjects, and InstructBooth's RL training
// prompts for DreamBench (paper, Appendix G: never the evaluation prompts); the paper's own action-phrase style
// ("a [V] [class] [action]", Section 5.1 / Appendix A); the generated world's evaluation prompts (seen and unseen
// activities, contexts, companions, colors); and a user's own set from a text file. Every prompt carries its form
// without the identifier, which CLIP-T-style metrics score.
import { readFileSync } from 'node:fs';
import { SEEN_ACTIVITIES } from '../world/attributes.js';
import { ACTIVITY_PHRASES } from '../world/wordings.js';
import { subjectPrompts } from '../world/prompts.js';
import { removeIdentifier } from './metrics.js';
import { SUBJECTS, type Subject } from '../world/subjects.js';

export interface EvalPromptEntry {
  /** The prompt with the identifier ("a sks dog in the jungle"). */
  prompt: string;
  /** The same prompt without the identifier ("a dog in the jungle"). */
  withoutIdentifier: string;
  /** A group to report separately ("recontextualization", "unseen-activity", ...). */
  kind?: string;
}

export interface EvalPromptSet {
  name: string;
  prompts: EvalPromptEntry[];
}

export interface PromptSetSubject {
  /** The rare token, the paper's [V] ("sks"). */
  identifier: string;
  classNoun: string;
  /** The rare subject's detailed description ("triangle"). Evaluation prompts leave it out, as the paper's do (it
   * belongs to the stage-1 instance prompt); for the world's sets it helps pick the subject. */
  description?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Templates: "{V}" is the identifier, "{class}" the class noun.

/** A template filled in both ways: with the identifier and without it (whitespace collapsed). */
export function fillTemplate(template: string, identifier: string, classNoun: string, kind?: string): EvalPromptEntry {
  const fill = (v: string) => squash(template.replaceAll('{V}', v).replaceAll('{class}', classNoun));
  return { prompt: fill(identifier), withoutIdentifier: fill(''), ...(kind ? { kind } : {}) };
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

function checkSubject(o: PromptSetSubject, what: string): { identifier: string; classNoun: string } {
  const identifier = String(o.identifier ?? '').trim();
  const classNoun = String(o.classNoun ?? '').trim();
  if (!identifier) throw new Error(`${what}: the identifier must not be empty`);
  if (!classNoun) throw new Error(`${what}: the class noun must not be empty`);
  for (const [name, v] of [['identifier', identifier], ['class noun', classNoun]])
    if (/[\r\n]/.test(v)) throw new Error(`${what}: the ${name} must be a single line`);
  return { identifier, classNoun };
}

// ---------------------------------------------------------------------------------------------------------------
// (a) DreamBench

export type DreamBenchKind = 'object' | 'live';

/** Prompts 1-10, every subject: recontextualization. */
export const DREAMBENCH_SHARED_CONTEXTS = [
  'in the jungle',
  'in the snow',
  'on the beach',
  'on a cobblestone street',
  'on top of pink fabric',
  'on top of a wooden floor',
  'with a city in the background',
  'with a mountain in the background',
  'with a blue house in the background',
  'on top of a purple rug in a forest',
] as const;

/** Prompts 11-20 for objects: more recontextualization. */
export const DREAMBENCH_OBJECT_CONTEXTS = [
  'with a wheat field in the background',
  'with a tree and autumn leaves in the background',
  'with the Eiffel Tower in the background',
  'floating on top of water',
  'floating in an ocean of milk',
  'on top of green grass with sunflowers around it',
  'on top of a mirror',
  'on top of the sidewalk in a crowded street',
  'on top of a dirt road',
  'on top of a white rug',
] as const;

/** Prompts 11-20 for live subjects (dogs, cats): accessorization. */
export const DREAMBENCH_LIVE_ACCESSORIES = [
  'wearing a red hat',
  'wearing a santa hat',
  'wearing a rainbow scarf',
  'wearing a black top hat and a monocle',
  'in a chef outfit',
  'in a firefighter outfit',
  'in a police outfit',
  'wearing pink glasses',
  'wearing a yellow shirt',
  'in a purple wizard outfit',
] as const;

/** Prompts 21-25, every subject: property modification (the words go before the identifier). */
export const DREAMBENCH_PROPERTIES = ['red', 'purple', 'shiny', 'wet', 'cube shaped'] as const;

/** The kinds DreamBench's prompts fall in (the paper's Appendix G names them). */
export const DREAMBENCH_KINDS = ['recontextualization', 'accessorization', 'property-modification'] as const;

/** The 25 DreamBench templates of a subject kind, in the dataset's order, with "{V}" and "{class}" placeholders. */
export function dreamBenchTemplates(kind: DreamBenchKind): { template: string; kind: (typeof DREAMBENCH_KINDS)[number] }[] {
  if (kind !== 'object' && kind !== 'live') throw new Error(`DreamBench subject kind must be 'object' or 'live', got ${JSON.stringify(kind)}`);
  const middle =
    kind === 'object'
      ? DREAMBENCH_OBJECT_CONTEXTS.map((p) => ({ template: `a {V} {class} ${p}`, kind: 'recontextualization' as const }))
      : DREAMBENCH_LIVE_ACCESSORIES.map((p) => ({ template: `a {V} {class} ${p}`, kind: 'accessorization' as const }));
  return [
    ...DREAMBENCH_SHARED_CONTEXTS.map((p) => ({ template: `a {V} {class} ${p}`, kind: 'recontextualization' as const })),
    ...middle,
    ...DREAMBENCH_PROPERTIES.map((p) => ({ template: `a ${p} {V} {class}`, kind: 'property-modification' as const })),
  ];
}

/** DreamBench's 25 evaluation prompts for one subject ("a sks dog in the jungle", ..., "a cube shaped sks dog"). */
export function dreamBenchPrompts(identifier: string, classNoun: string, kind: DreamBenchKind): EvalPromptEntry[] {
  const s = checkSubject({ identifier, classNoun }, `DreamBench ${kind} prompts`);
  return dreamBenchTemplates(kind).map((t) => fillTemplate(t.template, s.identifier, s.classNoun, t.kind));
}

export interface DreamBenchSubject {
  /** The dataset folder name. */
  name: string;
  classNoun: string;
  kind: DreamBenchKind;
}

const subjects = (kind: DreamBenchKind, classNoun: string, ...names: string[]): DreamBenchSubject[] => names.map((name) => ({ name, classNoun, kind }));

/** DreamBench's 30 subjects: 21 objects and 9 live subjects (cats and dogs). */
export const DREAMBENCH_SUBJECTS: readonly DreamBenchSubject[] = [
  ...subjects('object', 'backpack', 'backpack', 'backpack_dog'),
  ...subjects('object', 'stuffed animal', 'bear_plushie', 'grey_sloth_plushie', 'wolf_plushie'),
  ...subjects('object', 'bowl', 'berry_bowl'),
  ...subjects('object', 'can', 'can'),
  ...subjects('object', 'candle', 'candle'),
  ...subjects('object', 'clock', 'clock'),
  ...subjects('object', 'teapot', 'teapot'),
  ...subjects('object', 'vase', 'vase'),
  ...subjects('live', 'cat', 'cat', 'cat2'),
  ...subjects('live', 'dog', 'dog', 'dog2', 'dog3', 'dog5', 'dog6', 'dog7', 'dog8'),
  ...subjects('object', 'sneaker', 'colorful_sneaker', 'shiny_sneaker'),
  ...subjects('object', 'toy', 'duck_toy', 'monster_toy', 'poop_emoji', 'rc_car', 'robot_toy'),
  ...subjects('object', 'boot', 'fancy_boot'),
  ...subjects('object', 'glasses', 'pink_sunglasses'),
  ...subjects('object', 'cartoon', 'red_cartoon'),
];

export function dreamBenchSubject(name: string): DreamBenchSubject {
  const s = DREAMBENCH_SUBJECTS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown DreamBench subject ${JSON.stringify(name)}; DreamBench has ${DREAMBENCH_SUBJECTS.map((x) => x.name).join(', ')}`);
  return s;
}

/** InstructBooth's RL training phrases for DreamBench (Appendix G), for "a [V] [class] [phrase]" and "a [class]
 * [phrase]". None is a DreamBench evaluation prompt, so every evaluation prompt is unseen. */
export const DREAMBENCH_RL_PHRASES: Readonly<Record<DreamBenchKind, readonly string[]>> = {
  object: ['with a church in the background', 'on top of blue sofa'],
  live: ['in a nurse outfit', 'on top of blue sofa'],
};

/** The RL training prompts of a DreamBench subject, both forms the paper mixes. */
export function dreamBenchTrainingPrompts(identifier: string, classNoun: string, kind: DreamBenchKind): { activities: string[]; withIdentifier: string[]; withoutIdentifier: string[] } {
  const s = checkSubject({ identifier, classNoun }, `DreamBench ${kind} training prompts`);
  if (kind !== 'object' && kind !== 'live') throw new Error(`DreamBench subject kind must be 'object' or 'live', got ${JSON.stringify(kind)}`);
  const filled = DREAMBENCH_RL_PHRASES[kind].map((p) => fillTemplate(`a {V} {class} ${p}`, s.identifier, s.classNoun));
  return { activities: [...DREAMBENCH_RL_PHRASES[kind]], withIdentifier: filled.map((f) => f.prompt), withoutIdentifier: filled.map((f) => f.withoutIdentifier) };
}

// ---------------------------------------------------------------------------------------------------------------
// (b) The paper's action phrases

export interface ActionPhrase {
  phrase: string;
  /** The paper sorts its phrases into activities ("playing soccer") and interactions ("with popcorn in it"). */
  kind: 'activity' | 'interaction';
  /** Where the paper names it. */
  source: string;
}

/**
 * Every action phrase the paper's text names. The paper's evaluation set (8 subjects x 5 phrases, 40 prompts) is a
 * figure (Figure 9) whose full table is not in the text; these are the phrases the text quotes from it and from the
 * figures of seen and unseen prompts, in the order they appear.
 */
export const ACTION_PHRASES: readonly ActionPhrase[] = [
  { phrase: 'playing tennis', kind: 'activity', source: 'Section 1, Figure 2; Appendix C' },
  { phrase: 'doing taekwondo', kind: 'activity', source: 'Section 1, Figure 2' },
  { phrase: 'cooking a gourmet meal', kind: 'activity', source: 'Section 4.2, Figure 3 (an RL training prompt)' },
  { phrase: 'playing soccer', kind: 'activity', source: 'Section 5.1; Appendix A' },
  { phrase: 'inserting a pen', kind: 'interaction', source: 'Section 5.1' },
  { phrase: 'cooking', kind: 'activity', source: 'Section 5.2; Appendix A' },
  { phrase: 'dribbling the ball', kind: 'activity', source: 'Section 5.2 (a teddy bear dribbling the ball)' },
  { phrase: 'playing a guitar', kind: 'activity', source: 'Section 5.2, Figure 6 (unseen prompt)' },
  { phrase: 'wearing headphones', kind: 'activity', source: 'Section 5.2, Figure 6 (unseen prompt)' },
  { phrase: 'with the pens in it', kind: 'interaction', source: 'Section 5.4, Figure 8 (ablation target prompt)' },
  { phrase: 'riding a bike', kind: 'activity', source: 'Appendix A' },
  { phrase: 'floating on the water', kind: 'interaction', source: 'Appendix A' },
  { phrase: 'with popcorn in it', kind: 'interaction', source: 'Appendix A' },
];

/** The paper's 8 evaluation subjects, in its 4 groups of two (each group shares its five phrases). */
export const PAPER_ACTION_SUBJECT_GROUPS: readonly (readonly string[])[] = [
  ['cat', 'dog'],
  ['teddy bear', 'monster toy'],
  ['wooden pot', 'cup'],
  ['motorbike', 'bike'],
];

/** "a [V] [class] [action]" for each phrase (default: every phrase the paper names). */
export function actionPrompts(identifier: string, classNoun: string, phrases: readonly (string | ActionPhrase)[] = ACTION_PHRASES): EvalPromptEntry[] {
  const s = checkSubject({ identifier, classNoun }, 'action prompts');
  return phrases.map((p) => {
    const a = typeof p === 'string' ? { phrase: p.trim(), kind: undefined } : p;
    if (!a.phrase) throw new Error('action prompts: an action phrase is empty');
    return fillTemplate(`a {V} {class} ${a.phrase}`, s.identifier, s.classNoun, a.kind);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// (c) The world's prompts

/** The world subject a prompt set is for: by class noun (then identifier, then description), else by identifier. */
export function worldSubjectFor(o: PromptSetSubject & { subjectId?: string }): Subject {
  if (o.subjectId) {
    const s = SUBJECTS.find((x) => x.id === o.subjectId || x.identifier === o.subjectId);
    if (!s) throw new Error(`unknown world subject ${JSON.stringify(o.subjectId)}; the world has ${SUBJECTS.map((x) => x.id).join(', ')}`);
    return s;
  }
  const classNoun = String(o.classNoun ?? '').trim();
  const byClass = SUBJECTS.filter((x) => x.classNoun === classNoun);
  const pick =
    byClass.find((x) => x.identifier === o.identifier) ??
    byClass.find((x) => !!o.description && x.description === o.description.trim()) ??
    byClass[0];
  if (pick) return pick;
  throw new Error(
    `the world's prompt sets are for its subjects, and none has class noun ${JSON.stringify(classNoun)}; ` +
      `the world's subjects: ${SUBJECTS.map((x) => `${x.id} ("${x.identifier}" ${x.classNoun})`).join(', ')}`,
  );
}

/** The world's evaluation prompts of a subject, with the given identifier in place of the subject's own. */
export function worldPrompts(o: PromptSetSubject & { subjectId?: string }, which: 'all' | 'seen' | 'unseen' = 'all'): EvalPromptEntry[] {
  const { identifier } = checkSubject(o, 'world prompts');
  const subject = worldSubjectFor(o);
  const entries = subjectPrompts({ ...subject, identifier }).evaluation.map((e) => ({ prompt: e.prompt, withoutIdentifier: e.withoutIdentifier, kind: e.kind as string }));
  // Seen: the activities RL fine-tuning trains on. Unseen: every other evaluation prompt (unseen activities, contexts,
  // companions, colors), none of which RL ever sees.
  if (which === 'seen') return entries.filter((e) => e.kind === 'seen-activity');
  if (which === 'unseen') return entries.filter((e) => e.kind !== 'seen-activity');
  return entries;
}

/** The world's RL training activity phrases (the seen activities). */
export const WORLD_SEEN_PHRASES: readonly string[] = SEEN_ACTIVITIES.map((a) => ACTIVITY_PHRASES[a]);

// ---------------------------------------------------------------------------------------------------------------
// Built-in sets by name

export const EVAL_PROMPT_SET_NAMES = ['world', 'world-seen', 'world-unseen', 'dreambench-object', 'dreambench-live', 'actions'] as const;
export type EvalPromptSetName = (typeof EVAL_PROMPT_SET_NAMES)[number];

/** One line per built-in set, for tooltips. */
export const EVAL_PROMPT_SET_DESCRIPTIONS: Readonly<Record<EvalPromptSetName, string>> = {
  world: "The world subject's evaluation prompts: seen and unseen activities, contexts, companions, colors.",
  'world-seen': "The world subject's prompts over the activities RL trains on.",
  'world-unseen': "The world subject's prompts RL never trains on: unseen activities, contexts, companions, colors.",
  'dreambench-object': "DreamBench's 25 prompts for an object (recontextualization, property modification).",
  'dreambench-live': "DreamBench's 25 prompts for a live subject, a dog or cat (recontextualization, accessorization, property modification).",
  actions: "The paper's action-phrase prompts, \"a [V] [class] [action]\" (activities and interactions).",
};

export function isEvalPromptSetName(name: unknown): name is EvalPromptSetName {
  return typeof name === 'string' && (EVAL_PROMPT_SET_NAMES as readonly string[]).includes(name);
}

export function evalPromptSet(name: EvalPromptSetName, o: PromptSetSubject & { subjectId?: string }): EvalPromptSet {
  switch (name) {
    case 'world':
      return { name, prompts: worldPrompts(o, 'all') };
    case 'world-seen':
      return { name, prompts: worldPrompts(o, 'seen') };
    case 'world-unseen':
      return { name, prompts: worldPrompts(o, 'unseen') };
    case 'dreambench-object':
      return { name, prompts: dreamBenchPrompts(o.identifier, o.classNoun, 'object') };
    case 'dreambench-live':
      return { name, prompts: dreamBenchPrompts(o.identifier, o.classNoun, 'live') };
    case 'actions':
      return { name, prompts: actionPrompts(o.identifier, o.classNoun) };
    default:
      throw new Error(`unknown evaluation prompt set ${JSON.stringify(name)}; built in: ${EVAL_PROMPT_SET_NAMES.join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (d) A user's own set

const IDENTIFIER_PLACEHOLDERS = ['v', '*', 'identifier'];
const CLASS_PLACEHOLDERS = ['class', 'class noun', 'class_noun', 'classnoun'];

/**
 * Parses a prompt list: one prompt per line; `#` starts a comment (a whole line, or the rest of a line after a space);
 * blank lines are skipped. `{V}` / `[V]` (also `{identifier}`, `[*]`) become the identifier and `{class}` / `[class]`
 * (also `{class noun}`) the class noun; any other `{...}` is an error, any other `[...]` stays as written. A prompt
 * without placeholders ("a sks dog on the beach") is kept as written, and its form without the identifier drops the
 * identifier's word(s). `source` names the text in errors ("prompts.txt:3: ...").
 */
export function parsePromptList(text: string, o: PromptSetSubject, source = 'prompt list'): EvalPromptEntry[] {
  const identifier = String(o.identifier ?? '').trim();
  const classNoun = String(o.classNoun ?? '').trim();
  const out: EvalPromptEntry[] = [];
  const lines = String(text).replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const where = `${source}:${i + 1}`;
    const hash = raw.search(/(^|\s)#/);
    const line = squash(hash >= 0 ? raw.slice(0, hash) : raw);
    if (!line) return;
    let usesIdentifier = false;
    const fill = (v: string) =>
      line.replace(/\{([^{}]*)\}|\[([^[\]]*)\]/g, (match, curly: string | undefined, square: string | undefined) => {
        const key = (curly ?? square ?? '').trim().toLowerCase();
        if (IDENTIFIER_PLACEHOLDERS.includes(key)) {
          usesIdentifier = true;
          if (!identifier) throw new Error(`${where}: "${match}" needs an identifier, and none was given`);
          return v;
        }
        if (CLASS_PLACEHOLDERS.includes(key)) {
          if (!classNoun) throw new Error(`${where}: "${match}" needs a class noun, and none was given`);
          return classNoun;
        }
        // Square brackets around anything else are the prompt's own text (some prompt syntaxes use them).
        if (square !== undefined) return match;
        throw new Error(`${where}: unknown placeholder "${match}"; use {V} (or [V]) for the identifier and {class} (or [class]) for the class noun`);
      });
    const prompt = squash(fill(identifier));
    if (!prompt) throw new Error(`${where}: the prompt is empty after substitution`);
    if (usesIdentifier) out.push({ prompt, withoutIdentifier: squash(fill('')) });
    else out.push({ prompt, withoutIdentifier: removeIdentifier(prompt, identifier) });
  });
  if (out.length === 0) throw new Error(`${source}: no prompts (one per line; blank lines and # comments are skipped)`);
  return out;
}

/** A prompt set from a text file (see parsePromptList); named after the file. */
export function promptSetFromFile(file: string, o: PromptSetSubject): EvalPromptSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `prompt file ${file} does not exist` : `cannot read prompt file ${file}: ${(e as Error).message}`);
  }
  return { name: file.split(/[\\/]/).pop() || file, prompts: parsePromptList(text, o, file) };
}
