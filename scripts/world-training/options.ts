// The command line of `npm run train:world` and the embedded model's architectures.
import fs from 'node:fs';
import path from 'node:path';
import { TINY_UNET, TINY_VAE, type UNetConfig, type VaeConfig } from '../../src/runtime/models/configs.js';
import { type TinyClipConfig, tinyClipConfig } from '../../src/runtime/rewards/tiny-clip.js';
import { numberOption, parseArgs } from '../common/args.js';

export interface WorldTraining {
  /** Where the finished diffusers folder goes. */
  out: string;
  /** Checkpoints and finished stages (<out>/.train). */
  workDir: string;
  quick: boolean;
  /** Train the text encoder together with the UNet (v1's way) instead of freezing it: a diagnostic, not SD's way. */
  trainText: boolean;
  /** A diffusers folder whose VAE and text encoder stand in for stages 2 and 3 (only the UNet trains). */
  stagesFrom?: string;
  /** Run the decoder passes only: the child process that trains them beside the text encoder and UNet. */
  decodersOnly: boolean;
  seed: number;
  /** Image side in pixels. */
  res: number;
  opt: {
    vaeSteps: number;
    decoderSteps: number;
    /** The decoder's second pass (0: none). */
    polishSteps: number;
    /** The second pass's weight on pixels that stand out from their neighbours (detail-weights.ts; 0: plain loss). */
    decoderDetail: number;
    vaeBatch: number;
    vaeImages: number;
    clipSteps: number;
    clipBatch: number;
    clipImages: number;
    /** Fraction of each text-CLIP batch made of minimal pairs (two scenes that differ in class or activity only). */
    clipPairs: number;
    unetSteps: number;
    unetBatch: number;
    examples: number;
    scaleImages: number;
    evalCount: number;
    ckptEvery: number;
    logEvery: number;
  };
  /** Architectures (the latent channels are an option). */
  vaeConfig: VaeConfig;
  unetConfig: UNetConfig;
  /** Stage name -> seconds. */
  times: Record<string, number>;
}

/** The options of train:world that take no value. */
export const WORLD_TRAINING_SWITCHES = ['quick', 'fresh', 'train-text', 'decoders-only'] as const;

export function parseWorldTraining(argv: string[]): WorldTraining {
  const args = parseArgs(argv, WORLD_TRAINING_SWITCHES);
  const quick = args.quick === true;
  const num = numberOption(args);
  const out = path.resolve(typeof args.out === 'string' ? args.out : 'models/embedded');
  const workDir = path.join(out, '.train');
  if (args.fresh) fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const latentChannels = num('latent-channels', 8, 8);
  const unetChannels = typeof args['unet-channels'] === 'string' ? channelList(args['unet-channels']) : UNET_CONFIG.blockOutChannels;
  const stagesFrom = typeof args['stages-from'] === 'string' ? path.resolve(args['stages-from']) : undefined;
  return {
    out, workDir, quick, trainText: args['train-text'] === true, stagesFrom, decodersOnly: args['decoders-only'] === true,
    seed: num('seed', 0, 0), res: 32, times: {},
    vaeConfig: { ...VAE_CONFIG, latentChannels },
    unetConfig: { ...UNET_CONFIG, blockOutChannels: unetChannels, inChannels: latentChannels, outChannels: latentChannels },
    opt: {
      vaeSteps: num('vae-steps', 2100, 100),
      decoderSteps: num('decoder-steps', 2500, 100),
      polishSteps: num('polish-steps', stagesFrom ? 0 : 6000, stagesFrom ? 0 : 100),
      decoderDetail: num('decoder-detail', 0, 0),
      vaeBatch: num('vae-batch', 32, 16),
      vaeImages: num('vae-images', 40000, 1000),
      clipSteps: num('clip-steps', 1000, 60),
      clipBatch: num('clip-batch', 128, 64),
      clipImages: num('clip-images', 30000, 2000),
      clipPairs: num('clip-pairs', 0.5, 0.5),
      unetSteps: num('unet-steps', 16000, 150),
      unetBatch: num('unet-batch', 48, 16),
      examples: num('examples', 30000, 1000),
      scaleImages: num('scale-images', 4096, 512),
      evalCount: num('eval', 64, 64),
      ckptEvery: num('ckpt-every', 500, 100),
      logEvery: num('log-every', 50, 25),
    },
  };
}

/** `--unet-channels 64,96,128`: the UNet's width per level (three levels, each a multiple of its 8 norm groups). */
function channelList(v: string): number[] {
  const c = v.split(',').map(Number);
  if (c.length !== UNET_CONFIG.blockOutChannels.length || c.some((n) => !Number.isInteger(n) || n <= 0 || n % UNET_CONFIG.normNumGroups !== 0))
    throw new Error(`--unet-channels takes ${UNET_CONFIG.blockOutChannels.length} positive multiples of ${UNET_CONFIG.normNumGroups}, got ${v}`);
  return c;
}

export const VAE_CONFIG: VaeConfig = { ...TINY_VAE, blockOutChannels: [32, 64, 64], layersPerBlock: 1, normNumGroups: 8, scalingFactor: 1 };

export const UNET_CONFIG: UNetConfig = {
  ...TINY_UNET,
  blockOutChannels: [48, 64, 96],
  layersPerBlock: 1,
  downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  crossAttentionDim: 64,
  attentionHeads: 4,
  normNumGroups: 8,
};

/**
 * The text encoder is the text tower of a tiny CLIP trained contrastively first and then frozen, as SD1.5 uses CLIP
 * ViT-L/14's: 77 tokens, its final hidden states are what the UNet's cross-attention reads (width = the UNet's
 * crossAttentionDim). The image tower projects every position of its last feature map ('flatten'), so where things
 * are ("on the left") is something the contrast can teach the text side.
 */
export function textClipConfig(vocabSize: number): TinyClipConfig {
  return tinyClipConfig(vocabSize, {
    pool: 'flatten',
    textLength: 77,
    embedDim: 64,
    text: { width: UNET_CONFIG.crossAttentionDim, layers: 3, heads: 4, intermediate: 256, maxPositions: 77 },
  });
}
