// The oracle against the generator's ground truth: every attribute of 2000 random clean images, then the same kind of
// images blurred, color-shifted, block-coded and noised; each activity on renders pinned to it; alignment scores of
// prompts; the scorer interface. (The whole file runs in about 10 s on one core; keep it under 30.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatImages } from '../../src/runtime/engine/image.js';
import { Rng } from '../../src/runtime/onnx/random.js';
import { ACTIVITIES } from '../../src/runtime/world/attributes.js';
import { TYPICAL_DEGRADATION, degrade } from '../../src/runtime/world/degrade.js';
import { caption } from '../../src/runtime/world/grammar.js';
import { ACTIVITY_PARTIAL_CREDIT, activityCredit, alignment } from '../../src/runtime/world/oracle/alignment.js';
import { WorldOracle } from '../../src/runtime/world/oracle/oracle.js';
import { describeReading, readScenes } from '../../src/runtime/world/oracle/read-scene.js';
import { renderScenes } from '../../src/runtime/world/render.js';
import { sampleScene } from '../../src/runtime/world/sample.js';
import type { AlignmentScorer } from '../../src/runtime/rewards/types.js';
import { scene } from '../../src/runtime/world/scene.js';
import { agreement } from './agreement.js';

const report = (name: string, a: ReturnType<typeof agreement>) =>
  console.log(
    `${name}: ${(100 * a.scene).toFixed(1)}% of ${a.total} images read exactly; per attribute ` +
      Object.entries(a.perAttribute).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`).join(', '),
  );

const rng = new Rng(2024);
const scenes = Array.from({ length: 2000 }, () => sampleScene(rng));
const images = renderScenes(scenes);

test('reads 2000 random clean 32-pixel images as the generator drew them (>= 99%)', () => {
  const a = agreement(scenes, readScenes(images));
  report('clean', a);
  assert.ok(a.scene >= 0.99, a.failures.slice(0, 10).join('\n'));
});

test('reads 500 degraded images (blur 0.7, color shift, block coding, noise) at >= 95%', () => {
  const n = 500;
  const some = concatImages([images]);
  const part = { ...some, count: n, data: some.data.subarray(0, n * 32 * 32 * 3) };
  const a = agreement(scenes.slice(0, n), readScenes(degrade(part, new Rng(7), TYPICAL_DEGRADATION)));
  report('degraded', a);
  assert.ok(a.scene >= 0.95, a.failures.slice(0, 10).join('\n'));
});

test('reads every activity: 100 clean renders pinned to each, >= 98% with the right activity', () => {
  const r = new Rng(25);
  const rows = ACTIVITIES.map((activity) => {
    const pinned = Array.from({ length: 100 }, () => sampleScene(r, { activity }));
    const readings = readScenes(renderScenes(pinned));
    const misread: Record<string, number> = {};
    const examples: string[] = [];
    readings.forEach((reading, i) => {
      if (reading.activity === activity) return;
      misread[reading.activity ?? 'no object'] = (misread[reading.activity ?? 'no object'] ?? 0) + 1;
      if (examples.length < 2) examples.push(`"${caption(pinned[i])}" read "${describeReading(reading)}"`);
    });
    return { activity, rate: readings.filter((x) => x.activity === activity).length / pinned.length, misread, examples };
  });
  console.log(`per activity: ${rows.map((x) => `${x.activity} ${(100 * x.rate).toFixed(0)}%`).join(', ')}`);
  const weak = rows.filter((x) => x.rate < 0.98);
  assert.equal(
    weak.length,
    0,
    `activities read right in under 98% of their renders:\n${weak
      .map((x) => `${x.activity} ${(100 * x.rate).toFixed(0)}%, read as ${Object.entries(x.misread).map(([a, k]) => `${a} x${k}`).join(', ')}; e.g. ${x.examples.join('; ')}`)
      .join('\n')}`,
  );
});

test('reads 64-pixel renders too', () => {
  const r = new Rng(64);
  const big = Array.from({ length: 60 }, () => sampleScene(r));
  const a = agreement(big, readScenes(renderScenes(big, 64)));
  report('64 px', a);
  assert.ok(a.scene >= 0.95);
});

test('alignment: the fraction of claims that hold, and whether all do', async () => {
  const oracle: AlignmentScorer & WorldOracle = new WorldOracle();
  const img = renderScenes([scene({ objectClass: 'star', color: 'red', activity: 'hat', context: 'grass', size: 'large' })]);
  const judge = (p: string) => oracle.judge(img, [p])[0];
  assert.deepEqual([judge('a red star').score, judge('a red star').matches], [1, true]);
  assert.equal(judge('a sks star wearing a hat on the grass').score, 1);
  assert.equal(judge('a star riding a skateboard').score, 0.5);
  assert.equal(judge('a blue circle riding a skateboard in the snow').score, 0);
  assert.equal(judge('').score, 1);
  const r = judge('a red star wearing a hat on the beach');
  assert.equal(r.matches, false);
  assert.deepEqual(r.checks.filter((c) => !c.satisfied).map((c) => c.requirement), [{ attribute: 'context', value: 'beach' }]);
  // The scorer interface: one score per image, one prompt per image or one for all.
  const two = renderScenes([scene({ objectClass: 'ring', color: 'blue' }), scene({ objectClass: 'cross', color: 'blue' })]);
  assert.deepEqual(await oracle.score(two, ['a blue ring', 'a blue ring']), [1, 0.5]);
  assert.deepEqual(await oracle.score(two, ['a blue cross']), [0.5, 1]);
  await assert.rejects(oracle.score(two, ['a', 'b', 'c']), /2 images need 2 prompts/);
});

test('an unmet activity earns partial credit graded by how far the image goes toward it; matches stays exact', () => {
  const [plain] = readScenes(renderScenes([scene({ objectClass: 'square', color: 'blue' })]));
  const [wide] = readScenes(renderScenes([scene({ objectClass: 'square', color: 'blue', activity: 'stretched-wide' })]));
  // A square as drawn is no step toward tall; the stretched one is all the way to wide (and matches).
  assert.equal(activityCredit(wide, 'stretched-tall'), 0);
  assert.ok(activityCredit(plain, 'stretched-wide') < 0.1 * ACTIVITY_PARTIAL_CREDIT, `${activityCredit(plain, 'stretched-wide')}`);
  assert.deepEqual([alignment(wide, 'a blue square stretched wide').score, alignment(wide, 'a blue square stretched wide').matches], [1, true]);
  // Halfway: half the credit; an accessory's contrast at half its threshold: half the credit; twins: nothing.
  const halfWide = { ...wide, activity: 'none' as const, detail: { ...wide.detail!, bodies: [{ ...wide.detail!.bodies[0], stretch: 1.25 }] } };
  assert.ok(Math.abs(activityCredit(halfWide, 'stretched-wide') - ACTIVITY_PARTIAL_CREDIT / 2) < 1e-9);
  const r = alignment(halfWide, 'a blue square stretched wide');
  assert.equal(r.matches, false);
  assert.ok(Math.abs(r.score - (2 + ACTIVITY_PARTIAL_CREDIT / 2) / 3) < 1e-9, `${r.score}`);
  const faintCage = { ...plain, evidence: { ...plain.evidence!, cage: 0.15 } };
  assert.ok(Math.abs(activityCredit(faintCage, 'cage') - ACTIVITY_PARTIAL_CREDIT / 2) < 1e-9);
  assert.equal(activityCredit(faintCage, 'twin'), 0);
  assert.equal(activityCredit({ ...plain, found: false }, 'cage'), 0);
});

test('an empty or unreadable image scores only what it can: nothing is found', async () => {
  const gray = renderScenes([scene({})]);
  gray.data.fill(0.55);
  const oracle = new WorldOracle();
  const [reading] = oracle.read(gray);
  assert.equal(reading.found, false);
  assert.deepEqual(await oracle.score(gray, ['a red circle']), [0]);
  assert.deepEqual(await oracle.score(gray, ['a red circle on a gray background']), [1 / 3]);
});
