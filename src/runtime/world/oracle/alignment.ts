// Image-text alignment in this world: a prompt's claims (parsePrompt) checked against what the oracle reads from the
// image. The score is the fraction of claims that hold, so a reward model built on it gives partial credit (the
// right object doing the wrong thing scores above the wrong object), and `matches` says all of them hold.
import { type ParsedPrompt, type Requirement, parsePrompt } from '../grammar.js';
import type { SceneReading } from './read-scene.js';

export interface AlignmentResult {
  /** Fraction of the prompt's requirements the image satisfies; 1 for a prompt that requires nothing. */
  score: number;
  matches: boolean;
  checks: { requirement: Requirement; satisfied: boolean }[];
  /** Words that are no attribute (the subject's identifier); they do not count here (see subjectIdentity). */
  identifiers: string[];
}

export function satisfies(r: SceneReading, q: Requirement): boolean {
  switch (q.attribute) {
    case 'class':
      return r.found && r.objectClass === q.value;
    case 'body':
      return r.found && r.objectClass === 'plushie' && r.body === q.value;
    case 'color':
      return r.found && r.color === q.value;
    case 'size':
      return r.found && r.size === q.value;
    case 'position':
      return r.found && r.position === q.value;
    case 'activity':
      return r.found && r.activity === q.value;
    case 'context':
      return r.context === q.value;
    case 'companion':
      return r.companion === q.value;
  }
}

export function alignment(reading: SceneReading, prompt: string | ParsedPrompt): AlignmentResult {
  const parsed = typeof prompt === 'string' ? parsePrompt(prompt) : prompt;
  const checks = parsed.requirements.map((requirement) => ({ requirement, satisfied: satisfies(reading, requirement) }));
  const ok = checks.filter((c) => c.satisfied).length;
  return { score: checks.length ? ok / checks.length : 1, matches: ok === checks.length, checks, identifiers: parsed.identifiers };
}

/** The attributes the base model's quality bar names: what the object is, its color, and where it is. */
export const CORE_ATTRIBUTES: ReadonlySet<Requirement['attribute']> = new Set(['class', 'body', 'color', 'context']);

/** Whether the image satisfies the prompt's class, color and context claims (others aside). */
export function matchesCore(r: AlignmentResult): boolean {
  return r.checks.every((c) => c.satisfied || !CORE_ATTRIBUTES.has(c.requirement.attribute));
}
