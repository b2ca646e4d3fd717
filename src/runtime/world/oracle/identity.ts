// Subject identity: is this the subject, not just an object of its class and color? Subjects differ from base
// objects by white markings (an outline, a center dot, checks, stripes, polka dots, a belly), so the identity feature
// is how much white sits on and around the body and where, coarsely (markings are a pixel or two at 32 pixels): the
// white fraction of a ring just outside (an outline), of the whole body, of its center, and of each quadrant, in the
// body's own normalized frame (so stretching does not move them). A subject's prototype is the mean signature of its
// reference images.
import { type ImageBatch } from '../../engine/image.js';
import type { Subject } from '../subjects.js';
import { subjectReferences } from '../subjects.js';
import { WHITE } from './labels.js';
import { moments } from './pixels.js';
import { type SceneReading, readScene } from './read-scene.js';

/** Outline, whole body, center, then the four quadrants (top-left, top-right, bottom-left, bottom-right). */
export const SIGNATURE_LENGTH = 7;

/** White-marking signature of the object a reading found (all zeros when none, or when the object is white). */
export function markingSignature(reading: SceneReading): Float32Array {
  const sig = new Float32Array(SIGNATURE_LENGTH);
  const d = reading.detail;
  if (!reading.found || !d || d.mainLabel === WHITE) return sig;
  const { size, labels, filled } = d;
  const body = d.bodies[0].pixels;
  const m = moments(body, size);
  // Bins: 0 whole body, 1 center (within 0.7 spreads), 2..5 quadrants.
  const white = new Float32Array(6), all = new Float32Array(6);
  for (const p of body) {
    const u = (((p % size) + 0.5) / size - m.cx) / m.sx, v = ((Math.floor(p / size) + 0.5) / size - m.cy) / m.sy;
    const w = labels[p] === WHITE ? 1 : 0;
    const bins = [0, 2 + (v < 0 ? 0 : 2) + (u < 0 ? 0 : 1)];
    if (u * u + v * v < 0.49) bins.push(1);
    for (const b of bins) {
      all[b]++;
      white[b] += w;
    }
  }
  for (let k = 0; k < 6; k++) sig[1 + k] = all[k] ? white[k] / all[k] : 0;
  // Outline: white among the pixels up to two steps outside the body.
  const inBody = new Uint8Array(size * size);
  for (const p of body) inBody[p] = 1;
  let ring = 0, ringWhite = 0;
  for (let p = 0; p < size * size; p++) {
    if (inBody[p] || filled[p]) continue;
    const x = p % size, y = (p - x) / size;
    let near = false;
    for (let dy = -2; dy <= 2 && !near; dy++)
      for (let dx = -2; dx <= 2 && !near; dx++) {
        const nx = x + dx, ny = y + dy;
        if (Math.abs(dx) + Math.abs(dy) <= 2 && nx >= 0 && ny >= 0 && nx < size && ny < size && inBody[ny * size + nx]) near = true;
      }
    if (!near) continue;
    ring++;
    if (labels[p] === WHITE) ringWhite++;
  }
  sig[0] = ring ? ringWhite / ring : 0;
  return sig;
}

/** Bray-Curtis similarity in [0, 1]; two empty signatures are the same. */
export function signatureSimilarity(a: Float32Array, b: Float32Array): number {
  let diff = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    diff += Math.abs(a[i] - b[i]);
    sum += a[i] + b[i];
  }
  return sum < 1e-6 ? 1 : 1 - diff / sum;
}

const prototypes = new Map<string, Float32Array>();

/** The mean signature of a subject's references (rendered at `imageSize`). */
export function subjectPrototype(subject: Subject, imageSize = 32): Float32Array {
  const key = `${subject.id}@${imageSize}`;
  let proto = prototypes.get(key);
  if (!proto) {
    const { images } = subjectReferences(subject, imageSize);
    proto = new Float32Array(SIGNATURE_LENGTH);
    for (let i = 0; i < images.count; i++) markingSignature(readScene(images, i)).forEach((v, k) => (proto![k] += v / images.count));
    prototypes.set(key, proto);
  }
  return proto;
}

export interface IdentityCheck {
  /** Mean of the class, color and marking checks, in [0, 1]. */
  score: number;
  /** Class (and plushie body) and color right, and markings at least half alike. */
  matches: boolean;
  classOk: boolean;
  colorOk: boolean;
  markingSimilarity: number;
}

/** Marking similarity a subject's image needs to count as the subject. */
export const MARKING_MATCH = 0.5;

export function subjectIdentity(reading: SceneReading, subject: Subject, imageSize = reading.detail?.size ?? 32): IdentityCheck {
  const classOk = reading.found && reading.objectClass === subject.classNoun && (subject.classNoun !== 'plushie' || reading.body === subject.body);
  const colorOk = reading.found && reading.color === subject.color;
  const markingSimilarity = reading.found ? signatureSimilarity(markingSignature(reading), subjectPrototype(subject, imageSize)) : 0;
  return {
    score: (Number(classOk) + Number(colorOk) + markingSimilarity) / 3,
    matches: classOk && colorOk && markingSimilarity >= MARKING_MATCH,
    classOk,
    colorOk,
    markingSimilarity,
  };
}

/** Identity checks for every image of a batch. */
export function subjectIdentities(images: ImageBatch, subject: Subject): IdentityCheck[] {
  return Array.from({ length: images.count }, (_, i) => subjectIdentity(readScene(images, i), subject, images.width));
}
