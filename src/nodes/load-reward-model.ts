// LoadRewardModel: the judge RL optimizes and evaluation reports. Built in: the world's exact oracle and its trained
// tiny CLIP; a user's own: a folder in models/rewards/ with an ONNX export of ImageReward, PickScore or CLIP (the
// interface is documented in src/runtime/rewards/onnx-reward.ts and the README).
import fs from 'node:fs';
import path from 'node:path';
import type { Folders } from '../runtime/graph/node-api.js';
import { loadRewardModel } from '../runtime/rewards/index.js';
import { EMBEDDED_DIR } from './common/checkpoints.js';
import { defineNode } from './common/define-node.js';
import { byCodePoint, isDirectory, resolveInside } from './common/files.js';
import type { RewardHandle } from './common/reward.js';

const BUILT_IN = ['oracle', 'tiny-clip'];

function listRewards(folders: Folders): string[] {
  const dir = path.join(folders.models, 'rewards');
  let user: string[] = [];
  try {
    user = fs.readdirSync(dir).filter((n) => isDirectory(path.join(dir, n))).sort(byCodePoint);
  } catch {
    /* none yet */
  }
  return [...BUILT_IN, ...user];
}

export const LoadRewardModel = defineNode({
  type: 'LoadRewardModel',
  displayName: 'Load Reward Model',
  category: 'loaders',
  description:
    'A judge of image-text alignment: "oracle" (the generated world\'s exact judge), "tiny-clip" (a CLIP trained on the world: CLIP-T ' +
    'and DINO stand-in), or a folder in models/rewards/ holding an ONNX export of ImageReward, PickScore or CLIP.',
  inputs: {
    reward_model: { type: 'COMBO', options: listRewards, default: 'oracle' },
    device: { type: 'COMBO', options: ['auto', 'cpu', 'cuda', 'webgpu'], default: 'auto', tooltip: 'As LoadCheckpoint\'s device.' },
  },
  outputs: [{ name: 'REWARD_MODEL', type: 'REWARD_MODEL' }],
  validate: (inputs, folders) => {
    const name = inputs.reward_model ?? '';
    if (BUILT_IN.includes(name)) return undefined;
    const dir = resolveInside(path.join(folders.models, 'rewards'), name);
    return dir && isDirectory(dir) ? undefined : `reward model not found: ${name} (looked in ${path.join(folders.models, 'rewards')})`;
  },
  async run(inputs, ctx) {
    const name = inputs.reward_model;
    const spec = BUILT_IN.includes(name) ? name : resolveInside(path.join(ctx.folders.models, 'rewards'), name);
    if (!spec) throw new Error(`reward model name ${name} leaves the rewards folder`);
    const m = await loadRewardModel(spec, { tinyClipDir: path.join(EMBEDDED_DIR, 'judge'), provider: inputs.device });
    // Reward models learned on human captions score the full prompt; CLIP-style metrics (CLIP-T) the prompt without
    // the identifier, a word they never learned.
    const withIdentifier = !(name === 'tiny-clip' || (m as { kind?: string }).kind === 'clip');
    const handle: RewardHandle = { name: m.name, scorer: m, embedder: typeof m.embed === 'function' ? { embed: (x) => m.embed!(x) } : undefined, withIdentifier };
    return { outputs: [handle] };
  },
});
