"""Reference CLIP tokenizer: a faithful port of openai/CLIP's clip/simple_tokenizer.py (the BPE, byte-to-unicode map,
pre-tokenization regex and `</w>` handling are copied from it), with transformers' CLIPTokenizer conventions around it:
vocab.json + merges.txt files, bos/eos added by encode(), truncation to max_length keeping bos/eos, padding with
pad_token (<|endoftext|> in SD1.5's tokenizer), unknown tokens mapped to unk (= <|endoftext|>), decode stripping.

Cleaning without ftfy (as transformers' fast CLIP tokenizer does): NFC normalization (the part of ftfy.fix_text that
changes well-formed text), whitespace runs -> one space, strip, lowercase. openai's html.unescape is not applied
(transformers' CLIPTokenizer does not apply it either).

Needs the `regex` module for \\p{L}/\\p{N} (Debian: apt-get install python3-regex), as openai's code does.
"""
import json
import re
import unicodedata
from functools import lru_cache

import regex

# openai's pattern, verbatim, compiled with re.IGNORECASE as openai does.
PAT = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                    regex.IGNORECASE)
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_MERGES = 49152 - 256 - 2  # CLIP reads at most this many merges (openai and transformers both slice to it)


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def whitespace_clean(text):
    text = re.sub(r"\s+", " ", text)  # Python's \s: str.isspace() characters
    return text.strip()


def clean(text):
    return whitespace_clean(unicodedata.normalize("NFC", text).strip()).lower()


def pre_tokenize(text):
    """Cleaned text -> the regex pieces, each byte-encoded (the strings BPE works on)."""
    be = bytes_to_unicode()
    return ["".join(be[b] for b in t.encode("utf-8")) for t in regex.findall(PAT, clean(text))]


def base_vocab():
    """CLIP's vocabulary before merges: the 256 byte symbols, then each with </w>."""
    vocab = list(bytes_to_unicode().values())
    return vocab + [v + "</w>" for v in vocab]


class ClipTokenizerRef:
    def __init__(self, encoder, merges, pad_token=EOS):
        self.encoder = dict(encoder)
        self.decoder = {v: k for k, v in self.encoder.items()}
        merges = [tuple(m) for m in merges[:MAX_MERGES]]
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        self.cache = {BOS: BOS, EOS: EOS}
        self.bos_id, self.eos_id = self.encoder[BOS], self.encoder[EOS]
        self.pad_id = self.encoder[pad_token]

    @classmethod
    def from_files(cls, vocab_json, merges_txt, **kw):
        with open(vocab_json, encoding="utf-8") as f:
            encoder = json.load(f)
        with open(merges_txt, encoding="utf-8") as f:
            lines = f.read().strip().split("\n")[1:]  # first line is the '#version' header
        return cls(encoder, [tuple(l.split()) for l in lines], **kw)

    def bpe(self, token):  # openai's, verbatim apart from style
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def tokens(self, text):
        """Content ids, no bos/eos."""
        out = []
        for token in pre_tokenize(text):
            out.extend(self.encoder.get(t, self.eos_id) for t in self.bpe(token).split(" "))
        return out

    def encode(self, text):
        """[bos] + ids + [eos], untruncated."""
        return [self.bos_id] + self.tokens(text) + [self.eos_id]

    def encode_padded(self, text, length=77):
        """transformers' tokenizer(text, padding='max_length', max_length=length, truncation=True).input_ids,
        and the dropped content ids (diffusers shows decode(dropped) in its truncation warning)."""
        ids = self.tokens(text)
        kept, dropped = ids[:length - 2], ids[length - 2:]
        out = [self.bos_id] + kept + [self.eos_id]
        return out + [self.pad_id] * (length - len(out)), dropped

    def decode(self, ids, skip_special_tokens=True):
        """transformers' CLIPTokenizer.decode: concatenated token strings, bytes decoded (errors='replace'),
        '</w>' -> ' ', stripped."""
        special = {self.bos_id, self.eos_id, self.pad_id}
        text = "".join(self.decoder[i] for i in ids if not (skip_special_tokens and i in special))
        return bytearray([self.byte_decoder[c] for c in text]).decode("utf-8", errors="replace").replace("</w>", " ").strip()
