// `npm run bench -- world`: the embedded base model's text alignment, judged by the oracle on one sample per caption
// at the default sampler settings. Two caption sets, both from seeds no training set uses:
//   - general: fresh random scenes' captions (class, color, context, companion, position, activity);
//   - per activity: for every activity, scenes pinned to it, so that each has enough samples to be measured alone.
// "alignment" is every claim of the caption at once; the oracle on the true renders of the same captions is the
// reference run (its ceiling). Last line: JSON {"alignment", "per_activity": {activity: fraction}, ...}.
//   npm run bench -- world [--model DIR] [--count N] [--per-activity N] [--guidance G] [--steps N] [--misses]
// --misses: per activity, what its captions' misses got wrong (the claims that failed, and the activity the oracle
// read where the activity's claim failed).
import path from 'node:path';
import { DEFAULT_SAMPLING } from '../src/runtime/diffusion/sampler.js';
import { Rng } from '../src/runtime/onnx/random.js';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import {
  ACTIVITIES,
  type AlignmentResult,
  BASE_EVAL_SEED,
  baseEvaluationCaptions,
  caption,
  matchesCore,
  renderScenes,
  sampleScene,
  satisfiedByRequirement,
  type Scene,
  WorldOracle,
} from '../src/runtime/world/index.js';
import { flag, hasSwitch } from './flags.js';
import { imageAt } from '../src/runtime/engine/image.js';
import { readScene } from '../src/runtime/world/oracle/read-scene.js';

const modelDir = path.resolve(flag('model') ?? 'models/embedded');
const count = Number(flag('count') ?? 256);
const perActivity = Number(flag('per-activity') ?? 24);
const CHUNK = 32;
const sampling = { ...DEFAULT_SAMPLING, guidance: Number(flag('guidance') ?? DEFAULT_SAMPLING.guidance), steps: Number(flag('steps') ?? DEFAULT_SAMPLING.steps) };

const general = baseEvaluationCaptions(count);
const pinnedRng = new Rng(BASE_EVAL_SEED + 1);
const pinned = ACTIVITIES.flatMap((activity) => Array.from({ length: perActivity }, () => sampleScene(pinnedRng, { activity })));
const scenes: Scene[] = [...general.scenes, ...pinned];
const captions = [...general.captions, ...pinned.map((s) => caption(s, { size: false }))];

const oracle = new WorldOracle();
const pipe = new SdPipeline(loadSdModel(modelDir));
const t0 = performance.now();
const results: AlignmentResult[] = [];
const misses = hasSwitch('misses');
const readActivity = new Map<number, string>();
for (let k = 0; k < captions.length; k += CHUNK) {
  const prompts = captions.slice(k, k + CHUNK);
  const { images } = await pipe.sample({ prompts, seeds: prompts.map((_, i) => 1000 + k + i), ...sampling });
  const judged = oracle.judge(images, prompts);
  results.push(...judged);
  // The activity read where a pinned caption's activity claim failed (--misses).
  if (misses) judged.forEach((r, i) => {
    if (k + i >= count && r.checks.some((c) => c.requirement.attribute === 'activity' && !c.satisfied)) readActivity.set(k + i, readScene(imageAt(images, i)).activity ?? 'no object');
  });
  process.stderr.write(`\r${Math.min(k + CHUNK, captions.length)}/${captions.length}`);
}
process.stderr.write('\n');
const seconds = (performance.now() - t0) / 1000;
await pipe.release();
const reference = oracle.judge(renderScenes(scenes, 32), captions);

const rate = (rs: AlignmentResult[]) => rs.filter((r) => r.matches).length / rs.length;
const r3 = (x: number) => Number(x.toFixed(4));
const g = results.slice(0, count), gRef = reference.slice(0, count);
const model = satisfiedByRequirement(g), ref = satisfiedByRequirement(gRef);
console.log(`model ${modelDir}; ${count} general captions and ${perActivity} per activity, ${JSON.stringify(sampling)}; sampling took ${seconds.toFixed(1)} s\n`);
console.log('| general captions: requirement | model | true renders |');
console.log('|---|---|---|');
for (const [k, [a, n]] of model) {
  const [ra, rn] = ref.get(k) ?? [0, 1];
  console.log(`| ${k} | ${(a / n).toFixed(3)} (${n}) | ${(ra / rn).toFixed(3)} |`);
}
const core = (rs: AlignmentResult[]) => rs.filter(matchesCore).length / rs.length;
console.log(`| class, color and context | ${core(g).toFixed(3)} | ${core(gRef).toFixed(3)} |`);
console.log(`| **every claim of the caption** | **${rate(g).toFixed(3)}** | ${rate(gRef).toFixed(3)} |\n`);

const per: Record<string, number> = {};
console.log('| activity (every claim of its captions) | model | true renders |');
console.log('|---|---|---|');
ACTIVITIES.forEach((a, i) => {
  const at = count + i * perActivity;
  per[a] = r3(rate(results.slice(at, at + perActivity)));
  console.log(`| ${a} | ${per[a].toFixed(3)} | ${rate(reference.slice(at, at + perActivity)).toFixed(3)} |`);
});
if (misses) {
  const counts = (xs: string[]) => Object.entries(xs.reduce<Record<string, number>>((o, x) => ({ ...o, [x]: (o[x] ?? 0) + 1 }), {}))
    .sort((a, b) => b[1] - a[1]).map(([x, n]) => `${x} ${n}`).join(', ');
  console.log('\n| activity | misses | claims failed | activity read instead |\n|---|---|---|---|');
  ACTIVITIES.forEach((a, i) => {
    const at = count + i * perActivity;
    const missed = results.slice(at, at + perActivity).map((r, j) => ({ r, j: at + j })).filter(({ r }) => !r.matches);
    const failed = missed.flatMap(({ r }) => r.checks.filter((c) => !c.satisfied).map((c) => String(c.requirement.attribute)));
    console.log(`| ${a} | ${missed.length} | ${counts(failed)} | ${counts(missed.flatMap(({ j }) => readActivity.get(j) ?? []))} |`);
  });
}
const worst = Object.entries(per).reduce((a, b) => (b[1] < a[1] ? b : a));
console.log(`\nworst activity: ${worst[0]} ${worst[1].toFixed(3)}`);
console.log(JSON.stringify({ alignment: r3(rate(g)), reference: r3(rate(gRef)), core: r3(core(g)), per_activity: per, captions: captions.length, seconds: Number(seconds.toFixed(1)) }));
