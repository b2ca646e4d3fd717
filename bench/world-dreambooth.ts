// Stage 1 as the world benchmarks run it: the base model draws the recipe's class images ("a [class]"), then
// DreamBooth with prior preservation on the subject's reference renders (in memory, not PNG files).
import type { SdModel } from '../src/runtime/models/sd-model.js';
import { SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { trainDreamBooth } from '../src/runtime/training/dreambooth.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { subjectPrompts, subjectReferences, type SUBJECTS } from '../src/runtime/world/index.js';

export async function worldDreamBooth(base: SdModel, subject: (typeof SUBJECTS)[number], settings: typeof R.dreambooth = R.dreambooth): Promise<{ model: SdModel; lastLoss: number | undefined }> {
  const ps = subjectPrompts(subject);
  const pipe = new SdPipeline(base);
  const n = R.classImages.count;
  const { images: classImages } = await pipe.sample({ prompts: Array(n).fill(ps.classPrompt), seeds: Array.from({ length: n }, (_, i) => R.classImages.seed + i), steps: R.classImages.steps, guidance: R.classImages.guidance, scheduler: 'ddim' });
  await pipe.release();
  const db = await trainDreamBooth(base, {
    instancePrompt: ps.instancePrompt, instanceImages: subjectReferences(subject).images, classPrompt: ps.classPrompt, classImages,
    ...settings,
  });
  return { model: { ...base, unet: { ...base.unet, weights: db.unetWeights! } }, lastLoss: db.losses.at(-1) };
}
