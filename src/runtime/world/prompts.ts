// The prompts of InstructBooth in this world, in the paper's forms. Per subject: DreamBooth's instance prompt
// ("a sks star", or "a phr triangle plushie" for the rare subject, whose class noun alone describes it badly) and
// class prompt ("a star"); RL training prompts over the seen activities, with and without the identifier ("a sks star
// wearing a hat", "a star wearing a hat"); evaluation prompts with the identifier over seen and unseen activities,
// recontextualization (contexts, companions) and property change (colors), as DreamBench mixes them.
// Plus the base model's training set: random base-world scenes and their captions (no subject markings, no triangle
// plushie).
import { type ImageBatch } from '../engine/image.js';
import { Rng } from '../onnx/random.js';
import { type Activity, COLORS, COMPANIONS, CONTEXT_EXCLUDED_COLORS, CONTEXTS, SEEN_ACTIVITIES, UNSEEN_ACTIVITIES } from './attributes.js';
import { caption } from './grammar.js';
import { ACTIVITY_PHRASES, COMPANION_PHRASES, CONTEXT_PHRASES } from './wordings.js';
import { renderScenes } from './render.js';
import { sampleScene } from './sample.js';
import type { Scene } from './scene.js';
import { SUBJECTS, type Subject } from './subjects.js';

export type EvalKind = 'seen-activity' | 'unseen-activity' | 'context' | 'companion' | 'color';

export interface EvalPrompt {
  prompt: string;
  kind: EvalKind;
  /** The prompt without the identifier (what CLIP-T-style metrics score). */
  withoutIdentifier: string;
}

export interface SubjectPrompts {
  subjectId: string;
  identifier: string;
  classNoun: string;
  /** '' unless the subject is rare (then it goes into the instance prompt only, as in the paper). */
  description: string;
  instancePrompt: string;
  classPrompt: string;
  /** Activity phrases RL trains on. */
  trainActivities: string[];
  /** "a [V] [class] [activity]" per training activity. */
  trainWithIdentifier: string[];
  /** "a [class] [activity]", same order. */
  trainWithoutIdentifier: string[];
  evaluation: EvalPrompt[];
}

const a = (...words: string[]) => ['a', ...words].filter(Boolean).join(' ');

export function subjectPrompts(s: Subject): SubjectPrompts {
  const description = s.rare ? s.description : '';
  const trainActivities = SEEN_ACTIVITIES.map((x) => ACTIVITY_PHRASES[x]);
  const evalOf = (kind: EvalKind, tail: string, color = ''): EvalPrompt => ({
    prompt: a(color, s.identifier, s.classNoun, tail),
    kind,
    withoutIdentifier: a(color, s.classNoun, tail),
  });
  // Property change: two colors the subject is not.
  const otherColors = COLORS.filter((c) => c !== s.color && c !== 'white').slice(0, 2);
  return {
    subjectId: s.id,
    identifier: s.identifier,
    classNoun: s.classNoun,
    description,
    instancePrompt: a(s.identifier, description, s.classNoun),
    classPrompt: a(s.classNoun),
    trainActivities,
    trainWithIdentifier: trainActivities.map((act) => a(s.identifier, s.classNoun, act)),
    trainWithoutIdentifier: trainActivities.map((act) => a(s.classNoun, act)),
    evaluation: [
      ...SEEN_ACTIVITIES.map((x) => evalOf('seen-activity', ACTIVITY_PHRASES[x])),
      ...UNSEEN_ACTIVITIES.map((x) => evalOf('unseen-activity', ACTIVITY_PHRASES[x])),
      ...CONTEXTS.filter((c) => c !== 'plain' && !CONTEXT_EXCLUDED_COLORS[c].includes(s.color)).map((c) => evalOf('context', CONTEXT_PHRASES[c])),
      ...COMPANIONS.filter((c) => c !== 'none').map((c) => evalOf('companion', COMPANION_PHRASES[c])),
      ...otherColors.map((c) => evalOf('color', '', c)),
    ],
  };
}

export function allSubjectPrompts(): SubjectPrompts[] {
  return SUBJECTS.map(subjectPrompts);
}

/** The options the PromptSet node's builder takes, for one subject and a list of activities (default: seen). */
export function promptSetOptions(s: Subject, activities: readonly Activity[] = SEEN_ACTIVITIES) {
  return {
    identifier: s.identifier,
    classNoun: s.classNoun,
    description: s.rare ? s.description : '',
    activities: activities.filter((x): x is Exclude<Activity, 'none'> => x !== 'none').map((x) => ACTIVITY_PHRASES[x]),
  };
}

export interface BaseExamples {
  scenes: Scene[];
  captions: string[];
  images: ImageBatch;
}

export interface BaseExampleOptions {
  imageSize?: number;
  /** Fraction of captions that say the size word (default 0.5: prompts usually leave it out). */
  sizeMentionRate?: number;
  /**
   * Fraction of captions that say the color (default 1). Below 1, the model also learns color-free prompts ("a square
   * wearing a hat"), which DreamBooth's class prompt and InstructBooth's RL prompts without the identifier are. Drawn
   * from its own generator, so the scenes do not depend on it.
   */
  colorMentionRate?: number;
}

/** `count` base-model training scenes and their captions (no rendering). Same seed, same set. */
export function baseTrainingCaptions(count: number, seed: number, o: BaseExampleOptions = {}): Omit<BaseExamples, 'images'> {
  const rng = new Rng(seed);
  const colorRng = new Rng(seed ^ 0x5eed_c010);
  const scenes: Scene[] = [];
  const captions: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = sampleScene(rng);
    scenes.push(s);
    captions.push(caption(s, { size: rng.uniform() < (o.sizeMentionRate ?? 0.5), color: colorRng.uniform() < (o.colorMentionRate ?? 1) }));
  }
  return { scenes, captions };
}

/** `count` base-model training examples: random base-world scenes, their captions and renders. Same seed, same set. */
export function baseTrainingExamples(count: number, seed: number, o: BaseExampleOptions = {}): BaseExamples {
  const { scenes, captions } = baseTrainingCaptions(count, seed, o);
  return { scenes, captions, images: renderScenes(scenes, o.imageSize ?? 32) };
}

/** Seed of the base model's evaluation captions: no training set uses it. */
export const BASE_EVAL_SEED = 9_999;

/** The base model's evaluation set: fresh random scenes, captions without size words (what `bench -- world` scores). */
export function baseEvaluationCaptions(count: number): Omit<BaseExamples, 'images'> {
  return baseTrainingCaptions(count, BASE_EVAL_SEED, { sizeMentionRate: 0 });
}
