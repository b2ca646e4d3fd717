// BERT's WordPiece tokenizer (bert-base-uncased's rules, ImageReward's text side) on a tiny vocabulary: cleaning,
// lowercasing and accents, punctuation, CJK, greedy WordPiece with ## pieces and [UNK], special tokens, encoding.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BertTokenizer } from '../../src/runtime/rewards/bert-tokenizer.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'dog', '##s', 'run', '##ning', 'in', 'the', 'park', ',', '.', '!', "'",
  'cafe', 'un', '##aff', '##able', '中', '文'];
const tok = new BertTokenizer(new Map(VOCAB.map((t, i) => [t, i])));

test('basic tokenization then WordPiece', () => {
  assert.deepEqual(tok.tokenize('A dog runs in the park.'), ['a', 'dog', 'run', '##s', 'in', 'the', 'park', '.']);
  assert.deepEqual(tok.tokenize('Running   DOGS!'), ['run', '##ning', 'dog', '##s', '!']);
  assert.deepEqual(tok.tokenize('Café'), ['cafe']);
  assert.deepEqual(tok.tokenize('unaffable'), ['un', '##aff', '##able']);
  assert.deepEqual(tok.tokenize('中文'), ['中', '文']);
  assert.deepEqual(tok.tokenize('a中dog'), ['a', '中', 'dog']);
});

test('unknown words become one [UNK] each; punctuation splits words', () => {
  assert.deepEqual(tok.tokenize('xyz dogx'), ['[UNK]', '[UNK]']);
  assert.deepEqual(tok.tokenize("dog's"), ['dog', "'", '[UNK]']);
  assert.deepEqual(tok.tokenize('dog,park'), ['dog', ',', 'park']);
  assert.deepEqual(tok.tokenize('a'.repeat(101)), ['[UNK]']);
});

test('control characters vanish, unicode spaces separate, special tokens stay whole', () => {
  assert.deepEqual(tok.tokenize('\u0000do\u0007g\u00a0park\tthe\n'), ['dog', 'park', 'the']);
  assert.deepEqual(tok.tokenize('dog [SEP] park[MASK]'), ['dog', '[SEP]', 'park', '[MASK]']);
  assert.deepEqual(tok.tokens('[UNK] dog'), [1, 6]);
});

test('encode: [CLS] ... [SEP], truncation keeps [SEP], padding with mask 0', () => {
  assert.deepEqual(tok.encode('dog', 6), { inputIds: [2, 6, 3, 0, 0, 0], attentionMask: [1, 1, 1, 0, 0, 0] });
  assert.deepEqual(tok.encode('a dog runs in', 5), { inputIds: [2, 5, 6, 8, 3], attentionMask: [1, 1, 1, 1, 1] });
  const b = tok.encodeBatch(['dog', ''], 4);
  assert.deepEqual([...b.inputIds].map(Number), [2, 6, 3, 0, 2, 3, 0, 0]);
  assert.deepEqual([...b.attentionMask].map(Number), [1, 1, 1, 0, 1, 1, 0, 0]);
  assert.throws(() => tok.encode('dog', 1), /integer >= 2/);
});

test('cased vocabularies and vocab.txt folders', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-'));
  try {
    assert.throws(() => BertTokenizer.fromFolder(dir), /expected vocab\.txt/);
    fs.writeFileSync(path.join(dir, 'vocab.txt'), `${[...VOCAB, 'Dog'].join('\n')}\n`);
    assert.deepEqual(BertTokenizer.fromFolder(dir).tokenize('Dog'), ['dog']);
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    const cased = BertTokenizer.fromFolder(dir);
    assert.deepEqual(cased.tokenize('Dog dog Café'), ['Dog', 'dog', '[UNK]']);
    assert.equal(cased.vocabSize, VOCAB.length + 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => new BertTokenizer(new Map([['a', 0]])), /no unknown token '\[UNK\]'/);
});
