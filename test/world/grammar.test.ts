// The world's language: prompts parse into the attributes they claim (phrases before words, identifiers and
// descriptions handled), captions parse back into their scenes, and the vocabulary covers every word any caption or
// prompt of the world can hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/runtime/onnx/random.js';
import { caption, parsePrompt, promptWords, worldVocabulary } from '../../src/runtime/world/grammar.js';
import { allSubjectPrompts, baseTrainingCaptions } from '../../src/runtime/world/prompts.js';
import { sampleScene } from '../../src/runtime/world/sample.js';
import { SUBJECTS, subjectReferenceScenes } from '../../src/runtime/world/subjects.js';

const claims = (prompt: string) => parsePrompt(prompt).requirements.map((r) => `${r.attribute}=${r.value}`);

test('prompts parse into the attributes they claim', () => {
  assert.deepEqual(claims('a red star'), ['class=star', 'color=red']);
  assert.deepEqual(claims('a red star on a blue background'), ['class=star', 'color=red', 'context=blue-background']);
  assert.deepEqual(claims('a small white ring wearing a hat under a sun in the snow on the left'), [
    'class=ring',
    'color=white',
    'size=small',
    'activity=hat',
    'companion=sun',
    'context=snow',
    'position=left',
  ]);
  assert.deepEqual(claims('a sks star riding a skateboard'), ['class=star', 'activity=skateboard']);
  assert.deepEqual(parsePrompt('a sks star riding a skateboard').identifiers, ['sks']);
  assert.deepEqual(claims('a star'), ['class=star']);
  // The rare subject's description is a body claim; the identifier is no claim.
  assert.deepEqual(claims('a phr triangle plushie'), ['class=plushie', 'body=triangle']);
  assert.deepEqual(claims('a plushie with its twin'), ['class=plushie', 'activity=twin']);
  // DreamBench's property prompts: the color before the identifier.
  assert.deepEqual(claims('a purple zwx square'), ['class=square', 'color=purple']);
  // Case, punctuation and a repeated claim.
  assert.deepEqual(claims('A Green Cross, bouncing, bouncing.'), ['class=cross', 'color=green', 'activity=bouncing']);
  assert.deepEqual(claims(''), []);
  assert.deepEqual(parsePrompt('a fluffy dog').identifiers, ['fluffy', 'dog']);
});

test('captions parse back into their scenes', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 300; i++) {
    const s = sampleScene(rng);
    const got = Object.fromEntries(parsePrompt(caption(s)).requirements.map((r) => [r.attribute, r.value]));
    assert.equal(got.class, s.objectClass);
    assert.equal(got.color, s.color);
    assert.equal(got.size, s.size);
    assert.equal(got.activity, s.activity === 'none' ? undefined : s.activity);
    assert.equal(got.context, s.context === 'plain' ? undefined : s.context);
    assert.equal(got.companion, s.companion === 'none' ? undefined : s.companion);
    assert.equal(got.position, s.position === 'center' ? undefined : s.position);
    assert.equal(got.body, s.objectClass === 'plushie' && s.body !== 'circle' ? s.body : undefined);
  }
});

test('the vocabulary covers every word of every caption, prompt set, reference caption and identifier', () => {
  const vocab = new Set(worldVocabulary());
  const texts = [...baseTrainingCaptions(2000, 8).captions];
  for (const p of allSubjectPrompts())
    texts.push(p.instancePrompt, p.classPrompt, ...p.trainWithIdentifier, ...p.trainWithoutIdentifier, ...p.evaluation.flatMap((e) => [e.prompt, e.withoutIdentifier]));
  for (const s of SUBJECTS) for (const sc of subjectReferenceScenes(s)) texts.push(caption(sc, { identifier: s.identifier, description: s.rare ? s.description : '' }));
  const missing = new Set(texts.flatMap(promptWords).filter((w) => !vocab.has(w)));
  assert.deepEqual([...missing], []);
  for (const s of SUBJECTS) assert.ok(vocab.has(s.identifier) && s.description.split(' ').every((w) => vocab.has(w)));
  assert.ok(vocab.size < 120, `a small vocabulary (${vocab.size} words)`);
});
