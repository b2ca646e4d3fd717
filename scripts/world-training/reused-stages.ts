// `--stages-from DIR`: the VAE and frozen text encoder of an earlier model stand in for stages 2 and 3, so that a new
// UNet schedule costs only the UNet's time. Both must match what this run would have built (tokenizer, widths).
import type { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import type { ClipTextConfig } from '../../src/runtime/models/clip-text.js';
import { loadSdModel } from '../../src/runtime/models/sd-model.js';
import type { HostTensor } from '../../src/runtime/onnx/tensor.js';
import { log } from './io.js';
import type { WorldTraining } from './options.js';
import type { TrainedVae } from './vae-stage.js';

export function reusedStages(
  w: WorldTraining, dir: string, tokenizer: ClipTokenizer, textConfig: ClipTextConfig,
): { vae: TrainedVae; text: { config: ClipTextConfig; weights: Map<string, HostTensor> } } {
  const m = loadSdModel(dir);
  const differs = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`--stages-from ${dir}: its ${what} is ${JSON.stringify(a)}, this run's would be ${JSON.stringify(b)}`);
  };
  differs('tokenizer vocabulary size', m.tokenizer.vocabSize, tokenizer.vocabSize);
  differs('latent channels', m.vae.config.latentChannels, w.vaeConfig.latentChannels);
  differs('VAE widths', m.vae.config.blockOutChannels, w.vaeConfig.blockOutChannels);
  for (const k of Object.keys(textConfig) as (keyof ClipTextConfig)[]) differs(`text encoder's ${k}`, m.textEncoder.config[k], textConfig[k]);
  log(`stages 2-3: the VAE (scaling factor ${m.vae.config.scalingFactor}) and text encoder of ${dir}`);
  return { vae: { weights: m.vae.weights, config: m.vae.config }, text: { config: textConfig, weights: m.textEncoder.weights } };
}
