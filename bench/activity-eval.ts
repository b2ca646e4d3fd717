// How the world benchmarks judge a model on a subject's activity prompts: text fidelity as the issue defines it (the
// oracle's 0/1: the image shows everything the prompt asks), subject fidelity as the tiny CLIP's image cosine to the
// subject's images (DINO's role) and the oracle's exact identity check, 16 images a prompt (the recipe's evaluation);
// also the RL's reward (the oracle's partial credit) and a CLIP-T stand-in (the tiny CLIP's text cosine).
// Without a model, the world's own renders of the subject doing each prompt's activity: what a perfect model would get.
import type { ImageBatch } from '../src/runtime/engine/image.js';
import { Rng } from '../src/runtime/onnx/random.js';
import type { SdModel } from '../src/runtime/models/sd-model.js';
import { type LoraWeights, SdPipeline } from '../src/runtime/models/sd-pipeline.js';
import { evaluate, type EvaluationReport, worldSubjectCheck } from '../src/runtime/rewards/evaluate.js';
import { worldPrompts } from '../src/runtime/rewards/prompt-sets.js';
import type { TinyClipJudge } from '../src/runtime/rewards/tiny-clip-judge.js';
import { WORLD_RECIPE as R } from '../src/runtime/world/recipe.js';
import { parsePrompt, renderScenes, sampleSubjectScene, subjectPrompts, subjectReferences, type SUBJECTS, type WorldOracle } from '../src/runtime/world/index.js';

type Subject = (typeof SUBJECTS)[number];
/** Seen: the activities RL trains on; unseen: the ones it never sees (contexts, companions, colors are not here). */
export type ActivityKind = 'seen' | 'unseen';
export type ActivityEvaluator = (model: SdModel | undefined, lora: LoraWeights | undefined, subject: Subject, which: ActivityKind) => Promise<EvaluationReport>;

export function activityEvaluator(judges: { oracle: WorldOracle; clip: TinyClipJudge }): ActivityEvaluator {
  const alignment = { score: async (images: ImageBatch, prompts: string[]) => judges.oracle.judge(images, prompts).map((r) => (r.matches ? 1 : 0)) };
  return async (model, lora, subject, which) => {
    const pipe = model && new SdPipeline(model, lora);
    const generate = pipe
      ? async (p: string[], seeds: number[]) => (await pipe.sample({ prompts: p, seeds, steps: R.evaluation.steps, guidance: R.evaluation.guidance, scheduler: 'ddim' })).images
      : async (p: string[], seeds: number[]) => renderScenes(p.map((prompt, i) => subjectDoing(subject, prompt, seeds[i])));
    const ps = subjectPrompts(subject);
    const prompts = worldPrompts({ identifier: ps.identifier, classNoun: ps.classNoun, description: ps.description, subjectId: subject.id }, which)
      .filter((p) => p.kind === `${which}-activity`);
    try {
      return await evaluate({
        generate,
        promptSet: { name: `world-${which}-activities`, prompts },
        imagesPerPrompt: R.evaluation.imagesPerPrompt,
        seed: R.evaluation.seed,
        batchSize: 20,
        references: subjectReferences(subject).images,
        // The paper's Table 2 judges unseen prompts by the RL's own reward (ImageReward) and CLIP-T: here the
        // oracle's partial credit (what DDPO learns from) and the tiny CLIP's text cosine (prompt without identifier).
        rewards: [{ name: 'oracle', scorer: alignment }, { name: 'reward', scorer: judges.oracle }, { name: 'clip-t', scorer: judges.clip, withIdentifier: false }],
        embedder: judges.clip,
        subjectCheck: worldSubjectCheck(subject),
      });
    } finally {
      await pipe?.release();
    }
  };
}

/** The subject as its reference images show it (large, alone, in one of its reference contexts), doing the prompt's
 * activity (twins small, as the world draws them: two large copies do not fit). */
function subjectDoing(subject: Subject, prompt: string, seed: number) {
  const activity = parsePrompt(prompt).requirements.find((q) => q.attribute === 'activity')?.value;
  if (!activity) throw new Error(`no activity in ${JSON.stringify(prompt)}`);
  const context = subject.referenceContexts[seed % subject.referenceContexts.length];
  return sampleSubjectScene(subject, new Rng(seed), { activity, context, size: activity === 'twin' ? 'small' : 'large', companion: 'none' });
}
