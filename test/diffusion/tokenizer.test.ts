// The CLIP tokenizer against scripts/torch/clip_tokenizer_ref.py (openai's simple_tokenizer BPE with transformers'
// truncation and padding) on a tiny vocabulary learned by scripts/torch/make-clip-fixture.py.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClipTokenizer, cleanText } from '../../src/runtime/diffusion/tokenizer.js';

const dir = path.join(import.meta.dirname, '../fixtures/clip-tiny');
const tokDir = path.join(dir, 'tokenizer');
const expected = JSON.parse(fs.readFileSync(path.join(tokDir, 'expected.json'), 'utf8')) as {
  length: number; bos: number; eos: number; pad: number;
  cases: { text: string; ids: number[]; padded: number[]; dropped: string | null; decoded: string }[];
};

const fromFiles = () => ClipTokenizer.fromFiles(path.join(tokDir, 'vocab.json'), path.join(tokDir, 'merges.txt'));

test('encode matches the Python reference on every tricky string', () => {
  const tok = fromFiles();
  assert.equal(tok.bosId, expected.bos);
  assert.equal(tok.eosId, expected.eos);
  for (const c of expected.cases) assert.deepEqual(tok.encode(c.text), c.ids, `encode(${JSON.stringify(c.text)})`);
});

test('encodePadded and encodeBatch pad with <|endoftext|> and truncate to 77 keeping bos/eos', () => {
  const tok = fromFiles();
  assert.equal(tok.padId, expected.pad);
  assert.equal(tok.maxLength, 77);
  for (const c of expected.cases) {
    const ids = tok.encodePadded(c.text);
    assert.equal(ids.length, 77);
    assert.deepEqual(ids, c.padded, `encodePadded(${JSON.stringify(c.text)})`);
  }
  const texts = expected.cases.map((c) => c.text);
  const batch = tok.encodeBatch(texts, { length: 77 });
  assert.ok(batch instanceof BigInt64Array);
  assert.equal(batch.length, texts.length * 77);
  assert.deepEqual([...batch].map(Number), expected.cases.flatMap((c) => c.padded));
  const short = tok.encodeBatch(['a photo of a sks dog'], { length: 5 });
  assert.deepEqual([...short].map(Number), [tok.bosId, ...expected.cases[0].ids.slice(1, 4), tok.eosId]);
});

test('truncation is reported through the callback with the dropped text', () => {
  const tok = fromFiles();
  const calls: { prompt: string; kept: number; dropped: string }[] = [];
  tok.encodeBatch(expected.cases.map((c) => c.text), { onTruncate: (prompt, kept, dropped) => calls.push({ prompt, kept, dropped }) });
  const long = expected.cases.filter((c) => c.dropped !== null);
  assert.ok(long.length >= 3, 'the fixture has prompts over 75 tokens');
  assert.deepEqual(calls, long.map((c) => ({ prompt: c.text, kept: 75, dropped: c.dropped })));
  // Exactly 75 tokens fit; 76 do not.
  const at = (n: number) => expected.cases.find((c) => c.ids.length === n + 2);
  assert.equal(at(75)?.dropped, null);
  assert.equal(at(76)?.dropped, 'b');
});

test('decode matches the reference and inverts encode up to cleaning', () => {
  const tok = fromFiles();
  for (const c of expected.cases) assert.equal(tok.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
  const ids = tok.encode('A Photo of a SKS dog!');
  assert.equal(tok.decode(ids), 'a photo of a sks dog !');
  assert.equal(tok.decode(ids, { skipSpecialTokens: false }), '<|startoftext|>a photo of a sks dog ! <|endoftext|>');
  assert.equal(tok.decode(BigInt64Array.from(ids.map(BigInt))), 'a photo of a sks dog !');
  assert.throws(() => tok.decode([tok.vocabSize + 5]), /not in the vocabulary/);
});

test('cleaning: NFC, whitespace as Python sees it, lowercase', () => {
  assert.equal(cleanText('  Cafe\u0301\u00a0\x1cBAR\tbaz  '), 'café bar baz');
  assert.equal(cleanText('\ufeffx'), '\ufeffx', 'U+FEFF is not whitespace to Python');
});

test('loads a tokenizer folder in both file forms, with the same result', () => {
  const a = ClipTokenizer.fromFolder(tokDir);
  const b = ClipTokenizer.fromFolder(path.join(dir, 'tokenizer-json'));
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer-json/tokenizer.json'), 'utf8'));
  const c = ClipTokenizer.fromTokenizerJson(json);
  // Newer tokenizer.json files store merges as pairs.
  const d = ClipTokenizer.fromTokenizerJson({ ...json, model: { ...json.model, merges: json.model.merges.map((m: string) => m.split(' ')) } });
  for (const tok of [a, b, c, d]) {
    assert.equal(tok.vocabSize, fromFiles().vocabSize);
    for (const x of expected.cases) assert.deepEqual(tok.encodePadded(x.text), x.padded, JSON.stringify(x.text));
  }
});

test('folder config: pad token and max length from tokenizer_config.json; clear errors', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-tok-'));
  try {
    for (const f of ['vocab.json', 'merges.txt']) fs.copyFileSync(path.join(tokDir, f), path.join(tmp, f));
    fs.writeFileSync(path.join(tmp, 'tokenizer_config.json'), JSON.stringify({ pad_token: { content: '!', special: false }, model_max_length: 10 }));
    const tok = ClipTokenizer.fromFolder(tmp);
    const bang = 0; // '!' (without '</w>') is CLIP's first token, SD2's pad
    assert.equal(tok.padId, bang);
    assert.deepEqual(tok.encodePadded('sks'), [tok.bosId, ...tok.tokens('sks'), tok.eosId, ...Array(10 - 3).fill(bang)]);
    assert.throws(() => ClipTokenizer.fromFolder(path.join(tmp, 'missing')), /expected vocab.json and merges.txt, or tokenizer.json/);
    assert.throws(() => tok.encodePadded('x', { length: 1 }), /length must be an integer >= 2/);
    fs.writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [], end_of_word_suffix: null } }));
    assert.throws(() => ClipTokenizer.fromTokenizerJson(path.join(tmp, 'tokenizer.json')), /not a CLIP tokenizer/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
