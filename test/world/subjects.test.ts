// Subjects and prompt sets: each subject has 4-6 distinct references that read as its class and color with its
// markings; lookalikes without markings do not pass for it; prompts come in the paper's forms.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Rng } from '../../src/runtime/onnx/random.js';
import { SEEN_ACTIVITIES, UNSEEN_ACTIVITIES } from '../../src/runtime/world/attributes.js';
import { WorldOracle } from '../../src/runtime/world/oracle/oracle.js';
import { promptSetOptions, subjectPrompts } from '../../src/runtime/world/prompts.js';
import { renderScenes } from '../../src/runtime/world/render.js';
import { sampleScene } from '../../src/runtime/world/sample.js';
import { SUBJECTS, type Subject, sampleSubjectScene, subjectById, subjectReferences } from '../../src/runtime/world/subjects.js';

const oracle = new WorldOracle();

test('at least five subjects, one rare, with distinct identifiers', () => {
  assert.ok(SUBJECTS.length >= 5);
  assert.equal(new Set(SUBJECTS.map((s) => s.identifier)).size, SUBJECTS.length);
  assert.ok(SUBJECTS.some((s) => s.rare && s.classNoun === 'plushie' && s.description === 'triangle'));
  assert.equal(subjectById('sks').id, 'outlined-star');
  assert.throws(() => subjectById('nope'), /unknown subject/);
});

for (const s of SUBJECTS)
  test(`${s.id}: 4-6 distinct, deterministic references that are the subject`, () => {
    const { scenes, images } = subjectReferences(s);
    assert.ok(images.count >= 4 && images.count <= 6);
    assert.equal(new Set(scenes.map((x) => x.context)).size, scenes.length, 'each reference in its own context');
    const per = 32 * 32 * 3;
    const hash = (i: number) => createHash('sha256').update(Buffer.from(images.data.buffer, images.data.byteOffset + i * per * 4, per * 4)).digest('hex');
    assert.equal(new Set(scenes.map((_, i) => hash(i))).size, scenes.length);
    assert.deepEqual(subjectReferences(s).images.data, images.data);
    for (const [i, id] of oracle.identity(images, s).entries()) assert.ok(id.matches, `reference ${i}: ${JSON.stringify(id)}`);
    // The same class and color without the markings is not the subject.
    const rng = new Rng(11);
    const plain = renderScenes(Array.from({ length: 10 }, () => sampleScene(rng, { objectClass: s.classNoun, body: s.body === 'triangle' ? 'circle' : s.body, color: s.color })));
    assert.ok(oracle.identity(plain, s).every((x) => !x.matches));
  });

/** The fraction of `count` true renders of the subject in random scenes (some of it pinned) that pass its check. */
function identityPassRate(s: Subject, seed: number, count: number, pinned: Parameters<typeof sampleSubjectScene>[2] = {}): number {
  const rng = new Rng(seed);
  const images = renderScenes(Array.from({ length: count }, () => sampleSubjectScene(s, rng, pinned)));
  return oracle.identity(images, s).filter((x) => x.matches).length / images.count;
}

// The ceiling of every identity measure (bench vae, DreamBooth's subject check). A small outlined star once read as a
// white object under a yellow scarf (0.87 of its scenes passed); what still fails is what the renderer leaves unseen
// (markings under a small object's scarf).
test('each subject passes its identity check on at least 0.9 of its true renders in random scenes', () => {
  for (const s of SUBJECTS) {
    const passed = identityPassRate(s, 5, 200);
    assert.ok(passed >= 0.9, `${s.id}: ${passed}`);
  }
});

// Two scenes the renderer once hid a subject in: a triangle plushie's scarf covered its eyes (it read as a triangle:
// 1 of 36 large ones passed), and a small ring stretched tall left its diagonal stripes no room (9 of 40 passed).
test('a scarf leaves a triangle plushie its eyes, and a stretched ring keeps its stripes', () => {
  const plushie = identityPassRate(subjectById('triangle-plushie'), 11, 60, { activity: 'scarf', size: 'large' });
  assert.ok(plushie >= 0.9, `triangle plushie wearing a scarf: ${plushie}`);
  const ring = identityPassRate(subjectById('striped-ring'), 11, 60, { activity: 'stretched-tall', size: 'small' });
  assert.ok(ring >= 0.75, `small striped ring stretched tall: ${ring}`);
});

test("prompt sets in the paper's forms", () => {
  const star = subjectPrompts(subjectById('outlined-star'));
  assert.equal(star.instancePrompt, 'a sks star');
  assert.equal(star.classPrompt, 'a star');
  assert.equal(star.trainWithIdentifier[0], 'a sks star wearing a hat');
  assert.equal(star.trainWithoutIdentifier[0], 'a star wearing a hat');
  assert.equal(star.trainActivities.length, SEEN_ACTIVITIES.length);
  const kinds = (k: string) => star.evaluation.filter((e) => e.kind === k);
  assert.equal(kinds('unseen-activity').length, UNSEEN_ACTIVITIES.length);
  assert.ok(kinds('unseen-activity').every((e) => !star.trainActivities.some((t) => e.prompt.endsWith(t))), 'RL never sees these');
  assert.ok(kinds('context').length >= 5 && kinds('companion').length === 3 && kinds('color').length === 2);
  assert.equal(kinds('color')[0].prompt, 'a red sks star');
  assert.equal(kinds('context')[0].withoutIdentifier, 'a star on a blue background');
  // The rare subject carries its description in the instance prompt only.
  const rare = subjectPrompts(subjectById('triangle-plushie'));
  assert.equal(rare.instancePrompt, 'a phr triangle plushie');
  assert.equal(rare.trainWithIdentifier[1], 'a phr plushie riding a skateboard');
  assert.deepEqual(promptSetOptions(subjectById('phr')), {
    identifier: 'phr',
    classNoun: 'plushie',
    description: 'triangle',
    activities: SEEN_ACTIVITIES.map((a) => star.trainActivities[SEEN_ACTIVITIES.indexOf(a)]),
  });
  assert.equal(promptSetOptions(subjectById('sks')).description, '');
});
