import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { writeWordVocab } from '../../src/runtime/diffusion/word-vocab.js';

test('a closed vocabulary gives one token per listed word; other words still tokenize', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-vocab-'));
  const words = ['a', 'red', 'ring', 'rotated', 'star', 'sks', 'table', 'tree', 'under', 'sun'];
  writeWordVocab(dir, words);
  const tok = ClipTokenizer.fromFolder(dir);
  const ids = tok.encode('a sks red star rotated under a sun');
  assert.equal(ids.length, 8 + 2, 'bos + one token per word + eos');
  assert.equal(tok.decode(ids), 'a sks red star rotated under a sun');
  assert.ok(tok.encode('zebra').length > 3, 'an unknown word falls back to pieces');
  assert.equal(tok.decode(tok.encode('zebra')), 'zebra');
  const padded = tok.encodeBatch(['a star'], { length: 77 });
  assert.equal(padded.length, 77);
  fs.rmSync(dir, { recursive: true });
});
