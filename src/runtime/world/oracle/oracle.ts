// The world's exact judge, as one object: reads scenes from pixels, scores image-text alignment (the AlignmentScorer
// the reward and metric code consume), and checks subject identity (the subject-fidelity metric in this world).
import { type ImageBatch, imageAt } from '../../engine/image.js';
import { type AlignmentScorer, promptFor } from '../../rewards/types.js';
import { parsePrompt } from '../grammar.js';
import type { Subject } from '../subjects.js';
import { type AlignmentResult, alignment } from './alignment.js';
import { type IdentityCheck, subjectIdentity } from './identity.js';
import { type SceneReading, readScene } from './read-scene.js';

export class WorldOracle implements AlignmentScorer {
  read(images: ImageBatch): SceneReading[] {
    return Array.from({ length: images.count }, (_, i) => readScene(images, i));
  }

  /** Per image: the alignment score in [0, 1], whether every claim holds, and which claims do. */
  judge(images: ImageBatch, prompts: string[]): AlignmentResult[] {
    const parsed = new Map<string, ReturnType<typeof parsePrompt>>();
    return this.read(images).map((reading, i) => {
      const prompt = promptFor(prompts, images.count, i);
      if (!parsed.has(prompt)) parsed.set(prompt, parsePrompt(prompt));
      return alignment(reading, parsed.get(prompt)!);
    });
  }

  async score(images: ImageBatch, prompts: string[]): Promise<number[]> {
    return this.judge(images, prompts).map((r) => r.score);
  }

  /** Subject fidelity per image: class, color and white markings against the subject's references. */
  identity(images: ImageBatch, subject: Subject): IdentityCheck[] {
    return Array.from({ length: images.count }, (_, i) => subjectIdentity(readScene(imageAt(images, i)), subject, images.width));
  }
}
