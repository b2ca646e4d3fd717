// Builds the subject's prompts from the parts users know (identifier, class noun, activities) in the paper's forms.
import { defineNode } from './common/define-node.js';
import { buildPromptSet, checkPromptWord, parseActivities } from './prompt-set.js';

export const DEFAULT_ACTIVITIES = ['cooking', 'playing the guitar', 'riding a bicycle', 'reading a book', 'playing tennis'];

export const PromptTemplate = defineNode({
  type: 'PromptTemplate',
  displayName: 'Prompt Template',
  category: 'instructbooth/prompts',
  description:
    'The prompts of one subject: "a [V] [class]" to personalize (with a description for rare subjects), "a [class]" for prior ' +
    'preservation, and RL prompts "a [V] [class] [activity]" mixed with "a [class] [activity]".',
  inputs: {
    identifier: { type: 'STRING', default: 'sks', tooltip: 'A rare token that will name your subject (the paper\'s [V]).' },
    class_noun: { type: 'STRING', default: 'cat', tooltip: 'What the subject is: cat, dog, backpack, plushie...' },
    description: {
      type: 'STRING',
      default: '',
      tooltip: 'Optional, for subjects unlike anything the model knows: "triangular yellow" gives "a sks triangular yellow cat".',
    },
    activities: {
      type: 'STRING',
      default: DEFAULT_ACTIVITIES.join('\n'),
      multiline: true,
      tooltip: 'What the subject should be seen doing, one per line; each gives an RL prompt with and one without the identifier.',
    },
    identifier_ratio: {
      type: 'FLOAT',
      default: 0.5,
      min: 0,
      max: 1,
      step: 0.05,
      tooltip: 'Fraction of RL prompts that carry the identifier; the rest train the plain class, which speeds up RL.',
    },
  },
  outputs: [
    { name: 'prompts', type: 'PROMPTS' },
    { name: 'instance_prompt', type: 'STRING' },
    { name: 'class_prompt', type: 'STRING' },
  ],
  validate: (inputs) =>
    checkPromptWord('identifier', inputs.identifier) ??
    checkPromptWord('class_noun', inputs.class_noun) ??
    checkPromptWord('description', inputs.description ?? '', true),
  async run(inputs) {
    const set = buildPromptSet({
      identifier: inputs.identifier,
      classNoun: inputs.class_noun,
      description: inputs.description,
      activities: parseActivities(inputs.activities),
      identifierRatio: inputs.identifier_ratio,
    });
    return { outputs: [set, set.instancePrompt, set.classPrompt] };
  },
});
