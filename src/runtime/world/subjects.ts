// The personalization subjects (DreamBench's role): particular objects the base model never sees, each a class's
// shape with its own white markings, shown in a few reference images in different contexts. One is "rare": its class
// noun describes it badly (base plushies are round with ears; this one is a triangle), as the paper's Phryge is a
// triangular plushie, so its instance prompt carries a description ("a phr triangle plushie").
import { Rng } from '../onnx/random.js';
import { type ImageBatch } from '../engine/image.js';
import type { ColorName, Context, Marking, ObjectClass, PlushieBody } from './attributes.js';
import { renderScenes } from './render.js';
import { sampleScene } from './sample.js';
import type { Scene } from './scene.js';

export interface Subject {
  id: string;
  /** The suggested rare token, the paper's [V]. */
  identifier: string;
  classNoun: ObjectClass;
  /** The plushie body ('circle' for the other classes). */
  body: PlushieBody;
  color: ColorName;
  markings: readonly Marking[];
  /** Words that describe it in the world's language; used in the instance prompt only when `rare`. */
  description: string;
  rare: boolean;
  /** Reference contexts, one per reference image. */
  referenceContexts: readonly Context[];
}

export const SUBJECTS: readonly Subject[] = [
  {
    id: 'outlined-star',
    identifier: 'sks',
    classNoun: 'star',
    body: 'circle',
    color: 'yellow',
    markings: ['outline', 'center-dot'],
    description: 'yellow',
    rare: false,
    referenceContexts: ['plain', 'grass', 'blue-background', 'striped', 'beach'],
  },
  {
    id: 'checkered-square',
    identifier: 'zwx',
    classNoun: 'square',
    body: 'circle',
    color: 'blue',
    markings: ['checker'],
    description: 'blue',
    rare: false,
    referenceContexts: ['plain', 'snow', 'pink-background', 'grass', 'dotted'],
  },
  {
    id: 'striped-ring',
    identifier: 'vtx',
    classNoun: 'ring',
    body: 'circle',
    color: 'green',
    markings: ['stripes'],
    description: 'green',
    rare: false,
    referenceContexts: ['plain', 'pink-background', 'snow', 'beach'],
  },
  {
    id: 'dotted-heart',
    identifier: 'qlm',
    classNoun: 'heart',
    body: 'circle',
    color: 'purple',
    markings: ['polka-dots'],
    description: 'purple',
    rare: false,
    referenceContexts: ['plain', 'grass', 'striped', 'snow', 'blue-background', 'beach'],
  },
  {
    id: 'triangle-plushie',
    identifier: 'phr',
    classNoun: 'plushie',
    body: 'triangle',
    color: 'red',
    markings: ['belly'],
    description: 'triangle',
    rare: true,
    referenceContexts: ['plain', 'grass', 'blue-background', 'snow', 'dotted'],
  },
];

export function subjectById(id: string): Subject {
  const s = SUBJECTS.find((x) => x.id === id || x.identifier === id);
  if (!s) throw new Error(`unknown subject ${JSON.stringify(id)}; the world has ${SUBJECTS.map((x) => x.id).join(', ')}`);
  return s;
}

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The subject's own attributes, to pin when sampling a scene of it. */
export function subjectTraits(s: Subject): Pick<Scene, 'objectClass' | 'body' | 'color' | 'markings'> {
  return { objectClass: s.classNoun, body: s.body, color: s.color, markings: s.markings };
}

/** A random scene of the subject doing or being what `pinned` says. */
export function sampleSubjectScene(s: Subject, rng: Rng, pinned: Partial<Scene> = {}): Scene {
  return sampleScene(rng, { ...pinned, ...subjectTraits(s) });
}

/** The reference scenes: large, no activity, one per reference context, fixed per subject. */
export function subjectReferenceScenes(s: Subject): Scene[] {
  const rng = new Rng(seedOf(s.id));
  return s.referenceContexts.map((context, i) =>
    sampleSubjectScene(s, rng, { context, size: 'large', activity: 'none', ...(i === 0 ? { position: 'center', companion: 'none' } : {}) }),
  );
}

export function subjectReferences(s: Subject, imageSize = 32): { scenes: Scene[]; images: ImageBatch } {
  const scenes = subjectReferenceScenes(s);
  return { scenes, images: renderScenes(scenes, imageSize) };
}
