// A random tiny SD model saved as a diffusers folder in a test's models/checkpoints, for node tests that must not
// depend on the embedded model's weights.
import path from 'node:path';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { clipTextTiny } from '../../src/runtime/models/clip-text.js';
import { TINY_UNET, TINY_VAE } from '../../src/runtime/models/configs.js';
import { randomSdModel } from '../../src/runtime/models/random-model.js';
import { saveSdModelFolder, type SdModel } from '../../src/runtime/models/sd-model.js';
import type { Folders } from '../../src/runtime/graph/node-api.js';
import type { ModelHandle } from '../../src/nodes/common/model.js';
import { LoadCheckpoint } from '../../src/nodes/load-checkpoint.js';
import { fakeContext, makeFolders, type TestFolders } from './fake-context.js';
import { runNode } from './run-node.js';

export const TINY_TOKENIZER = path.join(import.meta.dirname, '../fixtures/clip-tiny/tokenizer');

export function tinySdModel(seed = 3): SdModel {
  const tokenizer = ClipTokenizer.fromFolder(TINY_TOKENIZER);
  const text = clipTextTiny(tokenizer.vocabSize);
  return { ...randomSdModel({ unet: { ...TINY_UNET, crossAttentionDim: text.width }, vae: TINY_VAE, text, tokenizer, resolution: 16, seed }), tokenizerDir: TINY_TOKENIZER };
}

/** Writes the tiny model as models/checkpoints/<name> and returns the name LoadCheckpoint takes. */
export function writeTinyCheckpoint(folders: Folders, name = 'tiny', seed = 3): string {
  saveSdModelFolder(path.join(folders.models, 'checkpoints', name), tinySdModel(seed), TINY_TOKENIZER);
  return name;
}

/** Test folders with the tiny checkpoint written and loaded through LoadCheckpoint (CPU, one thread). */
export async function tinyModelFolders(): Promise<{ folders: TestFolders; model: ModelHandle }> {
  const folders = await makeFolders();
  writeTinyCheckpoint(folders);
  const out = await runNode(LoadCheckpoint, { ckpt_name: 'tiny', device: 'cpu', threads: 1 }, fakeContext(folders));
  return { folders, model: out.outputs[0] as ModelHandle };
}
