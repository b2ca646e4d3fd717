// RewardScore: one score per image from a REWARD_MODEL, with the mean and std shown on the node.
import { meanStd } from '../runtime/rewards/metrics.js';
import { defineNode } from './common/define-node.js';
import { promptLines } from './common/sampling.js';
import { asReward } from './common/reward.js';

export const RewardScore = defineNode({
  type: 'RewardScore',
  displayName: 'Reward Score',
  category: 'instructbooth/evaluation',
  description: 'Scores images against their prompts: one prompt for all images, or one line per image (or per group of equal size, in order).',
  inputs: {
    images: { type: 'IMAGE', link: true },
    reward_model: { type: 'REWARD_MODEL', link: true },
    prompt: { type: 'STRING', multiline: true, default: 'a sks star wearing a hat' },
  },
  outputs: [
    { name: 'mean', type: 'FLOAT' },
    { name: 'std', type: 'FLOAT' },
    { name: 'scores', type: 'STRING' },
  ],
  outputNode: true,
  async run(inputs) {
    const images = inputs.images;
    const reward = asReward(inputs.reward_model);
    const lines = promptLines(inputs.prompt);
    if (images.count % lines.length !== 0) throw new Error(`input prompt: ${lines.length} prompts for ${images.count} images (give one, one per image, or a number that divides ${images.count})`);
    const per = images.count / lines.length;
    const prompts = Array.from({ length: images.count }, (_, i) => lines[Math.floor(i / per)]);
    const scores = await reward.scorer.score(images, prompts);
    const { mean, std } = meanStd(scores);
    const text = `${reward.name}: mean ${mean.toFixed(4)}, std ${std.toFixed(4)} over ${scores.length} images`;
    return { outputs: [mean, std, JSON.stringify(scores)], ui: { text: [text, scores.map((s) => s.toFixed(3)).join(' ')] } };
  },
});
