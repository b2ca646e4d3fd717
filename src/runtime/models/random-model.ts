// A Stable Diffusion model with fresh random weights for any configs: the starting point of `npm run train:world`
// and a stand-in in tests.
import { SD15_SCHEDULER_CONFIG } from '../diffusion/schedule.js';
import type { ClipTokenizer } from '../diffusion/tokenizer.js';
import { GraphBuilder } from '../onnx/builder.js';
import { RandomInit } from '../onnx/params.js';
import { initWeights } from './blocks.js';
import { type ClipTextConfig, clipText } from './clip-text.js';
import type { UNetConfig, VaeConfig } from './configs.js';
import type { SdModel } from './sd-model.js';
import { unet, unetSizeMultiple } from './unet.js';
import { vaeDecode, vaeDownscale, vaeEncode } from './vae.js';

export function randomSdModel(c: { unet: UNetConfig; vae: VaeConfig; text: ClipTextConfig; tokenizer: ClipTokenizer; resolution: number; seed?: number }): SdModel {
  const seed = c.seed ?? 0;
  const unetW = initWeights((params) => {
    const b = new GraphBuilder();
    const m = unetSizeMultiple(c.unet);
    unet({ b, params }, c.unet, b.input('s', [1, c.unet.inChannels, m, m]), b.input('t', [1]), b.input('c', [1, 1, c.unet.crossAttentionDim]));
  }, new RandomInit(seed));
  const vaeW = initWeights((params) => {
    const b = new GraphBuilder();
    const d = vaeDownscale(c.vae);
    vaeEncode({ b, params }, c.vae, b.input('x', [1, c.vae.inChannels, d, d]));
    vaeDecode({ b, params }, c.vae, b.input('z', [1, c.vae.latentChannels, 1, 1]));
  }, new RandomInit(seed + 1));
  const textW = initWeights((params) => {
    const b = new GraphBuilder();
    clipText({ b, params }, c.text, b.input('ids', [1, c.text.maxPositions], 'int64'));
  }, new RandomInit(seed + 2));
  return {
    source: `random:${seed}`,
    unet: { config: c.unet, weights: unetW },
    vae: { config: c.vae, weights: vaeW },
    textEncoder: { config: c.text, weights: textW },
    tokenizer: c.tokenizer,
    scheduler: { ...SD15_SCHEDULER_CONFIG },
    resolution: c.resolution,
  };
}
