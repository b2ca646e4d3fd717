// `npm run bench -- vae`: what the embedded model's VAE keeps. True renders go through encode (posterior mean) and
// decode, and the oracle judges them as it judges samples: the base evaluation captions' class, color and context
// (the ceiling of `bench world`), and each subject's identity check (class, color and white markings; the ceiling of
// DreamBooth's subject check). Reference run in the same process: the oracle on the true renders themselves.
// Last line: JSON {"identity": the round trips' identity check over every subject, "kept": the same among images
// whose true render passes it, "alignment": round trip,
// "reference": true renders, "subjects": {id: [round trip, true]}}.
//   npm run bench -- vae [--model DIR] [--vae-weights FILE[,FILE...]] [--per-subject N]
import fs from 'node:fs';
import path from 'node:path';
import { decodeSafetensors } from '../src/runtime/engine/safetensors.js';
import { Rng } from '../src/runtime/onnx/random.js';
import { loadSdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { worldSubjectCheck } from '../src/runtime/rewards/evaluate.js';
import { baseEvaluationCaptions, matchesCore, renderScenes, sampleSubjectScene, SUBJECTS, WorldOracle } from '../src/runtime/world/index.js';
import { flag } from './flags.js';

const modelDir = path.resolve(flag('model') ?? 'models/embedded');
const model = loadSdModel(modelDir);
// --vae-weights FILE[,FILE...]: train:world stages' results (vae.safetensors, then a decoder pass's decoder.* tensors)
// over the model's VAE, in order, so that a stage is measured without building a model folder around it.
const overlay = flag('vae-weights');
for (const file of overlay?.split(',') ?? []) {
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
  for (const [k, t] of Object.entries(tensors)) {
    if (!model.vae.weights.has(k)) throw new Error(`${file}: ${k} is not a weight of ${modelDir}'s VAE`);
    model.vae.weights.set(k, t);
  }
  if (metadata.scalingFactor) model.vae.config.scalingFactor = Number(metadata.scalingFactor);
}
const pipe = new SdPipeline(model, undefined, { threads: 1 });
const roundTrip = async (images: ReturnType<typeof renderScenes>) => pipe.decode(await pipe.encode(images));
const rate = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;

const { captions, scenes } = baseEvaluationCaptions(256);
const oracle = new WorldOracle();
const truth = renderScenes(scenes, 32);
const core = rate(oracle.judge(await roundTrip(truth), captions).map(matchesCore));
const coreRef = rate(oracle.judge(truth, captions).map(matchesCore));

console.log(`model ${modelDir}${overlay ? ` with ${overlay} over its VAE` : ''}: VAE round trip of true renders, judged by the oracle\n`);
console.log('| images | round trip | true renders |');
console.log('|---|---|---|');
console.log(`| 256 base captions: class, color and context | ${core.toFixed(3)} | ${coreRef.toFixed(3)} |`);
const subjects: Record<string, [number, number]> = {};
// Kept: of the images whose true render passes the check, the share whose round trip passes too (what the VAE loses,
// apart from markings the renderer itself leaves unreadable).
let passedTrue = 0, kept = 0;
// 128 scenes a subject: a subject's rate within about 0.04, the mean of five within about 0.02.
const PER_SUBJECT = Number(flag('per-subject') ?? 128);
for (const s of SUBJECTS) {
  const rng = new Rng(5);
  const images = renderScenes(Array.from({ length: PER_SUBJECT }, () => sampleSubjectScene(s, rng)), 32);
  const check = worldSubjectCheck(s);
  const back = check(await roundTrip(images)), truth = check(images);
  passedTrue += truth.filter(Boolean).length;
  kept += truth.filter((t, k) => t && back[k]).length;
  subjects[s.id] = [rate(back), rate(truth)];
  console.log(`| ${PER_SUBJECT} of subject ${s.id}: identity check | ${subjects[s.id][0].toFixed(2)} | ${subjects[s.id][1].toFixed(2)} |`);
}
await pipe.release();
const identity = Object.values(subjects).reduce((a, [r]) => a + r, 0) / SUBJECTS.length;
console.log(`| every subject: identity check | ${identity.toFixed(3)} | ${(Object.values(subjects).reduce((a, [, t]) => a + t, 0) / SUBJECTS.length).toFixed(3)} |`);
console.log(`| kept: round trip passes where the true render does | ${(kept / passedTrue).toFixed(3)} | 1 |`);
console.log(`\n${JSON.stringify({ identity: Number(identity.toFixed(3)), kept: Number((kept / passedTrue).toFixed(3)), alignment: core, reference: coreRef, subjects })}`);
