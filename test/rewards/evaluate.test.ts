// The evaluation runtime on the generated world: a generator that draws what each prompt says scores near 1 with the
// oracle as judge, one that copies the references (an overfitted DreamBooth) scores lower on text but high on subject
// fidelity; subject fidelity is the mean cosine over (generated, reference) pairs; seeds, batches, progress, abort;
// the Markdown table, the JSON form and the grid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ImageBatch, imageAt, imageBatch } from '../../src/runtime/engine/image.js';
import { gridImages } from '../../src/runtime/engine/image-grid.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { evaluate, evaluationGrid, reportJson, reportMarkdown, worldSubjectCheck } from '../../src/runtime/rewards/evaluate.js';
import { type EvalPromptSet, evalPromptSet } from '../../src/runtime/rewards/prompt-sets.js';
import type { ImageEmbedder } from '../../src/runtime/rewards/types.js';
import { COLORS, OBJECT_CLASSES } from '../../src/runtime/world/attributes.js';
import { parsePrompt } from '../../src/runtime/world/grammar.js';
import { markingSignature } from '../../src/runtime/world/oracle/identity.js';
import { WorldOracle } from '../../src/runtime/world/oracle/oracle.js';
import { readScene } from '../../src/runtime/world/oracle/read-scene.js';
import { renderScenes } from '../../src/runtime/world/render.js';
import { sampleScene } from '../../src/runtime/world/sample.js';
import type { Scene } from '../../src/runtime/world/scene.js';
import { type Subject, subjectById, subjectReferences, subjectTraits } from '../../src/runtime/world/subjects.js';

const oracle = new WorldOracle();
// The checkered square: the oracle reads it reliably in every evaluation prompt (the outlined star's white outline
// confuses its reading of a cage and of spinning).
const square = subjectById('checkered-square');
const refs = subjectReferences(square).images;

/** Draws the subject doing what the prompt says and nothing else it could be asked (no activity or companion unless
 * the prompt says one; context, position and size at random), seeded per image. */
function promptFollower(subject: Subject) {
  const calls: { prompts: string[]; seeds: number[] }[] = [];
  return {
    calls,
    async generate(prompts: string[], seeds: number[]): Promise<ImageBatch> {
      calls.push({ prompts, seeds });
      const scenes = prompts.map((p, i) => {
        const pinned: Partial<Scene> = { ...subjectTraits(subject), activity: 'none', companion: 'none' };
        for (const r of parsePrompt(p).requirements) {
          if (r.attribute === 'class') pinned.objectClass = r.value;
          else if (r.attribute === 'body') pinned.body = r.value as Scene['body'];
          else (pinned as Record<string, unknown>)[r.attribute] = r.value;
        }
        return sampleScene(new Rng(seeds[i]), pinned);
      });
      return renderScenes(scenes);
    },
  };
}

/** Ignores the prompt and returns a reference image (an overfitted model's copy-paste). */
async function copier(prompts: string[], seeds: number[]): Promise<ImageBatch> {
  const per = 32 * 32 * 3;
  const out = imageBatch(prompts.length, 32, 32, 3);
  seeds.forEach((s, i) => out.data.set(imageAt(refs, s % refs.count).data, i * per));
  return out;
}

/** A DINO stand-in read from pixels: class, color and white-marking signature, L2-normalized. */
const worldEmbedder: ImageEmbedder = {
  async embed(images) {
    return Array.from({ length: images.count }, (_, i) => {
      const r = readScene(images, i);
      const v = new Float32Array(OBJECT_CLASSES.length + COLORS.length + 7);
      if (r.found) {
        v[OBJECT_CLASSES.indexOf(r.objectClass!)] = 1;
        v[OBJECT_CLASSES.length + COLORS.indexOf(r.color!)] = 1;
        markingSignature(r).forEach((x, k) => (v[OBJECT_CLASSES.length + COLORS.length + k] = 2 * x));
      }
      const n = Math.hypot(...v) || 1;
      return v.map((x) => x / n);
    });
  },
};

const squareSet = (name: 'world' | 'world-seen' | 'world-unseen') => evalPromptSet(name, { identifier: square.identifier, classNoun: square.classNoun });

test('world: the oracle scores images that follow the prompt near 1, copied references lower; subject fidelity the other way', async () => {
  // One image per prompt keeps this quick (the oracle reads every image three times: judge, embedder, subject check).
  const common = {
    promptSet: squareSet('world'),
    imagesPerPrompt: 1,
    seed: 100,
    batchSize: 16,
    references: refs,
    rewards: [{ name: 'oracle', scorer: oracle }],
    embedder: worldEmbedder,
    subjectCheck: worldSubjectCheck(square),
  };
  const follow = await evaluate({ ...common, generate: promptFollower(square).generate });
  const copy = await evaluate({ ...common, generate: copier });
  const s = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
  console.log(`prompt follower: ${s(follow.summary)}\ncopier: ${s(copy.summary)}`);
  for (const k of Object.keys(follow.byKind)) console.log(`  ${k}: follower ${s(follow.byKind[k])}; copier ${s(copy.byKind[k])}`);
  assert.ok(follow.summary.oracle > 0.95, `follower alignment ${follow.summary.oracle}`);
  assert.ok(copy.summary.oracle < follow.summary.oracle - 0.2, `copier alignment ${copy.summary.oracle}`);
  // Copies of the references are as close to them as they are to each other; following prompts costs some.
  assert.ok(copy.summary.subject > 0.9 && copy.summary.subject >= follow.summary.subject, `${copy.summary.subject} vs ${follow.summary.subject}`);
  assert.ok(copy.summary.referenceSelfSimilarity > 0.9);
  assert.equal(copy.summary.subjectMatch, 1);
  // Recolored prompts ("a red zwx square") are not the subject any more; the seen activities mostly are.
  assert.equal(follow.byKind.color.subjectMatch, 0);
  assert.ok(follow.byKind['seen-activity'].subjectMatch >= 0.8, `${follow.byKind['seen-activity'].subjectMatch}`);
  assert.deepEqual(Object.keys(follow.byKind).sort(), ['color', 'companion', 'context', 'seen-activity', 'unseen-activity']);
  assert.ok(follow.byKind['seen-activity'].oracle > 0.9);
  assert.ok(copy.byKind['seen-activity'].oracle < 0.7);
  assert.equal(follow.rows.length, common.promptSet.prompts.length);
  assert.equal(follow.images.count, follow.rows.length);
  // Another subject's images are not this subject.
  const other = await evaluate({ ...common, promptSet: squareSet('world-seen'), generate: promptFollower(subjectById('outlined-star')).generate });
  assert.equal(other.summary.subjectMatch, 0);
  assert.ok(other.summary.subject < follow.summary.subject - 0.3, `${other.summary.subject}`);
});

test('subject fidelity is the mean cosine over every (generated, reference) pair', async () => {
  // Image value v embeds as the unit vector at angle v * 90 degrees.
  const angleEmbedder: ImageEmbedder = {
    async embed(images) {
      return Array.from({ length: images.count }, (_, i) => {
        const v = imageAt(images, i).data[0] * (Math.PI / 2);
        return new Float32Array([Math.cos(v), Math.sin(v)]);
      });
    },
  };
  const flat = (values: number[]) => {
    const b = imageBatch(values.length, 2, 2, 3);
    values.forEach((v, i) => b.data.fill(v, i * 12, (i + 1) * 12));
    return b;
  };
  const references = flat([0, 1, 2 / 3]);
  const promptSet: EvalPromptSet = { name: 'two', prompts: [{ prompt: 'a sks x', withoutIdentifier: 'a x' }, { prompt: 'a sks y', withoutIdentifier: 'a y', kind: 'k' }] };
  const values = [0, 1 / 3, 1, 0.5];
  const r = await evaluate({
    promptSet,
    imagesPerPrompt: 2,
    seed: 0,
    generate: async (_p, seeds) => flat(seeds.map((s) => values[s])),
    references,
    rewards: [],
    embedder: angleEmbedder,
  });
  const cos = (a: number, b: number) => Math.cos((a - b) * (Math.PI / 2));
  const refVals = [0, 1, 2 / 3];
  const per = values.map((v) => refVals.reduce((s, w) => s + cos(v, w), 0) / 3);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(r.summary.subject, per.reduce((a, b) => a + b) / 4);
  close(r.rows[0].subject!, (per[0] + per[1]) / 2);
  close(r.rows[1].subject!, (per[2] + per[3]) / 2);
  close(r.summary.referenceSelfSimilarity, (cos(0, 1) + cos(0, 2 / 3) + cos(1, 2 / 3)) / 3);
  assert.deepEqual(Object.keys(r.byKind), ['(none)', 'k']);
  close(r.byKind.k.subject, r.rows[1].subject!);
  assert.ok(!('subjectMatch' in r.summary));
});

test('seeds, batches, progress, the full and identifier-free prompts, and checks', async () => {
  const promptSet: EvalPromptSet = { name: 'three', prompts: ['a', 'b', 'c'].map((w) => ({ prompt: `a sks ${w}`, withoutIdentifier: `a ${w}` })) };
  const gen = promptFollower(square);
  const seen: string[][] = [];
  const progress: [number, number][] = [];
  const scorer = { score: async (images: ImageBatch, prompts: string[]) => (seen.push(prompts), prompts.map((p) => p.length)) };
  const r = await evaluate({
    promptSet,
    imagesPerPrompt: 3,
    seed: 7,
    batchSize: 4,
    generate: gen.generate,
    rewards: [{ name: 'full', scorer }, { name: 'bare', scorer, withIdentifier: false }],
    onProgress: (d, t) => progress.push([d, t]),
  });
  assert.deepEqual(gen.calls.map((c) => c.seeds), [[7, 8, 9, 10], [11, 12, 13, 14], [15]]);
  assert.deepEqual(gen.calls[0].prompts, ['a sks a', 'a sks a', 'a sks a', 'a sks b']);
  assert.deepEqual(seen[0], gen.calls[0].prompts);
  assert.deepEqual(seen[1], ['a a', 'a a', 'a a', 'a b']);
  assert.deepEqual(progress, [[0, 9], [4, 9], [8, 9], [9, 9]]);
  assert.deepEqual(r.seeds, [7, 8, 9, 10, 11, 12, 13, 14, 15]);
  assert.equal(r.prompts[4], 'a sks b');
  assert.deepEqual(r.rows[1].seeds, [10, 11, 12]);
  assert.deepEqual(r.summary, { full: 7, bare: 3 });
  assert.deepEqual(r.byKind, {});

  const base = { promptSet, imagesPerPrompt: 1, seed: 0, generate: gen.generate, rewards: [{ name: 'x', scorer }] };
  await assert.rejects(evaluate({ ...base, generate: async () => imageBatch(1, 32, 32, 3) }), /generate returned 1 images for 3 prompts/);
  await assert.rejects(evaluate({ ...base, rewards: [{ name: 'subject', scorer }] }), /reserved/);
  await assert.rejects(evaluate({ ...base, rewards: [{ name: 'x', scorer }, { name: 'x', scorer }] }), /two judges are named "x"/);
  await assert.rejects(evaluate({ ...base, embedder: worldEmbedder }), /needs reference images/);
  await assert.rejects(evaluate({ ...base, imagesPerPrompt: 0 }), /images per prompt/);
  await assert.rejects(evaluate({ ...base, promptSet: { name: 'none', prompts: [] } }), /at least one prompt/);
  await assert.rejects(evaluate({ ...base, rewards: [{ name: 'nan', scorer: { score: async (i: ImageBatch) => new Array(i.count).fill(NaN) } }] }), /judge nan scored image 0/);
  const ac = new AbortController();
  await assert.rejects(
    evaluate({ ...base, batchSize: 1, generate: async (p, s) => (ac.abort(), gen.generate(p, s)), signal: ac.signal }),
    (e: Error) => e.name === 'AbortError',
  );
});

test('Markdown table like the paper, JSON without images, and a grid of prompts by images', async () => {
  const r = await evaluate({
    promptSet: squareSet('world-seen'),
    imagesPerPrompt: 3,
    seed: 1,
    generate: promptFollower(square).generate,
    references: refs,
    rewards: [{ name: 'ImageReward', scorer: oracle }, { name: 'CLIP-T', scorer: oracle, withIdentifier: false }],
    embedder: worldEmbedder,
    subjectCheck: worldSubjectCheck('zwx'),
  });
  const md = reportMarkdown(r, 'Square | seen');
  console.log(md);
  assert.match(md, /^## Square \| seen\n/);
  assert.match(md, /\| Prompt set \| Images \| ImageReward \| CLIP-T \(w\/o identifier\) \| Subject fidelity \| Subject match \|\n\|( --- \|){6}\n\| world-seen \| 15 \| \d\.\d{3} \|/);
  assert.match(md, /### By kind\n\n\| Kind \| Prompts \|.*\n.*\n\| seen-activity \| 5 \|/);
  assert.match(md, /### Per prompt/);
  assert.ok(md.includes('| a zwx square wearing a hat | seen-activity | '));
  assert.match(md, /Reference self-similarity .*: \d\.\d{3}/);
  const json = reportJson(r) as Record<string, unknown>;
  assert.ok(!('images' in json));
  assert.equal(json.imageCount, 15);
  assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
  assert.equal((json.rows as unknown[]).length, 5);
  const grid = evaluationGrid(r, 2);
  assert.deepEqual([grid.count, grid.height, grid.width], [1, 5 * 32 + 6 * 2, 3 * 32 + 4 * 2]);
  // Row 1, column 2 holds image 1 * 3 + 2.
  const x = 2 + 2 * 34, y = 2 + 34;
  const img = imageAt(r.images, 5);
  for (const [px, py] of [[0, 0], [17, 9], [31, 31]]) {
    for (let c = 0; c < 3; c++) assert.equal(grid.data[((y + py) * grid.width + x + px) * 3 + c], img.data[(py * 32 + px) * 3 + c]);
  }
  assert.equal(grid.data[0], 1, 'gap is the background');
  assert.deepEqual([gridImages(r.images, 0, 0).width, gridImages(r.images, 0, 0).height], [4 * 32, 4 * 32]);
  assert.throws(() => gridImages(imageBatch(0, 2, 2, 3), 1, 0), /at least one image/);
});
