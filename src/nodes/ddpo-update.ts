// DDPOUpdate: stage 2 of InstructBooth. RL fine-tuning of a LoRA on the (personalized) UNet with DDPO: sample with a
// log-probability-recording DDIM chain, score with the reward model, update with the clipped importance-sampling
// policy gradient, on prompts with and without the identifier mixed at the prompt set's ratio (the paper's recipe).
// Live: reward mean/std and loss per epoch, a preview of each epoch's samples. Resumes from its checkpoints.
import path from 'node:path';
import { lineChartImage } from '../runtime/engine/line-chart.js';
import { scoreWithoutIdentifier } from '../runtime/rewards/metrics.js';
import { DDPO_DEFAULTS as D, trainDdpo } from '../runtime/training/ddpo.js';
import { LORA_TARGET_SETS, type LoraTargetSet } from '../runtime/training/lora-init.js';
import { bakeLora } from './common/bake-lora.js';
import { defineNode } from './common/define-node.js';
import { asModel, derive } from './common/model.js';
import { asReward } from './common/reward.js';
import { MAX_SAMPLING_STEPS } from './common/sampling.js';
import type { PromptSet } from './prompt-set.js';

/** The RL prompt pool: with-identifier and without-identifier prompts repeated in proportion to the ratio. */
export function rlPromptPool(ps: PromptSet): string[] {
  const r = ps.identifierRatio;
  if (!(r >= 0 && r <= 1)) throw new Error(`identifier_ratio must be in [0, 1], got ${r}`);
  if (ps.withIdentifier.length === 0) throw new Error('input prompts: the prompt set has no activities to train on');
  // Smallest whole copies a:b with a/(a+b) within 0.05 of r: uniform draws from the pool then mix at r.
  for (let total = 1; total <= 20; total++) {
    const a = Math.round(r * total);
    if (Math.abs(a / total - r) <= 0.05 + 1e-9)
      return [...Array<readonly string[]>(a).fill(ps.withIdentifier).flat(), ...Array<readonly string[]>(total - a).fill(ps.withoutIdentifier).flat()];
  }
  throw new Error('unreachable');
}

export const DDPOUpdate = defineNode({
  type: 'DDPOUpdate',
  displayName: 'DDPO Update',
  category: 'instructbooth/training',
  description:
    'Aligns the model to its prompts with reinforcement learning (DDPO, PPO-style clipped policy gradient) on a LoRA: each epoch samples ' +
    'images with a DDIM chain that records log-probabilities, scores them with the reward model, normalizes rewards per prompt, and ' +
    'updates. Prompts come from the prompt set, with and without the identifier at its ratio. Resumes from its last checkpoint.',
  inputs: {
    model: { type: 'MODEL', link: true },
    reward_model: { type: 'REWARD_MODEL', link: true },
    prompts: { type: 'PROMPTS', link: true, tooltip: 'From PromptTemplate: activities, identifier, and the with/without-identifier ratio.' },
    epochs: { type: 'INT', default: 100, min: 0, max: 100000 },
    samples_per_epoch: { type: 'INT', default: D.samplesPerEpoch, min: 1, max: 4096 },
    prompt_sampling: {
      type: 'COMBO', optional: true, options: ['uniform', 'round-robin'], default: D.promptSampling,
      tooltip: 'How an epoch draws its prompts: uniform draws (ddpo-pytorch), or in turn, so each prompt gets its share every epoch (per-prompt advantages from the first epoch when samples_per_epoch is a multiple of the prompts).',
    },
    sample_batch: { type: 'INT', default: D.sampleBatch, min: 1, max: 256 },
    steps: { type: 'INT', default: D.steps, min: 2, max: MAX_SAMPLING_STEPS, tooltip: 'DDIM steps when sampling (the policy\'s length).' },
    guidance: { type: 'FLOAT', default: D.guidance, min: 1, max: 30, step: 0.5 },
    train_batch: { type: 'INT', default: D.trainBatch, min: 1, max: 256 },
    grad_accumulation: { type: 'INT', optional: true, default: 0, min: 0, max: 4096, tooltip: 'Minibatches per optimizer update (0: all of an epoch, one update per inner epoch).' },
    inner_epochs: { type: 'INT', optional: true, default: D.innerEpochs, min: 1, max: 100 },
    timestep_fraction: { type: 'FLOAT', optional: true, default: D.timestepFraction, min: 0.01, max: 1, step: 0.05 },
    clip_range: { type: 'FLOAT', optional: true, default: D.clipRange, min: 1e-6, max: 1, step: 1e-5, round: 1e-7 },
    advantage_clip: { type: 'FLOAT', optional: true, default: D.advantageClip, min: 0.1, max: 100, step: 0.5 },
    per_prompt_stats: { type: 'BOOLEAN', optional: true, default: true, tooltip: 'Normalize rewards per prompt (ddpo-pytorch), else over the batch.' },
    stat_buffer: { type: 'INT', optional: true, default: D.statBufferSize, min: 1, max: 4096 },
    stat_min_count: { type: 'INT', optional: true, default: D.statMinCount, min: 1, max: 4096 },
    learning_rate: { type: 'FLOAT', default: D.lr, min: 0, max: 1, step: 1e-5, round: 1e-7 },
    weight_decay: { type: 'FLOAT', optional: true, default: D.weightDecay, min: 0, max: 1, step: 1e-4 },
    max_grad_norm: { type: 'FLOAT', optional: true, default: D.maxGradNorm, min: 0.001, max: 1000, step: 0.1 },
    lora_rank: { type: 'INT', optional: true, default: D.loraRank, min: 1, max: 256 },
    kl_weight: { type: 'FLOAT', optional: true, default: D.klWeight, min: 0, max: 10, step: 0.001, tooltip: 'DPOK-style regularizer to the starting model (0: off).' },
    seed: { type: 'INT', default: D.seed, min: 0, max: 2 ** 53 - 1 },
    checkpoint_every: { type: 'INT', optional: true, default: D.checkpointEvery, min: 1, max: 10000, tooltip: 'Epochs between checkpoints.' },
    // Last, so that widget values saved before it existed keep their places.
    lora_targets: {
      type: 'COMBO', optional: true, options: Object.keys(LORA_TARGET_SETS) as LoraTargetSet[], default: D.loraTargets,
      tooltip: 'The UNet layers the adapter covers: every attention projection (diffusers\' DDPO), only cross-attention, where the prompt enters, or only its keys and values (as Custom Diffusion).',
    },
    gradient_checkpointing: {
      type: 'BOOLEAN', optional: true, default: false,
      tooltip: 'Recompute the UNet\'s activations in the backward pass instead of keeping them: less memory, about one more forward pass of compute a step, the same results (a run may resume with it switched).',
    },
  },
  outputs: [
    { name: 'MODEL', type: 'MODEL' },
    { name: 'reward_curve', type: 'IMAGE' },
    { name: 'history', type: 'STRING' },
  ],
  async run(inputs, ctx) {
    // A LoRA already on the MODEL (DreamBooth in LoRA mode, LoadLoRA) is merged in: RL trains a fresh adapter on top.
    const model = bakeLora(asModel(inputs.model));
    const reward = asReward(inputs.reward_model);
    const ps = inputs.prompts;
    if (!ps || !Array.isArray(ps.withIdentifier)) throw new Error('input prompts: expected PROMPTS (from PromptTemplate)');
    const pool = rlPromptPool(ps);
    // A judge that never learned the identifier (CLIP-T style) scores the prompt without it.
    const scorer = reward.withIdentifier ? reward.scorer : scoreWithoutIdentifier(reward.scorer, ps.identifier);
    const { epochs } = inputs;
    const r = await trainDdpo(model.model, {
      prompts: pool, reward: scorer, epochs, promptSampling: inputs.prompt_sampling,
      samplesPerEpoch: inputs.samples_per_epoch, sampleBatch: inputs.sample_batch, steps: inputs.steps, guidance: inputs.guidance,
      // grad_accumulation 0: every minibatch of an inner epoch, the trainer's own default.
      trainBatch: inputs.train_batch, gradAccumulation: inputs.grad_accumulation || undefined, innerEpochs: inputs.inner_epochs,
      timestepFraction: inputs.timestep_fraction, clipRange: inputs.clip_range, advantageClip: inputs.advantage_clip,
      perPromptStats: inputs.per_prompt_stats ? { bufferSize: inputs.stat_buffer, minCount: inputs.stat_min_count } : false,
      lr: inputs.learning_rate, weightDecay: inputs.weight_decay, maxGradNorm: inputs.max_grad_norm, loraRank: inputs.lora_rank,
      loraAlpha: inputs.lora_rank, loraTargets: inputs.lora_targets, klWeight: inputs.kl_weight, seed: inputs.seed,
      checkpointEvery: inputs.checkpoint_every, checkpointDir: path.join(ctx.folders.output, 'training', `ddpo-${reward.name}`),
      gradientCheckpointing: inputs.gradient_checkpointing, signal: ctx.signal, sessionOptions: model.sessionOptions,
      onProgress: (done, total, phase) => ctx.progress(done, total, phase === 'sample' ? 'sampling' : 'training'),
      onEpoch: (e, samples) => {
        ctx.metrics({ reward_mean: e.rewardMean, reward_std: e.rewardStd, loss: e.loss, approx_kl: e.approxKl, clipfrac: e.clipFrac }, e.epoch);
        ctx.log('info', `epoch ${e.epoch}/${epochs}: reward ${e.rewardMean.toFixed(4)} ± ${e.rewardStd.toFixed(4)}, loss ${e.loss.toExponential(2)}, ` +
          `clipfrac ${e.clipFrac.toFixed(3)} (${e.sampleSeconds.toFixed(1)} s sampling, ${e.trainSeconds.toFixed(1)} s training)`);
        ctx.preview(samples);
      },
    });
    if (r.resumedFrom !== undefined) ctx.log('info', `resumed from the checkpoint after epoch ${r.resumedFrom} (${r.checkpointDir})`);
    const curve = await lineChartImage(
      [{ name: reward.name, values: r.history.map((e) => e.rewardMean), band: r.history.map((e) => e.rewardStd) }],
      { title: 'DDPO reward per epoch', xLabel: 'epoch', yLabel: 'reward mean (band: std)' },
    );
    const out = derive(model, { lora: r.lora, loraStrength: 1 }, { label: `DDPO(${reward.name})`, fingerprint: { ddpo: r.checkpointDir, epochs } });
    return { outputs: [out, curve, JSON.stringify(r.history.map(({ perPrompt: _p, ...e }) => e))] };
  },
});
