// BERT's WordPiece tokenizer, as transformers' (slow) BertTokenizer computes it for bert-base-uncased, which
// ImageReward's BLIP text encoder reads: BasicTokenizer (drop NUL/U+FFFD/control characters, whitespace -> space,
// spaces around CJK ideographs, NFC, split on whitespace, lowercase and strip accents (NFD minus Mn) when
// do_lower_case, split off every punctuation character), then greedy longest-match-first WordPiece with '##'
// continuations, [UNK] for a word it cannot cover or longer than 100 characters. Special tokens written in the text
// ("[SEP]") are kept whole, as transformers' added-token splitting keeps them. Encoding for a model: [CLS] tokens
// [SEP], truncated to max_length (keeping [SEP]), padded with [PAD], with the attention mask.
import fs from 'node:fs';
import path from 'node:path';

export interface BertEncoding {
  inputIds: number[];
  attentionMask: number[];
}

export interface BertTokenizerOptions {
  doLowerCase?: boolean;
  /** Strip accents (default: follows doLowerCase, as transformers' strip_accents=None). */
  stripAccents?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  maxInputCharsPerWord?: number;
}

const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /\p{Zs}/u.test(ch);
const isControl = (ch: string) => ch !== '\t' && ch !== '\n' && ch !== '\r' && /\p{C}/u.test(ch);
function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(ch);
}
function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

export class BertTokenizer {
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  private readonly lower: boolean;
  private readonly strip: boolean;
  private readonly maxChars: number;
  private readonly specials: string[];
  private readonly specialRe: RegExp | undefined;

  constructor(readonly vocab: Map<string, number>, o: BertTokenizerOptions = {}) {
    this.lower = o.doLowerCase ?? true;
    this.strip = o.stripAccents ?? this.lower;
    this.maxChars = o.maxInputCharsPerWord ?? 100;
    const id = (t: string, what: string) => {
      const v = vocab.get(t);
      if (v === undefined) throw new Error(`BERT tokenizer: the vocabulary has no ${what} token '${t}'`);
      return v;
    };
    const unk = o.unkToken ?? '[UNK]', cls = o.clsToken ?? '[CLS]', sep = o.sepToken ?? '[SEP]', pad = o.padToken ?? '[PAD]';
    this.unkId = id(unk, 'unknown');
    this.clsId = id(cls, 'classifier');
    this.sepId = id(sep, 'separator');
    this.padId = id(pad, 'padding');
    this.specials = [unk, cls, sep, pad, o.maskToken ?? '[MASK]'].filter((t) => vocab.has(t));
    this.specialRe = this.specials.length ? new RegExp(`(${this.specials.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`) : undefined;
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** vocab.txt: one token per line, the line number its id. */
  static fromVocabFile(file: string, o: BertTokenizerOptions = {}): BertTokenizer {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read BERT vocabulary ${file}: ${(e as Error).message}`);
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const vocab = new Map<string, number>();
    lines.forEach((l, i) => {
      const t = l.replace(/\r$/, '');
      if (!vocab.has(t)) vocab.set(t, i);
    });
    return new BertTokenizer(vocab, o);
  }

  /** A folder with vocab.txt (and optionally tokenizer_config.json for do_lower_case and the special tokens). */
  static fromFolder(dir: string, o: BertTokenizerOptions = {}): BertTokenizer {
    const vocabFile = path.join(dir, 'vocab.txt');
    if (!fs.existsSync(vocabFile)) throw new Error(`${dir}: no BERT tokenizer here (expected vocab.txt, one WordPiece token per line)`);
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    const c = fs.existsSync(cfgFile) ? (JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>) : {};
    const str = (k: string) => {
      const v = c[k];
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
      return undefined;
    };
    return BertTokenizer.fromVocabFile(vocabFile, {
      doLowerCase: typeof c.do_lower_case === 'boolean' ? c.do_lower_case : undefined,
      stripAccents: typeof c.strip_accents === 'boolean' ? c.strip_accents : undefined,
      unkToken: str('unk_token'), clsToken: str('cls_token'), sepToken: str('sep_token'), padToken: str('pad_token'), maskToken: str('mask_token'),
      ...o,
    });
  }

  /** BasicTokenizer: words and punctuation marks. */
  basicTokens(text: string): string[] {
    let clean = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
      clean += isWhitespace(ch) ? ' ' : isCjk(cp) ? ` ${ch} ` : ch;
    }
    const out: string[] = [];
    for (let word of clean.normalize('NFC').split(/\s+/).filter(Boolean)) {
      if (this.lower) word = word.toLowerCase();
      if (this.strip) word = word.normalize('NFD').replace(/\p{Mn}/gu, '');
      let cur = '';
      for (const ch of word) {
        if (isPunctuation(ch)) {
          if (cur) out.push(cur);
          out.push(ch);
          cur = '';
        } else cur += ch;
      }
      if (cur) out.push(cur);
    }
    return out;
  }

  /** WordPiece of one word: greedy longest prefix in the vocabulary, then '##' pieces; [UNK] if it cannot. */
  wordPiece(word: string): string[] {
    const chars = [...word];
    if (chars.length > this.maxChars) return ['[UNK]'];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        if (this.vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) return ['[UNK]'];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  /** Token strings of a text (no [CLS]/[SEP]); '[UNK]' stands for the unknown token. */
  tokenize(text: string): string[] {
    const parts = this.specialRe ? text.split(this.specialRe) : [text];
    const out: string[] = [];
    parts.forEach((part, i) => {
      if (i % 2 === 1) out.push(part);
      else for (const w of this.basicTokens(part)) out.push(...this.wordPiece(w));
    });
    return out;
  }

  /** Token ids of a text (no [CLS]/[SEP]). */
  tokens(text: string): number[] {
    return this.tokenize(text).map((t) => (t === '[UNK]' ? this.unkId : this.vocab.get(t) ?? this.unkId));
  }

  /** [CLS] tokens [SEP], truncated to `maxLength` (the last kept token is [SEP]) and padded with [PAD]. */
  encode(text: string, maxLength: number): BertEncoding {
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`BERT sequence length must be an integer >= 2, got ${maxLength}`);
    const ids = [this.clsId, ...this.tokens(text).slice(0, maxLength - 2), this.sepId];
    const attentionMask = ids.map(() => 1);
    while (ids.length < maxLength) {
      ids.push(this.padId);
      attentionMask.push(0);
    }
    return { inputIds: ids, attentionMask };
  }

  /** input_ids and attention_mask [texts.length, maxLength] as int64, row-major. */
  encodeBatch(texts: readonly string[], maxLength: number): { inputIds: BigInt64Array; attentionMask: BigInt64Array } {
    const inputIds = new BigInt64Array(texts.length * maxLength);
    const attentionMask = new BigInt64Array(texts.length * maxLength);
    texts.forEach((t, i) => {
      const e = this.encode(t, maxLength);
      for (let j = 0; j < maxLength; j++) {
        inputIds[i * maxLength + j] = BigInt(e.inputIds[j]);
        attentionMask[i * maxLength + j] = BigInt(e.attentionMask[j]);
      }
    });
    return { inputIds, attentionMask };
  }
}
