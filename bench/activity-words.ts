// `npm run bench -- activity-words`: whether the embedded text encoder lets what RL learns on one activity carry over
// to its relatives, as SD1.5's CLIP does for "cooking" and "baking". What the UNet's cross-attention reads of an
// activity is the change its phrase makes to the encoder's output, hidden("a zwx square <phrase>") - hidden("a zwx
// square") over all 77 positions; an adapter that learns to answer one change answers another in proportion to their
// cosine. Measured:
//   - sibling_cosine: mean cosine between activities of one family (wearing a hat / wearing a crown), canonical wordings;
//   - unrelated_cosine: the same between activities of different families;
//   - wording_retrieval: each non-canonical wording ("with a hat on") finds its own activity's canonical phrase as
//     the nearest among all activities' (the fraction that do).
// The text encoder is the base model's in every stage (DreamBooth and DDPO train the UNet only). Last line: JSON.
//   npm run bench -- activity-words [--model DIR]
import path from 'node:path';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { ACTIVITY_FAMILIES, ACTIVITY_WORDINGS, type Activity, familyOf } from '../src/runtime/world/index.js';

const args = process.argv.slice(3);
const at = args.indexOf('--model');
const modelDir = path.resolve(at >= 0 ? args[at + 1] : 'models/embedded');
const model = loadSdModel(modelDir);
const pipeline = new SdPipeline(model);
const activities = Object.values(ACTIVITY_FAMILIES).flat() as Exclude<Activity, 'none'>[];
const stem = `a ${R.subject.identifier} ${R.subject.classNoun}`;
const phrases = activities.flatMap((a) => ACTIVITY_WORDINGS[a].map((w, k) => ({ activity: a, wording: w, canonical: k === 0 })));
const hidden = await pipeline.encodeText([stem, ...phrases.map((p) => `${stem} ${p.wording}`)]);
await pipeline.release();

const size = hidden.shape.slice(1).reduce((a, b) => a * b, 1);
const data = hidden.data as Float32Array;
const changes = phrases.map((_, i) => Float64Array.from({ length: size }, (_, k) => data[(i + 1) * size + k] - data[k]));
const cosine = (a: Float64Array, b: Float64Array) => {
  let ab = 0, aa = 0, bb = 0;
  for (let k = 0; k < a.length; k++) [ab, aa, bb] = [ab + a[k] * b[k], aa + a[k] * a[k], bb + b[k] * b[k]];
  return ab / Math.sqrt(aa * bb);
};
const canonical = activities.map((a) => changes[phrases.findIndex((p) => p.activity === a && p.canonical)]);

// Siblings against unrelated pairs, canonical wordings.
let sib = 0, nSib = 0, unrel = 0, nUnrel = 0;
const perFamily: Record<string, number[]> = {};
for (let i = 0; i < activities.length; i++)
  for (let j = i + 1; j < activities.length; j++) {
    const c = cosine(canonical[i], canonical[j]);
    if (familyOf(activities[i]) === familyOf(activities[j])) {
      sib += c;
      nSib++;
      (perFamily[familyOf(activities[i])] ??= []).push(c);
    } else {
      unrel += c;
      nUnrel++;
    }
  }

// Each other wording: is its own activity's canonical phrase the nearest?
let hits = 0, tries = 0;
const misses: string[] = [];
phrases.forEach((p, i) => {
  if (p.canonical) return;
  const scores = canonical.map((c) => cosine(changes[i], c));
  const best = scores.indexOf(Math.max(...scores));
  tries++;
  if (activities[best] === p.activity) hits++;
  else misses.push(`"${p.wording}" -> ${activities[best]}`);
});

const tokens = (text: string) => model.tokenizer.tokens(text).map((id) => model.tokenizer.decode([id]).trim());
console.log(`model ${modelDir}; stem "${stem}"; ${activities.length} activities, ${phrases.length} wordings`);
console.log(`tokens of a few phrases: ${phrases.slice(0, 4).map((p) => tokens(p.wording).join('|')).join(', ')}\n`);
console.log('| family | mean cosine between its members |');
console.log('|---|---|');
for (const [f, cs] of Object.entries(perFamily)) console.log(`| ${f} (${ACTIVITY_FAMILIES[f as keyof typeof ACTIVITY_FAMILIES].length}) | ${(cs.reduce((a, b) => a + b, 0) / cs.length).toFixed(3)} |`);
const r3 = (x: number) => Number(x.toFixed(3));
const result = { sibling_cosine: r3(sib / nSib), unrelated_cosine: r3(unrel / nUnrel), wording_retrieval: r3(hits / tries) };
console.log(`\nsiblings ${result.sibling_cosine} against unrelated ${result.unrelated_cosine}; wording retrieval ${hits}/${tries}`);
if (misses.length) console.log(`wordings nearer another activity: ${misses.slice(0, 12).join(', ')}${misses.length > 12 ? ', ...' : ''}`);
console.log(JSON.stringify(result));
