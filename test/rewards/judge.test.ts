// The shipped tiny CLIP judge (models/embedded/judge, made by `npm run train:judge`), on fresh world images: it ranks
// each image's own caption first among 32, clean and degraded, and each subject's references are more alike than
// they are like other subjects' references. Skipped when the folder has not been made.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/runtime/onnx/random.js';
import { loadRewardModel } from '../../src/runtime/rewards/index.js';
import { meanPairwiseCosine, selfSimilarity } from '../../src/runtime/rewards/metrics.js';
import { SUBJECTS, TYPICAL_DEGRADATION, baseTrainingExamples, degrade, subjectReferences } from '../../src/runtime/world/index.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models/embedded/judge');
const skip = fs.existsSync(path.join(DIR, 'model.safetensors')) ? false : `${DIR} is missing (make it with npm run train:judge)`;

test('the shipped judge ranks the right caption first and tells subjects apart', { skip }, async () => {
  const judge = await loadRewardModel('tiny-clip', { tinyClipDir: DIR });
  try {
    assert.equal(judge.name, 'tiny-clip');
    assert.ok(judge.embed, 'the tiny CLIP judge embeds images (DINO stand-in)');
    const ex = baseTrainingExamples(32, 4_000_001);
    for (const [what, images, need] of [['clean', ex.images, 0.8], ['degraded', degrade(ex.images, new Rng(9), TYPICAL_DEGRADATION), 0.7]] as const) {
      let hits = 0;
      for (let i = 0; i < 32; i++) {
        // Score image i against every caption (a single prompt applies to the one image).
        const one = { ...images, count: 1, data: images.data.subarray(i * 32 * 32 * 3, (i + 1) * 32 * 32 * 3) };
        const s = await Promise.all(ex.captions.map(async (c) => (await judge.score(one, [c]))[0]));
        const best = s.indexOf(Math.max(...s));
        if (ex.captions[best] === ex.captions[i]) hits++;
      }
      assert.ok(hits >= need * 32, `${what}: ${hits}/32 images rank their own caption first`);
    }
    const refs = await Promise.all(SUBJECTS.map((s) => judge.embed!(subjectReferences(s).images)));
    SUBJECTS.forEach((s, i) => {
      const self = selfSimilarity(refs[i]);
      const others = meanPairwiseCosine(refs[i], refs.filter((_, j) => j !== i).flat());
      assert.ok(self > others + 0.1, `${s.id}: references ${self.toFixed(3)} alike, ${others.toFixed(3)} like other subjects'`);
    });
  } finally {
    await judge.release?.();
  }
});
