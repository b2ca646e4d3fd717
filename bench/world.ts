// `npm run bench -- world`: the embedded base model's text alignment on the world's evaluation captions (fresh random
// scenes: class, color, context, companion, position, activity), one image per caption at the default sampler
// settings, judged by the oracle. "alignment" is the bar: the image shows the caption's class, color and
// context; "full" also asks for activity, companion and position. Reference run in the same process: the oracle on the
// true renders of the same captions (its ceiling). Last line: JSON {"alignment": fraction in [0,1], ...}.
//   npm run bench -- world [--model DIR] [--count N] [--guidance G] [--steps N]
import path from 'node:path';
import { DEFAULT_SAMPLING } from '../src/runtime/diffusion/sampler.js';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { baseEvaluationCaptions, matchesCore, renderScenes, WorldOracle } from '../src/runtime/world/index.js';

const args = process.argv.slice(3);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const modelDir = path.resolve(flag('model') ?? 'models/embedded');
const count = Number(flag('count') ?? 256);
const CHUNK = 32;
const sampling = { ...DEFAULT_SAMPLING, guidance: Number(flag('guidance') ?? DEFAULT_SAMPLING.guidance), steps: Number(flag('steps') ?? DEFAULT_SAMPLING.steps) };

const { captions, scenes } = baseEvaluationCaptions(count);
const oracle = new WorldOracle();
const pipe = new SdPipeline(loadSdModel(modelDir));
const t0 = performance.now();
const results: Awaited<ReturnType<WorldOracle['judge']>> = [];
for (let k = 0; k < count; k += CHUNK) {
  const prompts = captions.slice(k, k + CHUNK);
  const { images } = await pipe.sample({ prompts, seeds: prompts.map((_, i) => 1000 + k + i), ...sampling });
  results.push(...oracle.judge(images, prompts));
  process.stderr.write(`\r${Math.min(k + CHUNK, count)}/${count}`);
}
process.stderr.write('\n');
const seconds = (performance.now() - t0) / 1000;
await pipe.release();
const reference = oracle.judge(renderScenes(scenes, 32), captions);

const rate = (rs: typeof results) => rs.filter((r) => r.matches).length / rs.length;
const byRequirement = (rs: typeof results) => {
  const m = new Map<string, [number, number]>();
  for (const r of rs)
    for (const c of r.checks) {
      const q = c.requirement as { attribute?: string; kind?: string };
      const key = String(q.attribute ?? q.kind ?? 'other');
      const e = m.get(key) ?? [0, 0];
      e[0] += c.satisfied ? 1 : 0;
      e[1]++;
      m.set(key, e);
    }
  return m;
};
const model = byRequirement(results);
const ref = byRequirement(reference);
console.log(`model ${modelDir}; ${count} captions, ${JSON.stringify(sampling)}; sampling took ${seconds.toFixed(1)} s\n`);
console.log('| requirement | model | true renders | ratio |');
console.log('|---|---|---|---|');
for (const [k, [a, n]] of model) {
  const [ra, rn] = ref.get(k) ?? [0, 1];
  console.log(`| ${k} | ${(a / n).toFixed(3)} (${n}) | ${(ra / rn).toFixed(3)} | ${((a / n) / (ra / rn)).toFixed(2)} |`);
}
const full = rate(results);
const refFull = rate(reference);
const core = (rs: typeof results) => rs.filter(matchesCore).length / rs.length;
const alignment = core(results);
const refAlignment = core(reference);
console.log(`| **class, color and context** | **${alignment.toFixed(3)}** | ${refAlignment.toFixed(3)} | ${(alignment / refAlignment).toFixed(2)} |`);
console.log(`| every requirement of the caption | ${full.toFixed(3)} | ${refFull.toFixed(3)} | ${(full / refFull).toFixed(2)} |\n`);
const r3 = (x: number) => Number(x.toFixed(4));
console.log(JSON.stringify({ alignment: r3(alignment), reference: r3(refAlignment), ratio: r3(alignment / refAlignment), full: r3(full), fullReference: r3(refFull), captions: count, seconds: Number(seconds.toFixed(1)) }));
