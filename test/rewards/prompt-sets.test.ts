// Evaluation prompt sets: DreamBench's 25 prompts per subject (shared, object or live, shared), its 30 subjects, the
// paper's RL prompts for it; the paper's action phrases; the world's sets split into seen and unseen; prompt files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SEEN_ACTIVITIES, UNSEEN_ACTIVITIES } from '../../src/runtime/world/attributes.js';
import { subjectPrompts } from '../../src/runtime/world/prompts.js';
import { SUBJECTS } from '../../src/runtime/world/subjects.js';
import {
  ACTION_PHRASES,
  DREAMBENCH_RL_PHRASES,
  DREAMBENCH_SUBJECTS,
  EVAL_PROMPT_SET_DESCRIPTIONS,
  EVAL_PROMPT_SET_NAMES,
  actionPrompts,
  dreamBenchPrompts,
  dreamBenchSubject,
  dreamBenchTrainingPrompts,
  evalPromptSet,
  isEvalPromptSetName,
  parsePromptList,
  promptSetFromFile,
} from '../../src/runtime/rewards/prompt-sets.js';

test('DreamBench: 25 prompts per subject, shared 1-10 and 21-25, objects or live subjects 11-20', () => {
  const obj = dreamBenchPrompts('sks', 'backpack', 'object');
  const live = dreamBenchPrompts('sks', 'dog', 'live');
  assert.equal(obj.length, 25);
  assert.equal(live.length, 25);
  assert.equal(obj[0].prompt, 'a sks backpack in the jungle');
  assert.equal(obj[0].withoutIdentifier, 'a backpack in the jungle');
  assert.equal(obj[9].prompt, 'a sks backpack on top of a purple rug in a forest');
  assert.equal(obj[10].prompt, 'a sks backpack with a wheat field in the background');
  assert.equal(obj[19].prompt, 'a sks backpack on top of a white rug');
  assert.equal(live[10].prompt, 'a sks dog wearing a red hat');
  assert.equal(live[19].prompt, 'a sks dog in a purple wizard outfit');
  assert.equal(obj[20].prompt, 'a red sks backpack');
  assert.equal(obj[20].withoutIdentifier, 'a red backpack');
  assert.equal(obj[24].prompt, 'a cube shaped sks backpack');
  // Shared prompts are the same for both kinds; the middle ten differ entirely.
  const tail = (p: { prompt: string }[], cls: string) => p.map((x) => x.prompt.replace(cls, 'C'));
  assert.deepEqual(tail(obj, 'backpack').slice(0, 10), tail(live, 'dog').slice(0, 10));
  assert.deepEqual(tail(obj, 'backpack').slice(20), tail(live, 'dog').slice(20));
  assert.equal(new Set([...tail(obj, 'backpack').slice(10, 20), ...tail(live, 'dog').slice(10, 20)]).size, 20);
  assert.equal(new Set(obj.map((p) => p.prompt)).size, 25);
  const kinds = (p: { kind?: string }[]) => p.reduce<Record<string, number>>((m, x) => ({ ...m, [x.kind!]: (m[x.kind!] ?? 0) + 1 }), {});
  assert.deepEqual(kinds(obj), { recontextualization: 20, 'property-modification': 5 });
  assert.deepEqual(kinds(live), { recontextualization: 10, accessorization: 10, 'property-modification': 5 });
  for (const p of [...obj, ...live]) {
    assert.ok(!p.withoutIdentifier.includes('sks') && !/\s\s/.test(p.withoutIdentifier), p.withoutIdentifier);
  }
  assert.throws(() => dreamBenchPrompts('', 'dog', 'live'), /identifier must not be empty/);
  assert.throws(() => dreamBenchPrompts('sks', 'dog', 'animal' as 'live'), /'object' or 'live'/);
});

test('DreamBench: 30 subjects (21 objects, 9 live), and RL training prompts that are never evaluation prompts', () => {
  assert.equal(DREAMBENCH_SUBJECTS.length, 30);
  assert.equal(new Set(DREAMBENCH_SUBJECTS.map((s) => s.name)).size, 30);
  const live = DREAMBENCH_SUBJECTS.filter((s) => s.kind === 'live');
  assert.equal(live.length, 9);
  assert.ok(live.every((s) => s.classNoun === 'dog' || s.classNoun === 'cat'));
  assert.deepEqual(dreamBenchSubject('wolf_plushie'), { name: 'wolf_plushie', classNoun: 'stuffed animal', kind: 'object' });
  assert.equal(dreamBenchSubject('red_cartoon').classNoun, 'cartoon');
  assert.equal(DREAMBENCH_SUBJECTS.filter((s) => s.classNoun === 'toy').length, 5);
  assert.throws(() => dreamBenchSubject('dog4'), /unknown DreamBench subject "dog4"/);
  const t = dreamBenchTrainingPrompts('sks', 'stuffed animal', 'object');
  assert.deepEqual(t.withIdentifier, ['a sks stuffed animal with a church in the background', 'a sks stuffed animal on top of blue sofa']);
  assert.deepEqual(t.withoutIdentifier, ['a stuffed animal with a church in the background', 'a stuffed animal on top of blue sofa']);
  assert.deepEqual(dreamBenchTrainingPrompts('sks', 'cat', 'live').withIdentifier, ['a sks cat in a nurse outfit', 'a sks cat on top of blue sofa']);
  for (const kind of ['object', 'live'] as const) {
    const evals = new Set(dreamBenchPrompts('sks', 'x', kind).map((p) => p.prompt));
    for (const p of DREAMBENCH_RL_PHRASES[kind]) assert.ok(!evals.has(`a sks x ${p}`));
  }
});

test("the paper's action phrases: 'a [V] [class] [action]' with kinds", () => {
  assert.ok(ACTION_PHRASES.length >= 10);
  const phrases = ACTION_PHRASES.map((a) => a.phrase);
  for (const p of ['playing soccer', 'riding a bike', 'cooking', 'floating on the water', 'with popcorn in it', 'playing tennis', 'playing a guitar'])
    assert.ok(phrases.includes(p), p);
  assert.equal(new Set(phrases).size, phrases.length);
  const ps = actionPrompts('sks', 'teddy bear');
  assert.equal(ps.length, ACTION_PHRASES.length);
  const soccer = ps.find((p) => p.prompt.endsWith('playing soccer'))!;
  assert.deepEqual(soccer, { prompt: 'a sks teddy bear playing soccer', withoutIdentifier: 'a teddy bear playing soccer', kind: 'activity' });
  assert.equal(ps.find((p) => p.prompt.endsWith('popcorn in it'))!.kind, 'interaction');
  assert.deepEqual(actionPrompts('sks', 'cup', ['juggling']), [{ prompt: 'a sks cup juggling', withoutIdentifier: 'a cup juggling' }]);
});

test("the world's sets: every evaluation prompt, split into seen (RL's activities) and unseen", () => {
  for (const s of SUBJECTS) {
    const o = { identifier: s.identifier, classNoun: s.classNoun, description: s.description };
    const all = evalPromptSet('world', o);
    const seen = evalPromptSet('world-seen', o);
    const unseen = evalPromptSet('world-unseen', o);
    assert.deepEqual(all.prompts.map((p) => p.prompt), subjectPrompts(s).evaluation.map((p) => p.prompt));
    assert.equal(seen.prompts.length, SEEN_ACTIVITIES.length);
    assert.equal(seen.prompts.length + unseen.prompts.length, all.prompts.length);
    assert.ok(seen.prompts.every((p) => p.kind === 'seen-activity'));
    assert.equal(unseen.prompts.filter((p) => p.kind === 'unseen-activity').length, UNSEEN_ACTIVITIES.length);
    assert.deepEqual(new Set(unseen.prompts.map((p) => p.kind)), new Set(['unseen-activity', 'context', 'companion', 'color']));
    // RL's training prompts are exactly the seen ones.
    assert.deepEqual(seen.prompts.map((p) => p.prompt), subjectPrompts(s).trainWithIdentifier);
    assert.deepEqual(seen.prompts.map((p) => p.withoutIdentifier), subjectPrompts(s).trainWithoutIdentifier);
  }
  // Another identifier for a world subject, found by its class noun.
  const mine = evalPromptSet('world-seen', { identifier: 'xyz', classNoun: 'star' });
  assert.equal(mine.prompts[0].prompt, 'a xyz star wearing a hat');
  assert.equal(evalPromptSet('world', { identifier: 'phr', classNoun: 'plushie', description: 'triangle' }).prompts.find((p) => p.kind === 'color')!.prompt, 'a orange phr plushie');
  assert.throws(() => evalPromptSet('world', { identifier: 'sks', classNoun: 'dog' }), /none has class noun "dog"/);
});

test('built-in names for a COMBO widget, each building a set', () => {
  assert.deepEqual([...EVAL_PROMPT_SET_NAMES], ['world', 'world-seen', 'world-unseen', 'dreambench-object', 'dreambench-live', 'actions']);
  for (const name of EVAL_PROMPT_SET_NAMES) {
    assert.ok(EVAL_PROMPT_SET_DESCRIPTIONS[name]);
    assert.ok(isEvalPromptSetName(name));
    const set = evalPromptSet(name, { identifier: 'sks', classNoun: name.startsWith('world') ? 'star' : 'dog' });
    assert.equal(set.name, name);
    assert.ok(set.prompts.length > 0);
    assert.ok(set.prompts.every((p) => p.prompt.includes('sks') && !p.withoutIdentifier.includes('sks')));
  }
  assert.equal(evalPromptSet('dreambench-live', { identifier: 'sks', classNoun: 'cat' }).prompts.length, 25);
  assert.ok(!isEvalPromptSetName('nope'));
  assert.throws(() => evalPromptSet('nope' as 'world', { identifier: 'sks', classNoun: 'dog' }), /unknown evaluation prompt set "nope"/);
});

test('prompt lists: placeholders, comments, blank lines, literal prompts', () => {
  const text = [
    '# my prompts',
    'a {V} {class} playing soccer',
    '',
    '   a [V] [class] in the snow   # trailing comment',
    'a {identifier} {class noun} with [*] twin',
    'a sks dog on the beach',
    'a photo of a dog, [masterpiece]',
    'a C# dog',
  ].join('\r\n');
  const ps = parsePromptList(text, { identifier: 'sks', classNoun: 'dog' }, 'mine.txt');
  assert.deepEqual(ps, [
    { prompt: 'a sks dog playing soccer', withoutIdentifier: 'a dog playing soccer' },
    { prompt: 'a sks dog in the snow', withoutIdentifier: 'a dog in the snow' },
    { prompt: 'a sks dog with sks twin', withoutIdentifier: 'a dog with twin' },
    { prompt: 'a sks dog on the beach', withoutIdentifier: 'a dog on the beach' },
    { prompt: 'a photo of a dog, [masterpiece]', withoutIdentifier: 'a photo of a dog, [masterpiece]' },
    { prompt: 'a C# dog', withoutIdentifier: 'a C# dog' },
  ]);
  // The identifier is removed only as a whole word.
  assert.deepEqual(parsePromptList('a sks dog near a sksx', { identifier: 'sks', classNoun: 'dog' }), [{ prompt: 'a sks dog near a sksx', withoutIdentifier: 'a dog near a sksx' }]);
});

test('prompt lists: errors name the file and line', () => {
  const o = { identifier: 'sks', classNoun: 'dog' };
  assert.throws(() => parsePromptList('a {V} dog\na {V} {klass} here', o, 'p.txt'), /^Error: p\.txt:2: unknown placeholder "\{klass\}"/);
  assert.throws(() => parsePromptList('# only\n\n  # comments\n', o, 'p.txt'), /^Error: p\.txt: no prompts/);
  assert.throws(() => parsePromptList('\n\na {V} cat', { identifier: '', classNoun: 'cat' }, 'p.txt'), /p\.txt:3: "\{V\}" needs an identifier/);
  assert.throws(() => parsePromptList('a {class}', { identifier: 'sks', classNoun: '' }, 'p.txt'), /p\.txt:1: "\{class\}" needs a class noun/);
});

test('promptSetFromFile reads a file, named after it; a missing file says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prompt-sets-'));
  try {
    const file = join(dir, 'actions.txt');
    writeFileSync(file, '\uFEFFa {V} {class} cooking\n# skip\na {V} {class} riding a bike\n');
    const set = promptSetFromFile(file, { identifier: 'qlm', classNoun: 'heart' });
    assert.equal(set.name, 'actions.txt');
    assert.deepEqual(set.prompts.map((p) => p.prompt), ['a qlm heart cooking', 'a qlm heart riding a bike']);
    writeFileSync(file, 'a {V} {class}\n{oops}\n');
    assert.throws(() => promptSetFromFile(file, { identifier: 'qlm', classNoun: 'heart' }), new RegExp(`${file.replace(/[.\\]/g, '\\$&')}:2: unknown placeholder`));
    assert.throws(() => promptSetFromFile(join(dir, 'none.txt'), { identifier: 'qlm', classNoun: 'heart' }), /prompt file .*none\.txt does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
