// The evaluation runtime: generate `imagesPerPrompt` images for every prompt of a set (fixed seeds, so two models
// are compared on the same noise), score them with every text-fidelity judge (a reward model on the full prompt, a
// CLIP-T-style metric on the prompt without the identifier), measure subject fidelity as DreamBooth does with DINO
// (mean cosine over all (generated, reference) pairs of image embeddings), optionally check subject identity exactly
// (the world's oracle), and report per prompt, per kind and overall, as the paper's tables do. No HTTP, no nodes:
// the caller wraps its model's sampler as `generate`.
import { type ImageBatch, concatImages } from '../engine/image.js';
import { gridImages } from '../engine/image-grid.js';
import { subjectIdentities } from '../world/oracle/identity.js';
import { SUBJECTS, type Subject } from '../world/subjects.js';
import { mean, meanPairwiseCosine, selfSimilarity } from './metrics.js';
import type { EvalPromptSet } from './prompt-sets.js';
import type { AlignmentScorer, ImageEmbedder } from './types.js';

export interface EvalJudge {
  /** Column name ("ImageReward", "CLIP-T"). */
  name: string;
  scorer: AlignmentScorer;
  /** Score the full prompt (default true, a reward model's way); false scores the prompt without the identifier
   * (CLIP-T's way: the identifier is a word the judge never learned). */
  withIdentifier?: boolean;
}

export interface EvaluateOptions {
  /** The model's sampler: one image per (prompt, seed) pair, in order. */
  generate(prompts: string[], seeds: number[]): Promise<ImageBatch>;
  promptSet: EvalPromptSet;
  imagesPerPrompt: number;
  /** Image j of prompt i gets seed `seed + i * imagesPerPrompt + j`. */
  seed: number;
  /** Images per generate call (default 8). */
  batchSize?: number;
  /** The subject's reference images, for subject fidelity. */
  references?: ImageBatch;
  /** Text-fidelity judges. */
  rewards: EvalJudge[];
  /** Subject fidelity (DINO's role): needs `references`. */
  embedder?: ImageEmbedder;
  /** An exact per-image subject check (the world oracle's identity); the report gives the fraction that pass. */
  subjectCheck?: (images: ImageBatch) => boolean[] | Promise<boolean[]>;
  /** Images generated and scored so far, of `total`. */
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

export interface EvaluationSample {
  promptIndex: number;
  seed: number;
  scores: Record<string, number>;
  /** Mean cosine to the references. */
  subject?: number;
  subjectMatch?: boolean;
}

export interface EvaluationRow {
  prompt: string;
  withoutIdentifier: string;
  kind?: string;
  seeds: number[];
  /** Mean per judge over this prompt's images. */
  scores: Record<string, number>;
  /** Subject fidelity: mean cosine over this prompt's (generated, reference) pairs. */
  subject?: number;
  /** Fraction of this prompt's images that pass the subject check. */
  subjectMatch?: number;
}

/** Summary keys besides the judges' names. */
export const SUBJECT_KEY = 'subject';
export const REFERENCE_SELF_SIMILARITY_KEY = 'referenceSelfSimilarity';
export const SUBJECT_MATCH_KEY = 'subjectMatch';
const RESERVED = new Set([SUBJECT_KEY, REFERENCE_SELF_SIMILARITY_KEY, SUBJECT_MATCH_KEY]);

export interface EvaluationReport {
  promptSet: string;
  imagesPerPrompt: number;
  seed: number;
  judges: { name: string; withIdentifier: boolean }[];
  rows: EvaluationRow[];
  /** Mean per judge over every image; `subject` (subject fidelity), `referenceSelfSimilarity` (mean cosine between
   * distinct references: what subject fidelity would be for images as alike as the references), `subjectMatch`
   * (fraction of images that pass the subject check), each when measured. */
  summary: Record<string, number>;
  /** The same means per prompt kind (rows without a kind under "(none)"); empty when no prompt has a kind. */
  byKind: Record<string, Record<string, number>>;
  samples: EvaluationSample[];
  /** Every image, prompt-major: image j of prompt i at i * imagesPerPrompt + j. */
  images: ImageBatch;
  /** The prompt each image was generated from. */
  prompts: string[];
  seeds: number[];
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : Object.assign(new Error('evaluation aborted'), { name: 'AbortError' });
}

function checkOptions(o: EvaluateOptions): void {
  if (!o.promptSet || !Array.isArray(o.promptSet.prompts) || o.promptSet.prompts.length === 0) throw new Error('evaluation needs a prompt set with at least one prompt');
  if (!Number.isInteger(o.imagesPerPrompt) || o.imagesPerPrompt < 1) throw new Error(`images per prompt must be a whole number >= 1, got ${o.imagesPerPrompt}`);
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be a whole number, got ${o.seed}`);
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1)) throw new Error(`batch size must be a whole number >= 1, got ${o.batchSize}`);
  const names = new Set<string>();
  for (const r of o.rewards) {
    if (!r.name) throw new Error('every judge needs a name');
    if (RESERVED.has(r.name)) throw new Error(`judge name ${JSON.stringify(r.name)} is reserved for the subject metrics; rename the judge`);
    if (names.has(r.name)) throw new Error(`two judges are named ${JSON.stringify(r.name)}`);
    names.add(r.name);
  }
  if (o.embedder && (!o.references || o.references.count === 0)) throw new Error('subject fidelity needs reference images of the subject (the embedder has nothing to compare with)');
  if (o.rewards.length === 0 && !o.embedder && !o.subjectCheck) throw new Error('evaluation needs at least one judge, an embedder or a subject check');
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluationReport> {
  checkOptions(o);
  const n = o.imagesPerPrompt;
  const entries = o.promptSet.prompts;
  const total = entries.length * n;
  const batchSize = o.batchSize ?? 8;
  const judges = o.rewards.map((r) => ({ name: r.name, scorer: r.scorer, withIdentifier: r.withIdentifier ?? true }));
  const jobs = Array.from({ length: total }, (_, k) => ({ promptIndex: Math.floor(k / n), seed: o.seed + k }));

  o.signal?.throwIfAborted();
  let refEmbeddings: Float32Array[] | undefined;
  if (o.embedder && o.references) {
    refEmbeddings = await o.embedder.embed(o.references);
    if (refEmbeddings.length !== o.references.count) throw new Error(`the embedder returned ${refEmbeddings.length} embeddings for ${o.references.count} reference images`);
  }

  const batches: ImageBatch[] = [];
  const samples: EvaluationSample[] = [];
  o.onProgress?.(0, total);
  for (let start = 0; start < total; start += batchSize) {
    if (o.signal?.aborted) throw abortError(o.signal);
    const part = jobs.slice(start, start + batchSize);
    const prompts = part.map((j) => entries[j.promptIndex].prompt);
    const images = await o.generate(prompts, part.map((j) => j.seed));
    if (!images || images.count !== part.length) throw new Error(`generate returned ${images?.count ?? 'no'} images for ${part.length} prompts`);
    const scores: Record<string, number>[] = part.map(() => ({}));
    for (const judge of judges) {
      const texts = judge.withIdentifier ? prompts : part.map((j) => entries[j.promptIndex].withoutIdentifier);
      const s = await judge.scorer.score(images, texts);
      if (s.length !== part.length) throw new Error(`judge ${judge.name} returned ${s.length} scores for ${part.length} images`);
      s.forEach((v, i) => {
        if (!Number.isFinite(v)) throw new Error(`judge ${judge.name} scored image ${start + i} (${JSON.stringify(prompts[i])}) ${v}`);
        scores[i][judge.name] = v;
      });
    }
    let subject: number[] | undefined;
    if (o.embedder && refEmbeddings) {
      const e = await o.embedder.embed(images);
      if (e.length !== part.length) throw new Error(`the embedder returned ${e.length} embeddings for ${part.length} images`);
      subject = e.map((x) => meanPairwiseCosine([x], refEmbeddings!));
    }
    let match: boolean[] | undefined;
    if (o.subjectCheck) {
      match = await o.subjectCheck(images);
      if (match.length !== part.length) throw new Error(`the subject check returned ${match.length} answers for ${part.length} images`);
    }
    part.forEach((j, i) =>
      samples.push({
        promptIndex: j.promptIndex,
        seed: j.seed,
        scores: scores[i],
        ...(subject ? { subject: subject[i] } : {}),
        ...(match ? { subjectMatch: !!match[i] } : {}),
      }),
    );
    batches.push(images);
    o.onProgress?.(Math.min(start + batchSize, total), total);
  }

  // Means over a group of samples: per judge, subject fidelity, subject match rate.
  const stats = (group: EvaluationSample[]) => {
    const scores: Record<string, number> = {};
    for (const j of judges) scores[j.name] = mean(group.map((s) => s.scores[j.name]));
    return {
      scores,
      ...(refEmbeddings ? { subject: mean(group.map((s) => s.subject!)) } : {}),
      ...(o.subjectCheck ? { subjectMatch: mean(group.map((s) => (s.subjectMatch ? 1 : 0))) } : {}),
    };
  };
  const flat = (st: ReturnType<typeof stats>): Record<string, number> => ({
    ...st.scores,
    ...(st.subject !== undefined ? { [SUBJECT_KEY]: st.subject } : {}),
    ...(st.subjectMatch !== undefined ? { [SUBJECT_MATCH_KEY]: st.subjectMatch } : {}),
  });

  const rows: EvaluationRow[] = entries.map((e, i) => {
    const own = samples.slice(i * n, (i + 1) * n);
    return { prompt: e.prompt, withoutIdentifier: e.withoutIdentifier, ...(e.kind ? { kind: e.kind } : {}), seeds: own.map((s) => s.seed), ...stats(own) };
  });
  const summary = flat(stats(samples));
  if (refEmbeddings && refEmbeddings.length >= 2) summary[REFERENCE_SELF_SIMILARITY_KEY] = selfSimilarity(refEmbeddings);
  const byKind: Record<string, Record<string, number>> = {};
  if (entries.some((e) => e.kind)) {
    const kinds = [...new Set(entries.map((e) => e.kind ?? '(none)'))];
    for (const k of kinds) byKind[k] = flat(stats(samples.filter((s) => (entries[s.promptIndex].kind ?? '(none)') === k)));
  }
  return {
    promptSet: o.promptSet.name,
    imagesPerPrompt: n,
    seed: o.seed,
    judges: judges.map((j) => ({ name: j.name, withIdentifier: j.withIdentifier })),
    rows,
    summary,
    byKind,
    samples,
    images: concatImages(batches),
    prompts: jobs.map((j) => entries[j.promptIndex].prompt),
    seeds: jobs.map((j) => j.seed),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

const fmt = (v: number | undefined) => (v === undefined ? '' : Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const tableRow = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** The metric columns a report has, in order: judges, then subject fidelity and subject match when measured. */
function columns(r: EvaluationReport): { key: string; title: string }[] {
  const cols = r.judges.map((j) => ({ key: j.name, title: j.withIdentifier ? j.name : `${j.name} (w/o identifier)` }));
  if (SUBJECT_KEY in r.summary) cols.push({ key: SUBJECT_KEY, title: 'Subject fidelity' });
  if (SUBJECT_MATCH_KEY in r.summary) cols.push({ key: SUBJECT_MATCH_KEY, title: 'Subject match' });
  return cols;
}

/** The report as Markdown: an overall table like the paper's Table 1, then per kind, then per prompt. */
export function reportMarkdown(r: EvaluationReport, title?: string): string {
  const cols = columns(r);
  const header = (first: string[]) => [tableRow([...first, ...cols.map((c) => cell(c.title))]), tableRow([...first, ...cols].map(() => '---'))];
  const out: string[] = [];
  out.push(`## ${title ?? `Evaluation: ${r.promptSet}`}`, '');
  out.push(`${r.rows.length} prompts x ${r.imagesPerPrompt} images, seeds ${r.seed}..${r.seed + r.rows.length * r.imagesPerPrompt - 1}.`, '');
  out.push(...header(['Prompt set', 'Images']));
  out.push(tableRow([cell(r.promptSet), String(r.images.count), ...cols.map((c) => fmt(r.summary[c.key]))]));
  if (REFERENCE_SELF_SIMILARITY_KEY in r.summary)
    out.push('', `Reference self-similarity (mean cosine between distinct references): ${fmt(r.summary[REFERENCE_SELF_SIMILARITY_KEY])}.`);
  const kinds = Object.keys(r.byKind);
  if (kinds.length) {
    out.push('', '### By kind', '', ...header(['Kind', 'Prompts']));
    for (const k of kinds) out.push(tableRow([cell(k), String(r.rows.filter((x) => (x.kind ?? '(none)') === k).length), ...cols.map((c) => fmt(r.byKind[k][c.key]))]));
  }
  const hasKinds = r.rows.some((x) => x.kind);
  out.push('', '### Per prompt', '', ...header(hasKinds ? ['Prompt', 'Kind'] : ['Prompt']));
  for (const row of r.rows) {
    const values: Record<string, number | undefined> = { ...row.scores, [SUBJECT_KEY]: row.subject, [SUBJECT_MATCH_KEY]: row.subjectMatch };
    out.push(tableRow([cell(row.prompt), ...(hasKinds ? [cell(row.kind ?? '')] : []), ...cols.map((c) => fmt(values[c.key]))]));
  }
  return out.join('\n') + '\n';
}

/** The report without its images, for JSON files and HTTP answers. */
export function reportJson(r: EvaluationReport): object {
  const { images, ...rest } = r;
  return JSON.parse(JSON.stringify({ ...rest, imageCount: images.count, imageSize: [images.height, images.width, images.channels] }));
}

/** The evaluation as one image: a row per prompt, a column per image of it. */
export function evaluationGrid(r: EvaluationReport, gap = 2, background = 1): ImageBatch {
  return gridImages(r.images, r.imagesPerPrompt, gap, background);
}

/** The world oracle's exact subject check (class, color and markings), as `subjectCheck`. */
export function worldSubjectCheck(subject: Subject | string): (images: ImageBatch) => boolean[] {
  const s = typeof subject === 'string' ? SUBJECTS.find((x) => x.id === subject || x.identifier === subject) : subject;
  if (!s) throw new Error(`unknown world subject ${JSON.stringify(subject)}; the world has ${SUBJECTS.map((x) => x.id).join(', ')}`);
  return (images) => subjectIdentities(images, s).map((x) => x.matches);
}
