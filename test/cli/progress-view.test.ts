// How `instructbooth run` prints progress: counts are whole numbers in a pipe and on a terminal, even when a node
// reports fractions (PriorClassGen counts images by the denoising step: 6.4 of 64).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainView, ttyView } from '../../src/cli/progress-view.js';
import type { Prompt } from '../../src/runtime/graph/prompt.js';

const prompt: Prompt = { 4: { class_type: 'PriorClassGen', inputs: {}, _meta: { title: 'Prior Class Images' } } };

for (const [name, make] of [['plain', plainView], ['tty', ttyView]] as const)
  test(`${name} view: progress counts are integers`, () => {
    const out: string[] = [];
    const view = make(prompt, (s) => void out.push(s));
    view({ type: 'executing', promptId: 'p', node: '4' });
    for (const value of [0.4, 6.4, 12.8, 63.99, 64]) view({ type: 'progress', promptId: 'p', node: '4', value, max: 64, text: 'class image 8/64' });
    view({ type: 'progress', promptId: 'p', node: '4', value: 2.5, max: 7.5 });
    const text = out.join('');
    assert.doesNotMatch(text, /\d\.\d+\/\d/, text);
    assert.match(text, / 6\/64/);
    assert.match(text, / 63\/64/);
    assert.match(text, / 64\/64/);
    assert.match(text, / 2\/8/);
  });
