// CLIP's BPE tokenizer, as openai/CLIP's simple_tokenizer.py computes it inside transformers' CLIPTokenizer (the one
// SD1.5's diffusers folder ships): clean (NFC, whitespace runs -> one space, strip), lowercase, CLIP's pre-tokenizing
// regex, bytes -> printable unicode, BPE with '</w>' marking a word's end; bos/eos around, truncation keeping both,
// padding with the pad token (<|endoftext|> for SD1.5). The reference is scripts/torch/clip_tokenizer_ref.py.
//
// Why not @huggingface/tokenizers (0.2.0, pure JS): fed a CLIPTokenizerFast-layout tokenizer.json it matched 38 of
// the 40 reference strings of test/fixtures/clip-tiny/tokenizer/expected.json, but not CLIP on two rules: characters
// Python's \s treats as whitespace and Oniguruma's does not (U+001C-U+001F, U+0085) become tokens, and openai's
// pattern is case-insensitive ("it'ſ" holds the contraction 'ſ = 's). It also reads only tokenizer.json (diffusers
// ships vocab.json + merges.txt) and would be a dependency for about 100 lines of BPE.
import fs from 'node:fs';
import path from 'node:path';

export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';
/** SD's text encoders read 77 tokens. */
export const CLIP_MAX_LENGTH = 77;
/** CLIP reads at most this many merges (openai and transformers both slice merges.txt to it). */
const MAX_MERGES = 49152 - 256 - 2;
/** Larger BPE caches are dropped and restarted (a server tokenizes unbounded prompt streams). */
const CACHE_LIMIT = 50_000;

// Python's \s (str.isspace), which openai's whitespace_clean uses: JavaScript's \s lacks U+001C-U+001F and U+0085 and
// adds U+FEFF, so the class is spelled out.
const WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUNS = new RegExp(`[${WS}]+`, 'gu');
const WS_ENDS = new RegExp(`^[${WS}]+|[${WS}]+$`, 'gu');
// openai's pattern, compiled with re.IGNORECASE there: 'i' here too (with 'u', simple case folding, as Python's regex).
const PIECES = new RegExp(`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`, 'giu');

/** GPT-2/CLIP's reversible map from bytes to printable characters (no whitespace or control characters). */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = [];
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
}
const BYTE_TO_CHAR = bytesToUnicode();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextEncoder();

/** NFC (what ftfy changes in well-formed text), whitespace collapsed and stripped, lowercased. */
export function cleanText(text: string): string {
  return text.normalize('NFC').replace(WS_RUNS, ' ').replace(/^ | $/g, '').toLowerCase();
}

/** Called when a prompt is longer than the model reads: how many of its tokens are kept and the text dropped. */
export type TruncateCallback = (prompt: string, keptTokens: number, droppedText: string) => void;

export interface PadOptions {
  /** Sequence length including bos and eos (default: the tokenizer's maxLength, 77 for CLIP). */
  length?: number;
  onTruncate?: TruncateCallback;
}

export interface ClipTokenizerOptions {
  /** Token that pads sequences (SD1.5: <|endoftext|>; SD2's tokenizer uses "!"). */
  padToken?: string;
  maxLength?: number;
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly maxLength: number;
  private readonly decoder = new Map<number, string>();
  private readonly ranks = new Map<string, number>();
  private cache = new Map<string, string[]>();

  constructor(
    private readonly vocab: Map<string, number>,
    merges: readonly (readonly [string, string])[],
    o: ClipTokenizerOptions = {},
  ) {
    for (const [t, id] of vocab) this.decoder.set(id, t);
    merges.slice(0, MAX_MERGES).forEach(([a, b], i) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
    const id = (t: string, what: string) => {
      const v = vocab.get(t);
      if (v === undefined) throw new Error(`CLIP tokenizer: the vocabulary has no ${what} token '${t}'`);
      return v;
    };
    this.bosId = id(BOS_TOKEN, 'start');
    this.eosId = id(EOS_TOKEN, 'end');
    this.padId = id(o.padToken ?? EOS_TOKEN, 'pad');
    this.maxLength = o.maxLength ?? CLIP_MAX_LENGTH;
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** vocab.json and merges.txt (a diffusers tokenizer/ folder's files). */
  static fromFiles(vocabJson: string, mergesTxt: string, o: ClipTokenizerOptions = {}): ClipTokenizer {
    const vocab = parseVocab(JSON.parse(readText(vocabJson)), vocabJson);
    return new ClipTokenizer(vocab, parseMerges(readText(mergesTxt)), o);
  }

  /** A `tokenizers` library tokenizer.json (file path or parsed object) holding a CLIP BPE model. */
  static fromTokenizerJson(file: string | Record<string, unknown>, o: ClipTokenizerOptions = {}): ClipTokenizer {
    const where = typeof file === 'string' ? file : 'tokenizer.json';
    const json = (typeof file === 'string' ? JSON.parse(readText(file)) : file) as TokenizerJson;
    const model = json.model;
    if (!model || model.type !== 'BPE' || !model.vocab || !model.merges)
      throw new Error(`${where}: expected a BPE model with vocab and merges (model.type '${model?.type}')`);
    if (model.end_of_word_suffix !== '</w>')
      throw new Error(`${where}: not a CLIP tokenizer (end_of_word_suffix is '${model.end_of_word_suffix}', CLIP's is '</w>')`);
    const vocab = parseVocab(model.vocab, where);
    for (const t of json.added_tokens ?? []) vocab.set(t.content, t.id);
    const merges = model.merges.map((m, i): [string, string] => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (pair.length !== 2) throw new Error(`${where}: merge ${i} is not a pair: ${JSON.stringify(m)}`);
      return [pair[0], pair[1]];
    });
    return new ClipTokenizer(vocab, merges, o);
  }

  /**
   * A tokenizer folder: vocab.json + merges.txt (diffusers' tokenizer/), else tokenizer.json. The pad token and
   * maximum length come from special_tokens_map.json / tokenizer_config.json when present.
   */
  static fromFolder(dir: string, o: ClipTokenizerOptions = {}): ClipTokenizer {
    const at = (f: string) => path.join(dir, f);
    const config = { ...readJsonIf(at('tokenizer_config.json')), ...readJsonIf(at('special_tokens_map.json')) };
    const padToken = o.padToken ?? tokenContent(config.pad_token);
    const maxLen = Number(config.model_max_length);
    const opts = { padToken, maxLength: o.maxLength ?? (maxLen >= 2 && maxLen <= 4096 ? maxLen : undefined) };
    if (fs.existsSync(at('vocab.json')) && fs.existsSync(at('merges.txt')))
      return ClipTokenizer.fromFiles(at('vocab.json'), at('merges.txt'), opts);
    if (fs.existsSync(at('tokenizer.json'))) return ClipTokenizer.fromTokenizerJson(at('tokenizer.json'), opts);
    throw new Error(`${dir}: no CLIP tokenizer here (expected vocab.json and merges.txt, or tokenizer.json)`);
  }

  /** openai's bpe(): merge the lowest-ranked adjacent pair until none is in the merge table. */
  private bpe(piece: string): string[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    if (piece === BOS_TOKEN || piece === EOS_TOKEN) return [piece];
    const chars = [...piece];
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + '</w>'];
    while (word.length > 1) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      const [first, second] = [word[best], word[best + 1]];
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else merged.push(word[i++]);
      }
      word = merged;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(piece, word);
    return word;
  }

  /** Token ids of the text alone (no bos/eos). Unknown tokens become <|endoftext|>, CLIP's unk. */
  tokens(text: string): number[] {
    const ids: number[] = [];
    for (const m of cleanText(text).matchAll(PIECES)) {
      let piece = '';
      for (const byte of utf8.encode(m[0])) piece += BYTE_TO_CHAR[byte];
      for (const t of this.bpe(piece)) ids.push(this.vocab.get(t) ?? this.eosId);
    }
    return ids;
  }

  /** [bos, ...tokens, eos], neither truncated nor padded. */
  encode(text: string): number[] {
    return [this.bosId, ...this.tokens(text), this.eosId];
  }

  /** Exactly `length` ids: bos, the first length-2 tokens, eos, then padding (transformers' max_length padding). */
  encodePadded(text: string, o: PadOptions = {}): number[] {
    const length = o.length ?? this.maxLength;
    if (!Number.isInteger(length) || length < 2) throw new Error(`sequence length must be an integer >= 2, got ${length}`);
    const ids = this.tokens(text);
    const keep = length - 2;
    if (ids.length > keep) o.onTruncate?.(text, keep, this.decode(ids.slice(keep)));
    const out = [this.bosId, ...ids.slice(0, keep), this.eosId];
    while (out.length < length) out.push(this.padId);
    return out;
  }

  /** input_ids [texts.length, length] as int64, row-major. */
  encodeBatch(texts: readonly string[], o: PadOptions = {}): BigInt64Array {
    const length = o.length ?? this.maxLength;
    const out = new BigInt64Array(texts.length * length);
    texts.forEach((t, i) => this.encodePadded(t, { ...o, length }).forEach((id, j) => (out[i * length + j] = BigInt(id))));
    return out;
  }

  /** Text of token ids ('</w>' -> space, stripped); bos/eos/pad are skipped unless asked for. */
  decode(ids: Iterable<number | bigint>, o: { skipSpecialTokens?: boolean } = {}): string {
    const skip = o.skipSpecialTokens ?? true;
    const special = new Set([this.bosId, this.eosId, this.padId]);
    let text = '';
    for (const raw of ids) {
      const id = Number(raw);
      if (skip && special.has(id)) continue;
      const t = this.decoder.get(id);
      if (t === undefined) throw new Error(`token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
      text += t;
    }
    const bytes: number[] = [];
    for (const ch of text) {
      const b = CHAR_TO_BYTE.get(ch);
      // Vocabulary strings hold only byte symbols; keep anything else as its UTF-8 bytes.
      if (b === undefined) bytes.push(...utf8.encode(ch));
      else bytes.push(b);
    }
    // ignoreBOM keeps a leading U+FEFF as Python's decode does; strip as Python's str.strip (its whitespace).
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes)).replaceAll('</w>', ' ').replace(WS_ENDS, '');
  }
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string }[];
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | string[])[]; end_of_word_suffix?: string | null };
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read tokenizer file ${file}: ${(e as Error).message}`);
  }
}

function readJsonIf(file: string): Record<string, unknown> {
  return fs.existsSync(file) ? (JSON.parse(readText(file)) as Record<string, unknown>) : {};
}

/** A special token in tokenizer_config.json: a string or an AddedToken object {content: ...}. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function parseVocab(obj: unknown, where: string): Map<string, number> {
  if (!obj || typeof obj !== 'object') throw new Error(`${where}: the vocabulary must be a JSON object of token -> id`);
  const vocab = new Map<string, number>();
  for (const [t, id] of Object.entries(obj as Record<string, unknown>)) {
    if (!Number.isInteger(id)) throw new Error(`${where}: token '${t}' has id ${JSON.stringify(id)}, expected an integer`);
    vocab.set(t, id as number);
  }
  return vocab;
}

/** merges.txt: a '#version' header line (transformers always skips line 1; openai's starts with a quote), then one
 * "left right" pair per line. */
function parseMerges(text: string): [string, string][] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: [string, string][] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '' || (i === 0 && line.includes('#version'))) return;
    const pair = line.split(' ');
    if (pair.length !== 2) throw new Error(`merges.txt line ${i + 1} is not a pair: '${line}'`);
    out.push([pair[0], pair[1]]);
  });
  return out;
}
