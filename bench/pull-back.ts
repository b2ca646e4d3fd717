// `npm run bench -- pull-back`: where DreamBooth's overfitting lives, and what undoing part of it trades. The recipe's
// DreamBooth model of one subject has its weights moved a fraction t back toward the base model, W = DB + t (base - DB):
// all of them, only the cross-attention keys and values (where the prompt's tokens enter the image), or all but
// those. Each is judged as `bench -- instructbooth` judges: text fidelity on seen and unseen activity prompts (the
// oracle's 0/1), subject fidelity (tiny-CLIP cosine) and the oracle's identity check, 16 images a prompt.
// Last line: JSON.
//   npm run bench -- pull-back [--subject checkered-square]
import path from 'node:path';
import { loadSdModel, type SdModel } from '../src/runtime/models/sd-model.js';
import { interpolateWeights } from '../src/runtime/models/weights/interpolate.js';
import { TinyClipJudge } from '../src/runtime/rewards/tiny-clip-judge.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { SUBJECTS, WorldOracle } from '../src/runtime/world/index.js';
import { activityEvaluator } from './activity-eval.js';
import { worldDreamBooth } from './world-dreambooth.js';

const args = process.argv.slice(3);
const subjectId = args.includes('--subject') ? args[args.indexOf('--subject') + 1] : R.subject.id;
const subject = SUBJECTS.find((s) => s.id === subjectId);
if (!subject) throw new Error(`--subject ${subjectId}: one of ${SUBJECTS.map((s) => s.id).join(', ')}`);
const t0 = performance.now();
const log = (m: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${m}`);
const base = loadSdModel(path.resolve('models/embedded'));
const clip = TinyClipJudge.load(path.resolve('models/embedded/judge'));
const evaluateModel = activityEvaluator({ oracle: new WorldOracle(), clip });
const { model: db } = await worldDreamBooth(base, subject);
log(`${subject.id}: DreamBooth trained`);

const crossKv = (name: string) => /\.attn2\.to_[kv]\.weight$/.test(name);
const layerSets = { all: () => true, 'cross-attention k/v': crossKv, 'all but cross-attention k/v': (n: string) => !crossKv(n) } as const;
const settings: [keyof typeof layerSets, number][] = [
  ['all', 0], ['all', 0.05], ['all', 0.1], ['all', 0.15], ['all', 0.3], ['all', 1],
  ['cross-attention k/v', 0.1], ['cross-attention k/v', 1], ['all but cross-attention k/v', 1],
];
const rows = [];
for (const [layers, t] of settings) {
  const model: SdModel = t === 0 ? db : { ...db, unet: { ...db.unet, weights: interpolateWeights(db.unet.weights, base.unet.weights, t, layerSets[layers]) } };
  const seen = (await evaluateModel(model, undefined, subject, 'seen')).summary;
  const unseen = (await evaluateModel(model, undefined, subject, 'unseen')).summary;
  const row = { layers, t, seen: seen.oracle, unseen: unseen.oracle, subject: seen.subject, subjectCheck: seen.subjectMatch };
  log(JSON.stringify(row));
  rows.push(row);
}
await clip.release();

const f = (x: number) => x.toFixed(3);
const db0 = rows[0];
console.log(`\nDreamBooth (${subject.id}) pulled back toward the base model, W = DB + t (base - DB); ${((performance.now() - t0) / 60000).toFixed(1)} min\n`);
console.log('| layers moved | t | text fidelity, seen | text fidelity, unseen | subject fidelity (tiny-CLIP, seen) | / DreamBooth\'s | subject check (oracle, seen) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.t === 0 ? '(none: DreamBooth)' : r.t === 1 && r.layers === 'all' ? 'all (the base model)' : r.layers} | ${r.t} | ${f(r.seen)} | ${f(r.unseen)} | ${f(r.subject)} | ${f(r.subject / db0.subject)} | ${f(r.subjectCheck)} |`);
console.log(JSON.stringify({ subject: subject.id, rows: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(f(v)) : v]))) }));
