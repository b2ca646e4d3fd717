// Stage 1 of `npm run train:world`: CLIP tokenizer files for the world's closed vocabulary, one token per word, the
// subjects' identifiers included.
import { ClipTokenizer } from '../../src/runtime/diffusion/tokenizer.js';
import { writeWordVocab } from '../../src/runtime/diffusion/word-vocab.js';
import { SUBJECTS, worldVocabulary } from '../../src/runtime/world/index.js';

/** Writes the tokenizer files into `dir` and loads them; also the number of words. */
export function worldTokenizer(dir: string): { tokenizer: ClipTokenizer; words: number } {
  const words = new Set([...worldVocabulary(), ...SUBJECTS.map((s) => s.identifier)]);
  writeWordVocab(dir, words);
  return { tokenizer: ClipTokenizer.fromFolder(dir), words: words.size };
}
