// Checks a running `npm run train:world` part way: the UNet checkpoint's EMA weights, with the finished VAE and text
// encoder from the same work folder, sampled on the base evaluation captions and judged by the oracle, as the last
// stage does. Learning curves (class kept at 2500 steps, say) come from here without stopping the run.
//   node --import tsx scripts/world-training/check-checkpoint.ts --out temp/world-v2 [--eval 64] [--guidance G] [--raw]
// Takes the same options as train:world (they must match the run's), the sampler's guidance (5), and --raw to check
// the raw parameters instead of their EMA; writes samples.png/json into <out>/.train/check-<step>/.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_SAMPLING } from '../../src/runtime/diffusion/sampler.js';
import { SD15_SCHEDULER_CONFIG } from '../../src/runtime/diffusion/schedule.js';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { loadWeights, log } from './io.js';
import { numberOption, parseArgs } from '../common/args.js';
import { parseWorldTraining, textClipConfig, WORLD_TRAINING_SWITCHES } from './options.js';
import { checkAlignment } from './save-and-check.js';
import { textEncoderWeights, trainTextClip } from './text-encoder-stage.js';
import { isTextWeight } from './unet-stage.js';
import { reusedStages } from './reused-stages.js';
import { DECODER_PASSES, loadDecoderPass, trainVae } from './vae-stage.js';

const argv = process.argv.slice(2);
const own = parseArgs(argv, [...WORLD_TRAINING_SWITCHES, 'raw']);
const raw = own.raw === true;
const w = parseWorldTraining(argv.filter((a) => a !== '--raw'));
const sampling = { ...DEFAULT_SAMPLING, guidance: numberOption(own)('guidance', DEFAULT_SAMPLING.guidance, DEFAULT_SAMPLING.guidance) };
if (sampling.guidance < 1) throw new Error(`--guidance must be at least 1, got ${sampling.guidance}`);
const ckpt = path.join(w.workDir, 'unet.ckpt.safetensors');
if (!fs.existsSync(ckpt)) throw new Error(`no UNet checkpoint yet at ${ckpt}`);
// Read the checkpoint first: the run may overwrite it while the rest loads.
const { weights, meta } = loadWeights(ckpt);
// EMA weights (or the raw ones); a --train-text run has the text encoder's among them.
const prefix = raw ? 'p.' : 'e.';
const unet = new Map<string, HostTensor>();
const trainedText = new Map<string, HostTensor>();
for (const [k, t] of weights) if (k.startsWith(prefix)) (isTextWeight(k.slice(2)) ? trainedText : unet).set(k.slice(2), t);
if (unet.size === 0) throw new Error(`${ckpt} holds no ${raw ? 'parameters' : 'EMA weights'}`);

// Every stage before the UNet is finished when a UNet checkpoint exists, so these only load their results (or take
// them from --stages-from); the decoder passes may still be running beside the UNet, so a finished pass is used when
// it is there (never trained here).
const tokenizer = ClipTokenizer.fromFolder(path.join(w.workDir, 'tokenizer'));
const clipConfig = textClipConfig(tokenizer.vocabSize);
const { vae, text } = w.stagesFrom ? reusedStages(w, w.stagesFrom, tokenizer, clipConfig.text) : await ownStages();
for (const pass of DECODER_PASSES) loadDecoderPass(w, vae, pass);
async function ownStages() {
  for (const f of ['vae.safetensors', 'text-clip.safetensors'])
    if (!fs.existsSync(path.join(w.workDir, f))) throw new Error(`${f} is missing from ${w.workDir}: that stage is not finished`);
  const clip = await trainTextClip(w, clipConfig, tokenizer, () => { throw new Error('the text encoder stage is not finished'); });
  return { vae: await trainVae(w), text: { config: clipConfig.text, weights: textEncoderWeights(clip) } };
}
const outDir = path.join(w.workDir, `check-${meta.step}${own.guidance === undefined ? '' : `-g${sampling.guidance}`}${raw ? '-raw' : ''}`);
fs.mkdirSync(outDir, { recursive: true });
log(`checking the UNet at step ${meta.step}`);
const result = await checkAlignment({
  source: w.out,
  unet: { config: w.unetConfig, weights: unet },
  vae: { config: vae.config, weights: vae.weights },
  textEncoder: { config: clipConfig.text, weights: trainedText.size > 0 ? trainedText : text.weights },
  tokenizer,
  scheduler: { ...SD15_SCHEDULER_CONFIG },
  resolution: w.res,
}, w.opt.evalCount, outDir, sampling);
console.log(JSON.stringify({ step: Number(meta.step), guidance: sampling.guidance, weights: raw ? 'raw' : 'ema', ...result }));
