// `npm run train:world -- --stages-from DIR`: the shipped model's VAE and text encoder stand in for stages 2 and 3,
// and a folder built for other widths is refused before any training starts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseWorldTraining, textClipConfig } from '../../scripts/world-training/options.js';
import { reusedStages } from '../../scripts/world-training/reused-stages.js';
import { worldTokenizer } from '../../scripts/world-training/world-tokenizer.js';

const EMBEDDED = path.resolve('models/embedded');

test('--stages-from takes the VAE and the frozen text encoder of a diffusers folder, and no decoder pass by default', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'stages-from-'));
  const w = parseWorldTraining(['--out', out, '--stages-from', EMBEDDED]);
  assert.equal(w.stagesFrom, EMBEDDED);
  assert.equal(w.opt.polishSteps, 0);
  assert.equal(parseWorldTraining(['--out', out, '--stages-from', EMBEDDED, '--polish-steps', '500']).opt.polishSteps, 500);
  assert.equal(parseWorldTraining(['--out', out]).opt.polishSteps, 6000);
  const { tokenizer } = worldTokenizer(path.join(out, 'tok'));
  const { vae, text } = reusedStages(w, EMBEDDED, tokenizer, textClipConfig(tokenizer.vocabSize).text);
  assert.equal(vae.config.latentChannels, 8);
  assert.ok(vae.config.scalingFactor > 0.5 && vae.config.scalingFactor < 2, `scaling factor ${vae.config.scalingFactor}`);
  assert.ok([...vae.weights.keys()].some((k) => k.startsWith('decoder.')) && [...vae.weights.keys()].some((k) => k.startsWith('encoder.')));
  assert.ok(text.weights.size > 0 && [...text.weights.keys()].every((k) => k.startsWith('text_model.')));
  fs.rmSync(out, { recursive: true, force: true });
});

test('--stages-from refuses a folder whose VAE or text encoder this run would not have built', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'stages-from-'));
  const { tokenizer } = worldTokenizer(path.join(out, 'tok'));
  const w = parseWorldTraining(['--out', out, '--latent-channels', '4']);
  assert.throws(() => reusedStages(w, EMBEDDED, tokenizer, textClipConfig(tokenizer.vocabSize).text), /latent channels is 8, this run's would be 4/);
  const wide = { ...textClipConfig(tokenizer.vocabSize).text, layers: 4 };
  assert.throws(() => reusedStages(parseWorldTraining(['--out', out]), EMBEDDED, tokenizer, wide), /text encoder's layers is 3, this run's would be 4/);
  fs.rmSync(out, { recursive: true, force: true });
});
