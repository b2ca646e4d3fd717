// Tokenizer files (CLIP's vocab.json + merges.txt format) for a small closed vocabulary, such as the embedded model's
// generated world: every listed word becomes one token through a chain of merges, in CLIP's byte-level layout, so
// the standard CLIP tokenizer reads it and any other word still tokenizes (into characters).
import fs from 'node:fs';
import path from 'node:path';
import { BOS_TOKEN, EOS_TOKEN } from './tokenizer.js';

/** CLIP's base alphabet: printable bytes of the byte-to-unicode map (what a word's characters become). */
function baseAlphabet(): string[] {
  const out: string[] = [];
  for (let b = 0x21; b <= 0x7e; b++) out.push(String.fromCharCode(b));
  return out;
}

/**
 * vocab: base characters, each with '</w>', one token per merge result, the special tokens last (as CLIP). Words are
 * lowercase ASCII letters/digits; merges build each word left to right, the word's last piece carrying '</w>'.
 */
export function buildWordVocab(words: Iterable<string>): { vocab: Record<string, number>; merges: string[] } {
  const tokens: string[] = [];
  const seen = new Set<string>();
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  for (const c of baseAlphabet()) add(c);
  for (const c of baseAlphabet()) add(`${c}</w>`);
  const merges: string[] = [];
  const mergeSet = new Set<string>();
  const sorted = [...new Set([...words].map((w) => w.toLowerCase()))].filter((w) => /^[a-z0-9]+$/.test(w)).sort();
  for (const w of sorted) {
    if (w.length < 2) continue;
    let left = w[0];
    for (let i = 1; i < w.length; i++) {
      const right = i === w.length - 1 ? `${w[i]}</w>` : w[i];
      const m = `${left} ${right}`;
      if (!mergeSet.has(m)) {
        mergeSet.add(m);
        merges.push(m);
        add(left + right);
      }
      left += right;
    }
  }
  add(BOS_TOKEN);
  add(EOS_TOKEN);
  return { vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges };
}

/** Writes vocab.json, merges.txt and the tokenizer configs SD's diffusers folders carry. */
export function writeWordVocab(dir: string, words: Iterable<string>): void {
  const { vocab, merges } = buildWordVocab(words);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  fs.writeFileSync(path.join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'special_tokens_map.json'), JSON.stringify({ bos_token: BOS_TOKEN, eos_token: EOS_TOKEN, pad_token: EOS_TOKEN, unk_token: EOS_TOKEN }, null, 2));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 77, pad_token: EOS_TOKEN, tokenizer_class: 'CLIPTokenizer' }, null, 2));
}
