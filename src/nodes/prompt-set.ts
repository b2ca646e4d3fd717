// The prompts of one InstructBooth subject (the PROMPTS socket): DreamBooth's instance and class prompts for stage 1,
// and the RL prompts of stage 2 in both forms the paper mixes, with and without the identifier.

export interface PromptSet {
  /** The rare token bound to the subject ("sks"), the paper's [V]. */
  identifier: string;
  classNoun: string;
  /** Detailed description for rare subjects ("triangular"), '' when none. */
  description: string;
  /** "a [V] [class]", or "a [V] [description] [class]" for rare subjects. */
  instancePrompt: string;
  /** "a [class]" (prior preservation). */
  classPrompt: string;
  /** "a [V] [class] [activity]", one per activity. */
  withIdentifier: readonly string[];
  /** "a [class] [activity]", one per activity, in the same order. */
  withoutIdentifier: readonly string[];
  /** Fraction of RL prompts drawn from withIdentifier. */
  identifierRatio: number;
  activities: readonly string[];
}

export interface PromptSetOptions {
  identifier: string;
  classNoun: string;
  description?: string;
  activities: readonly string[];
  identifierRatio?: number;
}

// Always "a", even before a vowel ("a sks owl"): the paper's templates say "a", and DreamBooth-trained models
// are sensitive to the exact instance-prompt wording, so RL prompts must keep the same article.
const words = (...parts: string[]) => ['a', ...parts].filter((p) => p !== '').join(' ');

export function buildPromptSet(o: PromptSetOptions): PromptSet {
  const identifier = o.identifier.trim();
  const classNoun = o.classNoun.trim();
  const description = (o.description ?? '').trim();
  const ratio = o.identifierRatio ?? 0.5;
  for (const [name, v] of [['identifier', identifier], ['class_noun', classNoun], ['description', description]] as const) {
    const problem = checkPromptWord(name, v, name === 'description');
    if (problem) throw new Error(problem);
  }
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`identifier_ratio must be in [0, 1], got ${ratio}`);
  const activities = o.activities.map((a) => a.trim()).filter((a) => a !== '');
  return {
    identifier,
    classNoun,
    description,
    // The description belongs to stage 1 only: the paper's RL prompts are "a [V] [class] [activity]".
    instancePrompt: words(identifier, description, classNoun),
    classPrompt: words(classNoun),
    withIdentifier: activities.map((a) => words(identifier, classNoun, a)),
    withoutIdentifier: activities.map((a) => words(classNoun, a)),
    identifierRatio: ratio,
    activities,
  };
}

/** Activities from a text box: one per line, blank lines ignored. */
export function parseActivities(text: string): string[] {
  return String(text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Why a prompt part is unusable (empty when required, or spanning lines), or undefined. */
export function checkPromptWord(name: string, value: unknown, allowEmpty = false): string | undefined {
  if (typeof value !== 'string') return `${name} must be text`;
  const v = value.trim();
  if (v === '' && !allowEmpty) return `${name} must not be empty`;
  if (/[\r\n]/.test(v)) return `${name} must be a single line`;
  return undefined;
}

export function isPromptSet(v: unknown): v is PromptSet {
  const p = v as PromptSet;
  return !!p && typeof p === 'object' && typeof p.instancePrompt === 'string' && Array.isArray(p.withIdentifier) && Array.isArray(p.withoutIdentifier);
}
