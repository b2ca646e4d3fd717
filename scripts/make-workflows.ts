// Writes the example workflows in workflows/ (ComfyUI UI format, editable in the editor) from API prompts: one place
// that says what each example does and with which settings. The embedded world's subject is zwx, the checkered
// square; settings are the ones measured on the embedded model (README, `npm run bench -- instructbooth`).
//   node --import tsx scripts/make-workflows.ts
import fs from 'node:fs';
import path from 'node:path';
import { createRegistry } from '../src/nodes/index.js';
import type { Prompt } from '../src/runtime/graph/prompt.js';
import { promptToUi } from '../src/runtime/graph/ui-to-api.js';
import { serializeWorkflow } from '../src/runtime/graph/workflow-ui.js';
import { SEEN_ACTIVITIES } from '../src/runtime/world/attributes.js';
import { ACTIVITY_PHRASES } from '../src/runtime/world/wordings.js';
import { WORLD_RECIPE } from '../src/runtime/world/recipe.js';

const R = WORLD_RECIPE;
const SUBJECT = R.subject;
const DREAMBOOTH = { mode: R.dreambooth.mode, steps: R.dreambooth.steps, batch_size: R.dreambooth.batchSize, learning_rate: R.dreambooth.lr, prior_loss_weight: R.dreambooth.priorLossWeight, checkpoint_every: 100 };
const CLASS_IMAGES = { count: R.classImages.count };
const DDPO = {
  epochs: R.ddpo.epochs, samples_per_epoch: R.ddpo.samplesPerEpoch, sample_batch: R.ddpo.sampleBatch, steps: R.ddpo.steps, train_batch: R.ddpo.trainBatch,
  learning_rate: R.ddpo.lr, grad_accumulation: R.ddpo.gradAccumulation, timestep_fraction: R.ddpo.timestepFraction, clip_range: R.ddpo.clipRange, lora_rank: R.ddpo.loraRank,
  prompt_sampling: R.ddpo.promptSampling, stat_buffer: R.ddpo.perPromptStats.bufferSize, stat_min_count: R.ddpo.perPromptStats.minCount, kl_weight: R.ddpo.klWeight,
};

const link = (id: string, slot = 0) => [id, slot] as [string, number];
const titles: Record<string, Record<string, string>> = {};

function subjectPart(p: Prompt): void {
  p['1'] = { class_type: 'LoadSubjectImages', inputs: { source: SUBJECT.source, resolution: 32 } };
  p['2'] = {
    class_type: 'PromptTemplate',
    inputs: { identifier: SUBJECT.identifier, class_noun: SUBJECT.classNoun, description: '', activities: SEEN_ACTIVITIES.map((a) => ACTIVITY_PHRASES[a]).join('\n'), identifier_ratio: R.identifierRatio },
  };
  p['3'] = { class_type: 'LoadCheckpoint', inputs: { ckpt_name: 'embedded', device: 'auto', threads: 0 } };
}

function dreamboothPart(p: Prompt): void {
  p['4'] = { class_type: 'PriorClassGen', inputs: { model: link('3'), prompts: link('2'), class_prompt: 'a square', ...CLASS_IMAGES, seed: 0, sampler: 'ddim', steps: 25, guidance: 5 } };
  p['5'] = { class_type: 'DreamBoothTrain', inputs: { model: link('3'), instance_images: link('1'), class_images: link('4'), prompts: link('2'), ...DREAMBOOTH, seed: 0 } };
}

const workflows: Record<string, () => Prompt> = {
  'sample.json': () => ({
    '3': { class_type: 'LoadCheckpoint', inputs: { ckpt_name: 'embedded', device: 'auto', threads: 0 } },
    '6': { class_type: 'Sample', inputs: { model: link('3'), prompt: 'a red circle on the beach\na blue star wearing a hat\na green heart next to a ball', images_per_prompt: 4, seed: 0, sampler: 'ddim', steps: 25, guidance: 5 } },
    '7': { class_type: 'SaveImage', inputs: { images: link('6'), filename_prefix: 'sample/embedded' } },
  }),
  'dreambooth.json': () => {
    const p: Prompt = {};
    subjectPart(p);
    dreamboothPart(p);
    p['6'] = { class_type: 'Sample', inputs: { model: link('5'), prompt: 'a zwx square\na zwx square on the beach\na zwx square wearing a hat', images_per_prompt: 4, seed: 0, sampler: 'ddim', steps: 25, guidance: 5 } };
    p['7'] = { class_type: 'SaveImage', inputs: { images: link('6'), filename_prefix: 'dreambooth/zwx' } };
    return p;
  },
  'instructbooth.json': () => {
    const p: Prompt = {};
    subjectPart(p);
    dreamboothPart(p);
    p['8'] = { class_type: 'LoadRewardModel', inputs: { reward_model: 'oracle', device: 'auto' } };
    p['9'] = { class_type: 'DDPOUpdate', inputs: { model: link('5'), reward_model: link('8'), prompts: link('2'), ...DDPO, seed: 0 } };
    p['10'] = { class_type: 'LoadRewardModel', inputs: { reward_model: 'tiny-clip', device: 'auto' } };
    const evalNode = (model: string, label: string) => ({
      class_type: 'Evaluate',
      inputs: { model: link(model), prompts: link('2'), judge: link('8'), clip: link('10'), references: link('1'), prompt_set: 'world', images_per_prompt: 4, seed: 1000, sampler: 'ddim', steps: 25, guidance: 5, label },
    });
    p['11'] = evalNode('5', 'DreamBooth');
    p['12'] = evalNode('9', 'InstructBooth');
    p['13'] = { class_type: 'SaveImage', inputs: { images: link('9', 1), filename_prefix: 'instructbooth/reward-curve' } };
    p['14'] = { class_type: 'Sample', inputs: { model: link('9'), prompt: ['a zwx square', ...SEEN_ACTIVITIES.map((a) => `a zwx square ${ACTIVITY_PHRASES[a]}`)].join('\n'), images_per_prompt: 4, seed: 0, sampler: 'ddim', steps: 25, guidance: 5 } };
    p['15'] = { class_type: 'SaveImage', inputs: { images: link('14'), filename_prefix: 'instructbooth/zwx' } };
    // The same prompts and seeds through the DreamBooth model: the "before" of the before-and-after.
    p['17'] = { ...p['14'], inputs: { ...p['14'].inputs, model: link('5') } };
    p['18'] = { class_type: 'SaveImage', inputs: { images: link('17'), filename_prefix: 'instructbooth/dreambooth-zwx' } };
    p['16'] = { class_type: 'SaveLoRA', inputs: { model: link('9'), filename_prefix: 'loras/instructbooth-zwx', format: 'kohya', dtype: 'float16' } };
    titles['instructbooth.json'] = { '11': 'Evaluate DreamBooth', '12': 'Evaluate InstructBooth', '9': 'DDPO (InstructBooth stage 2)', '5': 'DreamBooth (stage 1)' };
    return p;
  },
  'evaluate.json': () => {
    const p: Prompt = {};
    subjectPart(p);
    p['8'] = { class_type: 'LoadRewardModel', inputs: { reward_model: 'oracle', device: 'auto' } };
    p['10'] = { class_type: 'LoadRewardModel', inputs: { reward_model: 'tiny-clip', device: 'auto' } };
    p['11'] = {
      class_type: 'Evaluate',
      inputs: { model: link('3'), prompts: link('2'), judge: link('8'), clip: link('10'), references: link('1'), prompt_set: 'world', images_per_prompt: 4, seed: 1000, sampler: 'ddim', steps: 25, guidance: 5, label: 'base' },
    };
    p['12'] = { class_type: 'SaveImage', inputs: { images: link('11'), filename_prefix: 'evaluate/base-grid' } };
    return p;
  },
};

if (process.argv[1]?.endsWith('make-workflows.ts')) {
  const registry = createRegistry();
  for (const [file, make] of Object.entries(workflows)) {
    const ui = promptToUi(make(), registry);
    for (const n of ui.nodes) {
      const t = titles[file]?.[String(n.id)];
      if (t) n.title = t;
    }
    // The 0.4 file format (links as arrays), which litegraph and ComfyUI's frontend read.
    fs.writeFileSync(path.join('workflows', file), `${JSON.stringify(serializeWorkflow(ui), null, 2)}\n`);
    console.log(`workflows/${file}: ${ui.nodes.length} nodes`);
  }
}
