// `npm run bench -- activity-words`: how much the embedded text encoder lets an activity learned in RL carry over to one
// it never saw. What the UNet's cross-attention reads of an activity is the change it makes to the encoder's output,
// hidden("a zwx square <activity>") - hidden("a zwx square") over all 77 positions; an adapter that learns to answer
// one such change answers another in proportion to their cosine. SD1.5's CLIP encoder was trained on the web, where
// "cooking" and "playing guitar" share meaning; the world's encoder was trained from scratch on the world's captions.
// The text encoder is the base model's in every stage (DreamBooth and DDPO train the UNet only). Last line: JSON.
//   npm run bench -- activity-words
import path from 'node:path';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { ACTIVITY_PHRASES, SEEN_ACTIVITIES, UNSEEN_ACTIVITIES } from '../src/runtime/world/index.js';

const model = loadSdModel(path.resolve('models/embedded'));
const pipeline = new SdPipeline(model);
const activities = [...SEEN_ACTIVITIES, ...UNSEEN_ACTIVITIES];
const stem = `a ${R.subject.identifier} ${R.subject.classNoun}`;
const phrases = activities.map((a) => `${stem} ${ACTIVITY_PHRASES[a]}`);
const hidden = await pipeline.encodeText([stem, ...phrases]);
await pipeline.release();

const size = hidden.shape.slice(1).reduce((a, b) => a * b, 1);
const data = hidden.data as Float32Array;
const change = (i: number) => Float64Array.from({ length: size }, (_, k) => data[(i + 1) * size + k] - data[k]);
const changes = activities.map((_, i) => change(i));
const cosine = (a: Float64Array, b: Float64Array) => {
  let ab = 0, aa = 0, bb = 0;
  for (let k = 0; k < a.length; k++) [ab, aa, bb] = [ab + a[k] * b[k], aa + a[k] * a[k], bb + b[k] * b[k]];
  return ab / Math.sqrt(aa * bb);
};
const matrix = changes.map((a) => changes.map((b) => cosine(a, b)));

const tokens = (text: string) => model.tokenizer.tokens(text).map((id) => model.tokenizer.decode([id]).trim());
console.log('Tokens of each activity phrase (shared tokens are where learning one can move another):');
for (const a of activities) console.log(`  ${a.padEnd(15)} ${tokens(ACTIVITY_PHRASES[a]).join(' | ')}`);

const short = (a: string) => a.slice(0, 8).padStart(9);
console.log(`\nCosine of the activities' changes to the encoder output (rows and columns: seen, then unseen *):`);
console.log(' '.repeat(16) + activities.map(short).join(''));
activities.forEach((a, i) => {
  const name = `${a}${i >= SEEN_ACTIVITIES.length ? ' *' : ''}`;
  console.log(name.padEnd(16) + matrix[i].map((c) => c.toFixed(2).padStart(9)).join(''));
});

const nearest = UNSEEN_ACTIVITIES.map((u) => {
  const i = activities.indexOf(u);
  const scored = SEEN_ACTIVITIES.map((s) => ({ seen: s, cosine: matrix[i][activities.indexOf(s)] }));
  return { unseen: u, ...scored.reduce((best, x) => (x.cosine > best.cosine ? x : best)) };
});
console.log('\nEach unseen activity and its nearest seen one:');
for (const n of nearest) console.log(`  ${n.unseen.padEnd(15)} ${n.seen.padEnd(15)} ${n.cosine.toFixed(2)}`);
const round = (x: number) => Math.round(x * 1000) / 1000;
console.log(JSON.stringify({ activities, cosine: matrix.map((r) => r.map(round)), nearest: nearest.map((n) => ({ ...n, cosine: round(n.cosine) })) }));
