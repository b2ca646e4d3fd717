// `npm run train:world`: trains the embedded default text-to-image model on the generated world with the project's
// own engine, and writes it as a diffusers folder. The stages follow how Stable Diffusion 1.5 was made:
//   1. tokenizer: CLIP tokenizer files for the world's closed vocabulary, one token per word (world-tokenizer.ts);
//   2. VAE (32x32 images <-> 8x8x8 latents), then its decoder alone, twice (scripts/world-training/vae-stage.ts): the
//      decoder passes in a child process beside stages 3 and 4, which need only the encoder (decoder-branch.ts);
//   3. text encoder: a tiny CLIP trained contrastively on world images and captions in every wording, then frozen
//      (text-encoder-stage.ts);
//   4. UNet from random init on the frozen encoder's hidden states (unet-stage.ts);
//   5. save, reload and check alignment with the oracle (save-and-check.ts).
// Every stage resumes: finished stages leave their result in <out>/.train/, running ones checkpoint every few hundred
// steps (parameters and optimizer state), so rerunning the same command continues where it stopped.
//
// Options: --out DIR (models/embedded), --quick (a smoke run: a few hundred steps in all), --fresh (ignore earlier
// checkpoints), --seed N, --vae-steps N, --decoder-steps N, --polish-steps N, --decoder-detail X (0: the second decoder
// pass's weight on pixels that stand out, detail-weights.ts; 4 measured better, docs/world-v2.md), --vae-batch N,
// --vae-images N, --clip-steps N, --clip-batch N, --clip-images N, --clip-pairs F (0.5: the fraction of each text-CLIP
// batch in minimal pairs), --unet-steps N, --unet-batch N, --examples N (UNet training scenes), --eval N, --ckpt-every
// N, --log-every N, --latent-channels N (8), --unet-channels A,B,C (48,64,96: the UNet's width per level), --train-text
// (the text encoder trains with the UNet, as v1's did: a diagnostic), --stages-from DIR (the VAE and text encoder of
// the diffusers folder DIR: only the UNet trains, and the decoder when --polish-steps is given).
import path from 'node:path';
import { vaeParamShapes } from '../src/runtime/models/vae.js';
import { unetParamShapes } from '../src/runtime/models/unet.js';
import { tinyClipParamShapes } from '../src/runtime/rewards/tiny-clip.js';
import { captionVariant } from '../src/runtime/world/index.js';
import { countValues, fmt, log, timed } from './world-training/io.js';
import { parseWorldTraining, textClipConfig } from './world-training/options.js';
import { startDecoderBranch } from './world-training/decoder-branch.js';
import { reusedStages } from './world-training/reused-stages.js';
import { saveAndCheck } from './world-training/save-and-check.js';
import { type Describe, textEncoderWeights, trainTextClip } from './world-training/text-encoder-stage.js';
import { isTextWeight, trainUnet } from './world-training/unet-stage.js';
import { worldTokenizer } from './world-training/world-tokenizer.js';
import { type TrainedVae, polishDecoder, reconstructionMse, roundTripIdentity, trainDecoder, trainVae } from './world-training/vae-stage.js';

const w = parseWorldTraining(process.argv.slice(2));

const tokenizerDir = path.join(w.workDir, 'tokenizer');
const tokenizer = await timed(w.times, '1-tokenizer', async () => {
  const { tokenizer: tok, words } = worldTokenizer(tokenizerDir);
  log(`tokenizer: ${words} words, vocabulary of ${tok.vocabSize} tokens -> ${tokenizerDir}`);
  return tok;
});
const clipConfig = textClipConfig(tokenizer.vocabSize);
const millions = (m: Map<string, number[]>) => (countValues(m) / 1e6).toFixed(2);
log(`parameters: VAE ${millions(vaeParamShapes(w.vaeConfig))}M, UNet ${millions(unetParamShapes(w.unetConfig))}M, ` +
  `text CLIP ${millions(tinyClipParamShapes(clipConfig))}M (the text tower ships)`);
log(`options: ${JSON.stringify({ out: w.out, quick: w.quick, seed: w.seed, ...w.opt })}`);

/** Training captions in a random wording of each phrase: the size said half the time, the color 85% (prompts often
 * leave it out). */
const describe: Describe = (scene, rng) => captionVariant(scene, rng, { size: rng.uniform() < 0.5, color: rng.uniform() < 0.85 });

/** The decoder alone, twice (the first pass not when the VAE is reused): loads their results when they are done. */
async function decoderPasses(vae: TrainedVae) {
  if (!w.stagesFrom) await trainDecoder(w, vae);
  await polishDecoder(w, vae);
}
function logStageTimes() {
  log(`stage times (s): ${Object.entries(w.times).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
}
async function logVae(vae: TrainedVae) {
  log(`vae: held-out reconstruction MSE ${fmt(await reconstructionMse(w, vae), 5)} (images in [-1, 1]); identity check on round trips ${JSON.stringify(await roundTripIdentity(w, vae))}`);
}

// With --stages-from, the VAE and text encoder come from DIR; --polish-steps N gives the reused decoder another pass.
const reused = w.stagesFrom ? reusedStages(w, w.stagesFrom, tokenizer, clipConfig.text) : undefined;
const vae = reused?.vae ?? await trainVae(w);
if (w.decodersOnly) {
  await decoderPasses(vae);
  logStageTimes();
  process.exit(0);
}
// A failed child is reported once the UNet is done, not by stopping it.
const branch = reused && w.opt.polishSteps === 0 ? undefined
  : startDecoderBranch(process.argv.slice(2).filter((a) => a !== '--fresh')).then(() => undefined, (e: Error) => e);
const text = reused?.text ?? { config: clipConfig.text, weights: textEncoderWeights(await trainTextClip(w, clipConfig, tokenizer, describe)) };
const trained = await trainUnet(w, vae, text, tokenizer, describe);
// With --train-text the UNet stage trained the text encoder too: its weights come back beside the UNet's.
const unet = new Map([...trained].filter(([k]) => !isTextWeight(k)));
const finalText = w.trainText ? { config: text.config, weights: new Map([...trained].filter(([k]) => isTextWeight(k))) } : text;
if (branch) {
  const failed = await branch;
  if (failed) throw failed;
  await decoderPasses(vae);
  await logVae(vae);
}
await saveAndCheck(w, { vae, unet, text: finalText, tokenizer, tokenizerDir });
logStageTimes();
