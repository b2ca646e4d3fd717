// DreamBooth (stage 1 of InstructBooth) as a node: fine-tunes the MODEL's UNet on the subject's images under the
// instance prompt, with prior preservation on the class images. Checkpoints go to output/training/dreambooth-<key>/;
// running the same workflow again after a crash or an interrupt continues from the newest one.
import path from 'node:path';
import { DREAMBOOTH_DEFAULTS as D } from '../runtime/training/dreambooth-options.js';
import { trainDreamBooth } from '../runtime/training/dreambooth.js';
import { bakeLora } from './common/bake-lora.js';
import { defineNode } from './common/define-node.js';
import { asModel, derive, deriveId } from './common/model.js';

export const DreamBoothTrain = defineNode({
  type: 'DreamBoothTrain',
  displayName: 'DreamBooth Train',
  category: 'instructbooth/training',
  description:
    'Personalizes the model to your subject: fine-tunes the UNet (all of it, as the paper does, or LoRA adapters) on the subject images ' +
    'under the instance prompt ("a sks dog"), with the prior-preservation loss on class images under the class prompt ("a dog"). ' +
    'Resumes automatically from its last checkpoint.',
  inputs: {
    model: { type: 'MODEL', link: true },
    instance_images: { type: 'IMAGE', link: true, tooltip: 'The subject\'s photos (LoadSubjectImages).' },
    instance_prompt: { type: 'STRING', default: 'a sks star', tooltip: '"a [V] [class]", or "a [V] [description] [class]" for rare subjects. Ignored when prompts is connected.' },
    class_prompt: { type: 'STRING', default: 'a star', tooltip: 'The class images\' prompt "a [class]". Ignored when prompts is connected.' },
    mode: { type: 'COMBO', options: ['full', 'lora'], default: D.mode, tooltip: 'full: every UNet weight trains (the paper); lora: adapters on the attention projections.' },
    steps: { type: 'INT', default: 800, min: 1, max: 100000 },
    batch_size: { type: 'INT', optional: true, default: D.batchSize, min: 1, max: 64, tooltip: 'Instance images per step (plus as many class images with prior preservation).' },
    learning_rate: { type: 'FLOAT', default: D.lr.full, min: 0, max: 1, step: 1e-6, round: 1e-8, tooltip: 'diffusers\' DreamBooth default 5e-6 for full fine-tuning of SD1.5; LoRA takes ~1e-4.' },
    lr_schedule: { type: 'COMBO', optional: true, options: ['constant', 'cosine'], default: D.lrSchedule },
    warmup_steps: { type: 'INT', optional: true, default: D.warmupSteps, min: 0, max: 100000 },
    prior_loss_weight: { type: 'FLOAT', optional: true, default: D.priorLossWeight, min: 0, max: 10, step: 0.1, tooltip: '0 turns prior preservation off.' },
    lora_rank: { type: 'INT', optional: true, default: D.loraRank, min: 1, max: 256 },
    adam_beta1: { type: 'FLOAT', optional: true, default: D.adamBeta1, min: 0, max: 0.9999, step: 0.01 },
    adam_beta2: { type: 'FLOAT', optional: true, default: D.adamBeta2, min: 0, max: 0.99999, step: 0.001 },
    adam_epsilon: { type: 'FLOAT', optional: true, default: D.adamEps, min: 0, max: 1e-2, step: 1e-9, round: 1e-10 },
    weight_decay: { type: 'FLOAT', optional: true, default: D.weightDecay, min: 0, max: 1, step: 1e-3 },
    max_grad_norm: { type: 'FLOAT', optional: true, default: D.maxGradNorm, min: 0, max: 100, step: 0.1, tooltip: '0: no clipping.' },
    seed: { type: 'INT', default: D.seed, min: 0, max: 2 ** 53 - 1 },
    resolution: { type: 'INT', optional: true, default: 0, min: 0, max: 2048, step: 8, tooltip: '0: the model\'s own resolution.' },
    random_crop: { type: 'BOOLEAN', optional: true, default: D.randomCrop },
    random_flip: { type: 'BOOLEAN', optional: true, default: D.randomFlip },
    checkpoint_every: { type: 'INT', optional: true, default: 100, min: 0, max: 100000, tooltip: 'Steps between checkpoints (0: only at the end and on interrupt).' },
    class_images: { type: 'IMAGE', link: true, optional: true, tooltip: 'From PriorClassGen; without them there is no prior preservation.' },
    prompts: { type: 'PROMPTS', link: true, optional: true, tooltip: 'A subject\'s prompt set (PromptTemplate): its instance and class prompts are used.' },
    // Last, so that widget values saved before it existed keep their places.
    gradient_checkpointing: {
      type: 'BOOLEAN', optional: true, default: false,
      tooltip: 'Recompute the UNet\'s activations in the backward pass instead of keeping them: less memory, about one more forward pass of compute a step, the same results (a run may resume with it switched).',
    },
  },
  outputs: [
    { name: 'MODEL', type: 'MODEL' },
    { name: 'final_loss', type: 'FLOAT' },
  ],
  async run(inputs, ctx) {
    const model = bakeLora(asModel(inputs.model));
    const ps = inputs.prompts;
    const instancePrompt = ps ? ps.instancePrompt : inputs.instance_prompt.trim();
    const classPrompt = ps ? ps.classPrompt : inputs.class_prompt.trim();
    if (!instancePrompt) throw new Error('input instance_prompt: empty (e.g. "a sks dog")');
    const classImages = inputs.class_images;
    if (classImages && !classPrompt) throw new Error('input class_prompt: empty, but class images are connected (e.g. "a dog")');
    const mode = inputs.mode;
    const settings = {
      instancePrompt, classPrompt, mode,
      steps: inputs.steps, batchSize: inputs.batch_size, lr: inputs.learning_rate,
      lrSchedule: inputs.lr_schedule, warmupSteps: inputs.warmup_steps,
      priorLossWeight: inputs.prior_loss_weight, loraRank: inputs.lora_rank,
      adamBeta1: inputs.adam_beta1, adamBeta2: inputs.adam_beta2, adamEps: inputs.adam_epsilon,
      weightDecay: inputs.weight_decay, maxGradNorm: inputs.max_grad_norm, seed: inputs.seed,
      resolution: inputs.resolution || model.model.resolution, randomCrop: inputs.random_crop, randomFlip: inputs.random_flip,
    };
    // One folder per (model, settings); the runtime's own fingerprint also covers the images, so other photos never
    // resume this run's checkpoint.
    const key = deriveId(model.id, settings);
    const checkpointDir = path.join(ctx.folders.output, 'training', `dreambooth-${key}`);
    let last = NaN;
    const r = await trainDreamBooth(model.model, {
      ...settings,
      instanceImages: inputs.instance_images,
      classImages: settings.priorLossWeight > 0 ? classImages : undefined,
      checkpointEvery: inputs.checkpoint_every || undefined,
      checkpointDir,
      // Not in `settings`: it changes neither the result nor which checkpoint folder resumes.
      gradientCheckpointing: inputs.gradient_checkpointing,
      signal: ctx.signal,
      sessionOptions: model.sessionOptions,
      onStep: (s) => {
        last = s.loss;
        ctx.progress(s.step, s.total, `loss ${s.loss.toFixed(4)}`);
        const m: Record<string, number> = { loss: s.loss, instance_loss: s.instanceLoss, lr: s.lr };
        if (s.priorLoss !== undefined) m.prior_loss = s.priorLoss;
        ctx.metrics(m, s.step);
      },
    });
    if (r.resumedFrom !== undefined) ctx.log('info', `resumed from the checkpoint at step ${r.resumedFrom} in ${checkpointDir}`);
    const finalLoss = Number.isNaN(last) ? (r.losses.at(-1) ?? NaN) : last;
    const what = { label: `DreamBooth(${instancePrompt})`, fingerprint: { dreambooth: key } };
    const out = mode === 'full'
      ? derive(model, { model: { ...model.model, unet: { ...model.model.unet, weights: r.unetWeights! } } }, what)
      : derive(model, { lora: r.lora!, loraStrength: 1 }, what);
    return { outputs: [out, finalLoss] };
  },
});
