import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPromptSet, parseActivities, type PromptSet } from '../../src/nodes/prompt-set.js';
import { DEFAULT_ACTIVITIES, PromptTemplate } from '../../src/nodes/prompt-template.js';
import { fakeContext, makeFolders } from './fake-context.js';
import { type GivenTo, runNode } from './run-node.js';

const run = async (inputs: GivenTo<typeof PromptTemplate>) => {
  const f = await makeFolders();
  try {
    return (await runNode(PromptTemplate, inputs, fakeContext(f))).outputs as [PromptSet, string, string];
  } finally {
    await f.cleanup();
  }
};

test('PromptTemplate: the paper\'s forms, without a description', async () => {
  const [set, instance, cls] = await run({
    identifier: 'sks',
    class_noun: 'cat',
    description: '',
    activities: 'cooking\n  playing the guitar  \n\nriding a bicycle\n',
    identifier_ratio: 0.5,
  });
  assert.equal(instance, 'a sks cat');
  assert.equal(cls, 'a cat');
  assert.deepEqual(set, {
    identifier: 'sks',
    classNoun: 'cat',
    description: '',
    instancePrompt: 'a sks cat',
    classPrompt: 'a cat',
    withIdentifier: ['a sks cat cooking', 'a sks cat playing the guitar', 'a sks cat riding a bicycle'],
    withoutIdentifier: ['a cat cooking', 'a cat playing the guitar', 'a cat riding a bicycle'],
    identifierRatio: 0.5,
    activities: ['cooking', 'playing the guitar', 'riding a bicycle'],
  });
});

test('PromptTemplate: a rare subject\'s description goes in the instance prompt only', async () => {
  const [set, instance, cls] = await run({
    identifier: ' sks ',
    class_noun: 'plushie',
    description: 'triangular yellow',
    activities: 'playing tennis\r\nin a nurse outfit',
    identifier_ratio: 0.75,
  });
  assert.equal(instance, 'a sks triangular yellow plushie');
  assert.equal(cls, 'a plushie');
  assert.equal(set.instancePrompt, instance);
  assert.equal(set.description, 'triangular yellow');
  assert.deepEqual(set.withIdentifier, ['a sks plushie playing tennis', 'a sks plushie in a nurse outfit']);
  assert.deepEqual(set.withoutIdentifier, ['a plushie playing tennis', 'a plushie in a nurse outfit']);
  assert.equal(set.identifierRatio, 0.75);
  // "a", not "an", before a vowel, as the paper writes.
  assert.equal(buildPromptSet({ identifier: 'sks', classNoun: 'owl', activities: [] }).classPrompt, 'a owl');
});

test('PromptTemplate: defaults, and validation of identifier and class noun', () => {
  const d = Object.fromEntries(Object.entries(PromptTemplate.inputs).map(([k, s]) => [k, (s as { default?: unknown }).default]));
  assert.deepEqual(d, { identifier: 'sks', class_noun: 'cat', description: '', activities: DEFAULT_ACTIVITIES.join('\n'), identifier_ratio: 0.5 });
  assert.equal(PromptTemplate.validate!(d, undefined as never), undefined);
  assert.equal(PromptTemplate.validate!({ ...d, identifier: '  ' }, undefined as never), 'identifier must not be empty');
  assert.equal(PromptTemplate.validate!({ ...d, class_noun: 'cat\ndog' }, undefined as never), 'class_noun must be a single line');
  assert.equal(PromptTemplate.validate!({ ...d, description: 'a\nb' }, undefined as never), 'description must be a single line');
  assert.throws(() => buildPromptSet({ identifier: 'sks', classNoun: '', activities: [] }), /class_noun must not be empty/);
  assert.throws(() => buildPromptSet({ identifier: 'sks', classNoun: 'cat', activities: [], identifierRatio: 1.5 }), /identifier_ratio must be in \[0, 1\]/);
  assert.deepEqual(parseActivities(' a \n\n b\r\n'), ['a', 'b']);
});
