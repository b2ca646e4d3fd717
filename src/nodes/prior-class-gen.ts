// DreamBooth's class images: what the base model draws for the class prompt ("a star"), which the prior-preservation
// loss keeps it drawing. Generated once per (model, prompt, settings) and kept as PNGs under
// output/class_images/<key>/, so re-runs (and a run that was interrupted halfway) reuse every image already made.
import fs from 'node:fs';
import path from 'node:path';
import { concatImages, type ImageBatch, imageAt } from '../runtime/engine/image.js';
import { decodeImage, encodePng } from '../runtime/engine/image-io.js';
import { defineNode } from './common/define-node.js';
import { asSamplingModel, deriveId, resolutionOf } from './common/model.js';
import { generate, MAX_SAMPLING_STEPS, SAMPLERS } from './common/sampling.js';

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'class';

export const PriorClassGen = defineNode({
  type: 'PriorClassGen',
  displayName: 'Prior Class Images',
  category: 'instructbooth/training',
  description:
    'Generates the class images for DreamBooth\'s prior preservation with the base model (the paper: 200 per class). Images are kept in ' +
    'output/class_images/ by model, prompt and settings, so re-runs reuse them; an interrupted run keeps what it made.',
  inputs: {
    model: { type: 'MODEL', link: true },
    class_prompt: { type: 'STRING', default: 'a star', tooltip: 'DreamBooth\'s class prompt "a [class]". Ignored when prompts is connected.' },
    count: { type: 'INT', default: 200, min: 1, max: 10000 },
    seed: { type: 'INT', default: 0, min: 0, max: 2 ** 53 - 1 },
    sampler: { type: 'COMBO', options: SAMPLERS, default: 'ddim' },
    steps: { type: 'INT', default: 25, min: 1, max: MAX_SAMPLING_STEPS },
    guidance: { type: 'FLOAT', default: 5, min: 1, max: 30, step: 0.5 },
    prompts: { type: 'PROMPTS', link: true, optional: true, tooltip: 'A subject\'s prompt set (PromptTemplate): its class prompt is used.' },
  },
  outputs: [
    { name: 'class_images', type: 'IMAGE' },
    { name: 'class_prompt', type: 'STRING' },
  ],
  async run(inputs, ctx) {
    const model = asSamplingModel(inputs.model);
    const classPrompt = inputs.prompts ? inputs.prompts.classPrompt : inputs.class_prompt.trim();
    if (!classPrompt) throw new Error('input class_prompt: empty (DreamBooth\'s class prompt, e.g. "a dog")');
    const { count, seed } = inputs;
    const settings = { steps: inputs.steps, guidance: inputs.guidance, sampler: inputs.sampler };
    // The key leaves out count: asking for more images later extends the same set.
    const key = deriveId(model.id, { classPrompt, seed, ...settings });
    const dir = path.join(ctx.folders.output, 'class_images', `${slug(classPrompt)}-${key}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = (i: number) => path.join(dir, `${String(i).padStart(5, '0')}.png`);
    const have: ImageBatch[] = [];
    while (have.length < count && fs.existsSync(file(have.length))) {
      try {
        have.push(await decodeImage(file(have.length), { size: resolutionOf(model) }));
      } catch {
        break; // a half-written file from a crash: regenerate from here
      }
    }
    if (have.length > 0) ctx.log('info', `reusing ${have.length} class images from ${dir}`);
    fs.writeFileSync(path.join(dir, 'settings.json'), `${JSON.stringify({ model: model.label, classPrompt, seed, ...settings }, null, 2)}\n`);
    const chunk = 16;
    for (let start = have.length; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      // Image i always comes from seed + i, so the set is the same however it was split across runs.
      const { images } = await generate(model, {
        prompts: Array<string>(n).fill(classPrompt),
        seeds: Array.from({ length: n }, (_, k) => seed + start + k),
        ...settings,
        label: `class image`,
      }, { ...ctx, progress: (v, max, text) => ctx.progress(start + (v / max) * n, count, text?.replace(/\d+\/\d+$/, `${start + n}/${count}`)) });
      for (let k = 0; k < n; k++) fs.writeFileSync(file(start + k), await encodePng(imageAt(images, k)));
      have.push(images);
    }
    ctx.progress(count, count);
    return { outputs: [concatImages(have), classPrompt] };
  },
});
