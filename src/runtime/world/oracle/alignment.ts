// Image-text alignment in this world: a prompt's claims (parsePrompt) checked against what the oracle reads from the
// image. The score is the fraction of claims that hold, so a reward model built on it gives partial credit (the
// right object doing the wrong thing scores above the wrong object), and `matches` says all of them hold.
// An activity claim that does not hold still earns up to half a claim, graded by how far the image goes toward it
// (activityCredit): learned reward models (ImageReward) are graded too, and RL needs that gradient where the
// model almost never gets an activity right (a hard 0/1 gives every sample of such a prompt the same reward).
import type { Activity } from '../attributes.js';
import { type ParsedPrompt, type Requirement, parsePrompt } from '../grammar.js';
import { ACCESSORY_ACTIVITIES, ACCESSORY_THRESHOLD, STRETCHED_TALL, STRETCHED_WIDE } from './activity.js';
import type { SceneReading } from './read-scene.js';

export interface AlignmentResult {
  /** Fraction of the prompt's requirements the image satisfies; 1 for a prompt that requires nothing. */
  score: number;
  matches: boolean;
  checks: { requirement: Requirement; satisfied: boolean }[];
  /** Words that are no attribute (the subject's identifier); they do not count here (see subjectIdentity). */
  identifiers: string[];
}

/** Per attribute (class, color, activity...): [images that satisfy it, images whose prompt asks for it]. */
export function satisfiedByRequirement(results: readonly AlignmentResult[]): Map<string, [number, number]> {
  const tally = new Map<string, [number, number]>();
  for (const r of results)
    for (const c of r.checks) {
      const key = String((c.requirement as { attribute?: string }).attribute ?? 'other');
      const e = tally.get(key) ?? [0, 0];
      e[0] += c.satisfied ? 1 : 0;
      e[1]++;
      tally.set(key, e);
    }
  return tally;
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
    case 'accessoryColor':
      return r.found && r.accessoryColor === q.value;
    case 'context':
      return r.context === q.value;
    case 'companion':
      return r.companion === q.value;
  }
}

/** The most an unmet activity claim earns (a met one earns 1). */
export const ACTIVITY_PARTIAL_CREDIT = 0.5;

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

/**
 * Credit in [0, ACTIVITY_PARTIAL_CREDIT] for an activity the reading does not show: an accessory's contrast against
 * the threshold that would read it, a stretch's spread ratio on its way from 1 to the stretched one. Twins and
 * melting are all or nothing.
 */
export function activityCredit(r: SceneReading, activity: Exclude<Activity, 'none'>): number {
  if (!r.found) return 0;
  let progress = 0;
  if ((ACCESSORY_ACTIVITIES as readonly string[]).includes(activity)) {
    progress = (r.evidence?.[activity as (typeof ACCESSORY_ACTIVITIES)[number]] ?? 0) / ACCESSORY_THRESHOLD;
  } else if (activity === 'stretched-wide' || activity === 'stretched-tall') {
    const stretch = r.detail?.bodies[0]?.stretch ?? 1;
    progress = activity === 'stretched-wide' ? (stretch - 1) / (STRETCHED_WIDE - 1) : (1 - stretch) / (1 - STRETCHED_TALL);
  }
  return ACTIVITY_PARTIAL_CREDIT * clamp01(progress);
}

export function alignment(reading: SceneReading, prompt: string | ParsedPrompt): AlignmentResult {
  const parsed = typeof prompt === 'string' ? parsePrompt(prompt) : prompt;
  const checks = parsed.requirements.map((requirement) => ({ requirement, satisfied: satisfies(reading, requirement) }));
  const credit = checks.reduce((a, c) => a + (c.satisfied ? 1 : c.requirement.attribute === 'activity' ? activityCredit(reading, c.requirement.value) : 0), 0);
  const matches = checks.every((c) => c.satisfied);
  return { score: checks.length ? credit / checks.length : 1, matches, checks, identifiers: parsed.identifiers };
}

/** The attributes the base model's quality bar names: what the object is, its color, and where it is. */
export const CORE_ATTRIBUTES: ReadonlySet<Requirement['attribute']> = new Set(['class', 'body', 'color', 'context']);

/** Whether the image satisfies the prompt's class, color and context claims (others aside). */
export function matchesCore(r: AlignmentResult): boolean {
  return r.checks.every((c) => c.satisfied || !CORE_ATTRIBUTES.has(c.requirement.attribute));
}
