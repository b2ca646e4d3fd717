// Evaluate: the paper's Table 1 for one model. Generates images for an evaluation prompt set (fixed seeds, so models
// compare on the same noise), scores text fidelity with each judge and subject fidelity (DINO-style mean cosine to
// the subject's images), and writes the table as markdown and JSON to output/evaluations/ with an image grid.
import fs from 'node:fs';
import path from 'node:path';
import { evaluate, evaluationGrid, type EvalJudge, reportJson, reportMarkdown, worldSubjectCheck } from '../runtime/rewards/evaluate.js';
import { EVAL_PROMPT_SET_NAMES, evalPromptSet, type EvalPromptSet, promptSetFromFile } from '../runtime/rewards/prompt-sets.js';
import { SUBJECTS } from '../runtime/world/subjects.js';
import { defineNode } from './common/define-node.js';
import { resolveInside } from './common/files.js';
import { asSamplingModel } from './common/model.js';
import { asReward, type RewardHandle } from './common/reward.js';
import { generate, MAX_SAMPLING_STEPS, SAMPLERS } from './common/sampling.js';
import { saveImagePath } from './common/save-images.js';

export const Evaluate = defineNode({
  type: 'Evaluate',
  displayName: 'Evaluate',
  category: 'instructbooth/evaluation',
  description:
    'Scores a model on an evaluation prompt set: text fidelity (each judge\'s mean; CLIP-style judges score the prompt without the ' +
    'identifier) and subject fidelity (mean cosine of image embeddings to the subject images, DINO\'s role). Writes markdown and JSON ' +
    'to output/evaluations/.',
  inputs: {
    model: { type: 'MODEL', link: true },
    prompts: { type: 'PROMPTS', link: true, tooltip: 'The subject\'s prompt set (PromptTemplate): identifier and class noun.' },
    judge: { type: 'REWARD_MODEL', link: true, tooltip: 'Text fidelity (ImageReward\'s role; the oracle in the world).' },
    prompt_set: { type: 'COMBO', options: [...EVAL_PROMPT_SET_NAMES, 'file'], default: 'world' },
    prompt_file: { type: 'STRING', default: '', tooltip: 'With prompt_set "file": a text file in the input folder, one prompt per line, {V} and {class} placeholders.' },
    images_per_prompt: { type: 'INT', default: 4, min: 1, max: 64 },
    seed: { type: 'INT', default: 1000, min: 0, max: 2 ** 53 - 1 },
    sampler: { type: 'COMBO', options: SAMPLERS, default: 'ddim' },
    steps: { type: 'INT', default: 25, min: 1, max: MAX_SAMPLING_STEPS },
    guidance: { type: 'FLOAT', default: 5, min: 1, max: 30, step: 0.5 },
    label: { type: 'STRING', default: 'model', tooltip: 'The model\'s name in the table and the files (e.g. "InstructBooth").' },
    references: { type: 'IMAGE', link: true, optional: true, tooltip: 'The subject\'s images, for subject fidelity.' },
    clip: { type: 'REWARD_MODEL', link: true, optional: true, tooltip: 'CLIP-T\'s role (scores prompts without the identifier) and the image embedder for subject fidelity.' },
  },
  outputs: [
    { name: 'grid', type: 'IMAGE' },
    { name: 'table', type: 'STRING' },
    { name: 'text_fidelity', type: 'FLOAT' },
    { name: 'subject_fidelity', type: 'FLOAT' },
  ],
  outputNode: true,
  async run(inputs, ctx) {
    const model = asSamplingModel(inputs.model);
    const ps = inputs.prompts;
    if (!ps || typeof ps.identifier !== 'string') throw new Error('input prompts: expected PROMPTS (from PromptTemplate)');
    const judge = asReward(inputs.judge, 'judge');
    const clip = inputs.clip === undefined ? undefined : asReward(inputs.clip, 'clip');
    const subject = { identifier: ps.identifier, classNoun: ps.classNoun, description: ps.description };
    let set: EvalPromptSet;
    if (inputs.prompt_set === 'file') {
      const file = resolveInside(ctx.folders.input, inputs.prompt_file);
      if (!file || !inputs.prompt_file.trim()) throw new Error('input prompt_file: give a text file in the input folder');
      set = promptSetFromFile(file, subject);
    } else set = evalPromptSet(inputs.prompt_set, subject);
    const rewards: EvalJudge[] = [judge, ...(clip ? [clip] : [])].map((r: RewardHandle) => ({ name: r.name, scorer: r.scorer, withIdentifier: r.withIdentifier }));
    const references = inputs.references;
    const embedder = references ? (clip?.embedder ?? judge.embedder) : undefined;
    // In the generated world, the oracle can also check the subject's identity exactly.
    const worldSubject = SUBJECTS.find((s) => s.identifier === ps.identifier && s.classNoun === ps.classNoun);
    const settings = { steps: inputs.steps, guidance: inputs.guidance, sampler: inputs.sampler };
    const report = await evaluate({
      generate: async (prompts, seeds) => (await generate(model, { prompts, seeds, ...settings, label: 'evaluation image' }, { ...ctx, progress: () => {} })).images,
      promptSet: set,
      imagesPerPrompt: inputs.images_per_prompt,
      seed: inputs.seed,
      batchSize: 16,
      references,
      rewards,
      embedder,
      subjectCheck: worldSubject ? worldSubjectCheck(worldSubject) : undefined,
      onProgress: (done, total) => ctx.progress(done, total, `evaluating ${set.name}`),
      signal: ctx.signal,
    });
    const label = inputs.label.trim() || 'model';
    const markdown = reportMarkdown(report, `${label} on ${set.name} (${model.label})`);
    const { folder, filename, counter } = await saveImagePath(`evaluations/${label.replace(/[^\w.-]+/g, '_')}`, ctx.folders.output);
    const stem = path.join(folder, `${filename}_${String(counter).padStart(5, '0')}_`);
    fs.writeFileSync(`${stem}.md`, markdown);
    fs.writeFileSync(`${stem}.json`, `${JSON.stringify({ label, model: model.label, ...reportJson(report) }, null, 2)}\n`);
    const grid = evaluationGrid(report);
    const text = report.summary[judge.name];
    const subj = report.summary.subject ?? NaN;
    ctx.log('info', `evaluation written to ${stem}.md and .json`);
    return { outputs: [grid, markdown, text, subj], ui: { text: [markdown] } };
  },
});
