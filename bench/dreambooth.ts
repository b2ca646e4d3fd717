// `npm run bench -- dreambooth`: stage 1 on the embedded world, with the recipe's settings (src/runtime/world/recipe.ts,
// those of workflows/dreambooth.json):
//   1. subject fidelity: tiny-CLIP cosine of "a [V] [class]" samples to the subject's images, for the base model and
//      after DreamBooth, against the images' own mutual cosine (the reference, in the same run);
//   2. prior preservation: how far "a [class]" samples drift from the base model's (mean cosine distance of paired
//      images, same seeds), trained with and without the prior loss;
//   3. the rare subject (the triangle plushie, "a phr triangle plushie"): fidelity with and without the description
//      in the instance prompt (the paper's Table 3 in miniature).
// Subject fidelity is also judged by the oracle's exact identity check (on more samples of the same prompt and seeds).
//   4. the paper's problem (its Figure 2): text fidelity (the oracle, every claim) of every activity, for the base
//      model on "a [class] <activity>" and for DreamBooth on "a [V] [class] <activity>".
// Last line: JSON, with the headline fields {"identity", "references_identity", "base_activity_text",
// "dreambooth_activity_text"} first.
//   npm run bench -- dreambooth [--model DIR]   (DIR/judge is the tiny-CLIP judge)
import path from 'node:path';
import type { ImageBatch } from '../src/runtime/engine/image.js';
import { loadSdModel, type SdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { cosine, meanPairwiseCosine, selfSimilarity } from '../src/runtime/rewards/metrics.js';
import { worldSubjectCheck } from '../src/runtime/rewards/evaluate.js';
import { TinyClipJudge } from '../src/runtime/rewards/tiny-clip-judge.js';
import { trainDreamBooth } from '../src/runtime/training/dreambooth.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { ACTIVITY_PHRASES, subjectPrompts, subjectReferences, SUBJECTS, WorldOracle } from '../src/runtime/world/index.js';

const t0 = performance.now();
const log = (m: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${m}`);
const args = process.argv.slice(3);
const at = args.indexOf('--model');
const modelDir = path.resolve(at >= 0 ? args[at + 1] : 'models/embedded');
const base = loadSdModel(modelDir);
const clip = TinyClipJudge.load(path.join(modelDir, 'judge'));
const N = 16;
const sample = async (m: SdModel, prompt: string, seed0 = 0, n = N): Promise<ImageBatch> => {
  const pipe = new SdPipeline(m);
  try {
    return (await pipe.sample({ prompts: Array(n).fill(prompt), seeds: Array.from({ length: n }, (_, i) => seed0 + i), steps: R.evaluation.steps, guidance: R.evaluation.guidance, scheduler: 'ddim' })).images;
  } finally {
    await pipe.release();
  }
};
async function dreambooth(subjectId: string, o: { prior: boolean; description?: boolean }): Promise<SdModel> {
  const s = SUBJECTS.find((x) => x.id === subjectId)!;
  const ps = subjectPrompts(s);
  const instancePrompt = o.description === false ? `a ${s.identifier} ${s.classNoun}` : ps.instancePrompt;
  const classImages = o.prior ? await (async () => {
    const pipe = new SdPipeline(base);
    const n = R.classImages.count;
    const r = await pipe.sample({ prompts: Array(n).fill(ps.classPrompt), seeds: Array.from({ length: n }, (_, i) => R.classImages.seed + i), steps: R.classImages.steps, guidance: R.classImages.guidance, scheduler: 'ddim' });
    await pipe.release();
    return r.images;
  })() : undefined;
  const r = await trainDreamBooth(base, { instancePrompt, instanceImages: subjectReferences(s).images, classPrompt: ps.classPrompt, classImages, ...R.dreambooth });
  log(`${subjectId}: DreamBooth on "${instancePrompt}"${o.prior ? ' with prior preservation' : ''}`);
  return { ...base, unet: { ...base.unet, weights: r.unetWeights! } };
}
const fidelity = async (m: SdModel, prompt: string, refs: Float32Array[]) => meanPairwiseCosine(await clip.embed(await sample(m, prompt, 500)), refs);
/** The oracle's exact identity check (class, color, markings): the fraction of samples that pass (the subject's own
 * images pass it all), over the fidelity's samples and more of the same seed run (a 0/1 check needs more images). */
const IDENTITY_N = 48;
const identityPass = async (m: SdModel, subjectId: string, prompt: string) => {
  const passed = worldSubjectCheck(subjectId)(await sample(m, prompt, 500, IDENTITY_N));
  return passed.filter(Boolean).length / passed.length;
};

// 1 and 2: the recipe's subject.
const subj = SUBJECTS.find((s) => s.id === R.subject.id)!;
const ps = subjectPrompts(subj);
const refs = await clip.embed(subjectReferences(subj).images);
const refSelf = selfSimilarity(refs);
const withPrior = await dreambooth(subj.id, { prior: true });
const noPrior = await dreambooth(subj.id, { prior: false });
const fid = { base: await fidelity(base, ps.instancePrompt, refs), dreambooth: await fidelity(withPrior, ps.instancePrompt, refs), dreamboothNoPrior: await fidelity(noPrior, ps.instancePrompt, refs) };
const refPassed = worldSubjectCheck(subj.id)(subjectReferences(subj).images);
const check = { base: await identityPass(base, subj.id, ps.instancePrompt), dreambooth: await identityPass(withPrior, subj.id, ps.instancePrompt), references: refPassed.filter(Boolean).length / refPassed.length };
const baseClass = await clip.embed(await sample(base, ps.classPrompt, 900));
const drift = async (m: SdModel) => {
  const e = await clip.embed(await sample(m, ps.classPrompt, 900));
  return e.reduce((a, v, i) => a + (1 - cosine(v, baseClass[i])), 0) / e.length;
};
const prior = { withPrior: await drift(withPrior), withoutPrior: await drift(noPrior) };

// 4: every activity's text fidelity, base without the identifier, DreamBooth with it.
const ACTIVITY_N = 8;
const activities = Object.values(ACTIVITY_PHRASES).filter((p) => p !== '');
const activityText = async (m: SdModel, stem: string) => {
  let met = 0;
  for (const phrase of activities) {
    const prompt = `${stem} ${phrase}`;
    met += oracle.judge(await sample(m, prompt, 700, ACTIVITY_N), Array(ACTIVITY_N).fill(prompt)).filter((r) => r.matches).length;
  }
  return met / (activities.length * ACTIVITY_N);
};
const oracle = new WorldOracle();
const activityFidelity = { base: await activityText(base, ps.classPrompt), dreambooth: await activityText(withPrior, `a ${subj.identifier} ${subj.classNoun}`) };
log(`activity text fidelity: base ${activityFidelity.base.toFixed(3)}, DreamBooth ${activityFidelity.dreambooth.toFixed(3)}`);

// 3: the rare subject, with and without its description.
const rare = SUBJECTS.find((s) => s.rare)!;
const rp = subjectPrompts(rare);
const rareRefs = await clip.embed(subjectReferences(rare).images);
const withDesc = await dreambooth(rare.id, { prior: true });
const withoutDesc = await dreambooth(rare.id, { prior: true, description: false });
const rareFid = {
  withDescription: await fidelity(withDesc, rp.instancePrompt, rareRefs),
  withoutDescription: await fidelity(withoutDesc, `a ${rare.identifier} ${rare.classNoun}`, rareRefs),
  referenceSelfSimilarity: selfSimilarity(rareRefs),
};
await clip.release();

const f = (x: number) => x.toFixed(3);
console.log(`\nDreamBooth on the embedded world (${R.dreambooth.steps} steps, lr ${R.dreambooth.lr}, batch ${R.dreambooth.batchSize}; ${N} samples per prompt); ${((performance.now() - t0) / 60000).toFixed(1)} min\n`);
console.log(`Subject fidelity of "${ps.instancePrompt}" (tiny-CLIP cosine to the ${subj.id} images; their own mutual cosine ${f(refSelf)}):`);
console.log(`| base | DreamBooth | DreamBooth without prior loss | DreamBooth / references |\n|---|---|---|---|\n| ${f(fid.base)} | ${f(fid.dreambooth)} | ${f(fid.dreamboothNoPrior)} | ${f(fid.dreambooth / refSelf)} |\n`);
console.log(`The oracle's identity check (class, color and white markings) on ${IDENTITY_N} samples of the same prompt and seeds, fraction passing:`);
console.log(`| base | DreamBooth | the subject's images | DreamBooth / references |\n|---|---|---|---|\n| ${f(check.base)} | ${f(check.dreambooth)} | ${f(check.references)} | ${f(check.dreambooth / check.references)} |\n`);
console.log(`Prior preservation: drift of "${ps.classPrompt}" samples from the base model's (1 - cosine, same seeds):`);
console.log(`| with prior loss | without |\n|---|---|\n| ${f(prior.withPrior)} | ${f(prior.withoutPrior)} |\n`);
console.log(`Rare subject (${rare.id}): fidelity with and without the description "${rp.description}" (references' own ${f(rareFid.referenceSelfSimilarity)}):`);
console.log(`| "${rp.instancePrompt}" | "a ${rare.identifier} ${rare.classNoun}" |\n|---|---|\n| ${f(rareFid.withDescription)} | ${f(rareFid.withoutDescription)} |\n`);
console.log(`Text fidelity of the ${activities.length} activities (${ACTIVITY_N} samples each, every claim of the prompt, the oracle):`);
console.log(`| base, "${ps.classPrompt} <activity>" | DreamBooth, "a ${subj.identifier} ${subj.classNoun} <activity>" |\n|---|---|\n| ${f(activityFidelity.base)} | ${f(activityFidelity.dreambooth)} |\n`);
console.log(JSON.stringify({ identity: Number(f(check.dreambooth)), references_identity: Number(f(check.references)),
  base_activity_text: Number(f(activityFidelity.base)), dreambooth_activity_text: Number(f(activityFidelity.dreambooth)), referenceSelfSimilarity: Number(f(refSelf)), fidelity: Object.fromEntries(Object.entries(fid).map(([k, v]) => [k, Number(f(v))])), ratio: Number(f(fid.dreambooth / refSelf)),
  identityCheck: Object.fromEntries(Object.entries(check).map(([k, v]) => [k, Number(f(v))])),
  priorDrift: { withPrior: Number(f(prior.withPrior)), withoutPrior: Number(f(prior.withoutPrior)) }, rare: Object.fromEntries(Object.entries(rareFid).map(([k, v]) => [k, Number(f(v))])) }));
