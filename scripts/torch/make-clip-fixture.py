#!/usr/bin/env python3
"""Writes test/fixtures/clip-tiny/:
  tokenizer/vocab.json, merges.txt, special_tokens_map.json, tokenizer_config.json  a tiny CLIP BPE vocabulary in the
      files diffusers ships (tokenizer/ folder), learned here from a small prompt corpus by a minimal BPE trainer
  tokenizer-json/tokenizer.json  the same tokenizer in the `tokenizers` library's single-file form (CLIPTokenizerFast's
      layout: NFC + whitespace + lowercase normalizer, CLIP's split regex, ByteLevel, BPE with '</w>')
  tokenizer/expected.json  ~40 tricky strings tokenized by scripts/torch/clip_tokenizer_ref.py (openai's BPE)
  weights.safetensors  a tiny CLIPTextModel (scripts/torch/clip_text.py), seeded random weights, transformers' names
  io.safetensors  input_ids [3, 77] (tokenized prompts, padded with <|endoftext|>) and the float64 outputs (stored
      float32): last_hidden_state, pooled, penultimate (final_layer_norm of the second-to-last layer: "clip skip 1")
  grads.safetensors  float64 gradients (stored float32) of mean(last_hidden_state^2) + mean(pooled^2)
  meta.json  config, parameter counts (including SD1.5's CLIP ViT-L/14 text model, counted on the torch port)

Run from the repo root:  /usr/bin/python3 scripts/torch/make-clip-fixture.py
(Debian 12: apt-get install -y python3-torch python3-numpy python3-regex)
"""
import argparse
import collections
import importlib.util
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from clip_text import SD15, CLIPTextModel, ClipTextConfig, param_count  # noqa: E402
from clip_tokenizer_ref import BOS, EOS, ClipTokenizerRef, base_vocab, pre_tokenize  # noqa: E402

N_MERGES = 700
SEED = 0
LENGTH = 77

# ---- corpus for the tiny vocabulary ------------------------------------------------------------------------------

CLASSES = ["dog", "cat", "backpack", "stuffed animal", "bowl", "can", "candle", "clock", "teapot", "vase", "sneaker",
           "toy", "boot", "glasses", "cartoon"]
CONTEXTS = ["in the jungle", "in the snow", "on the beach", "on a cobblestone street", "on top of pink fabric",
            "on top of a wooden floor", "with a city in the background", "with a mountain in the background",
            "with a blue house in the background", "on top of a purple rug in a forest",
            "with a wheat field in the background", "with a tree and autumn leaves in the background",
            "with the Eiffel Tower in the background", "floating on top of water", "floating in an ocean of milk",
            "on top of green grass with sunflowers around it", "on top of a mirror",
            "on top of the sidewalk in a crowded street", "on top of a dirt road", "on top of a white rug",
            "wearing a red hat", "wearing a santa hat", "wearing a rainbow scarf",
            "wearing a black top hat and a monocle", "in a chef outfit", "in a firefighter outfit",
            "in a police outfit", "wearing pink glasses", "wearing a yellow shirt", "in a purple wizard outfit",
            "with a church in the background", "on top of blue sofa", "in a nurse outfit"]
EXTRA = ["a photo of a sks dog", "a photo of a dog", "a high quality photograph, highly detailed, 4k",
         "it's the dog's bowl and the cat's toy; they're playing, we've seen it, I'm sure you'll like it, he'd say",
         "a red sks backpack", "a purple sks vase", "a shiny sks sneaker", "a wet sks cat", "a cube shaped sks clock",
         "an oil painting of a cat by a famous painter", "a watercolor painting of mountains at sunset",
         "two dogs running on the beach at 3 pm", "a close-up portrait of a happy golden retriever"]


def corpus():
    lines = [f"a sks {c} {x}" for c in CLASSES for x in CONTEXTS] + [f"a {c} {x}" for c in CLASSES for x in CONTEXTS]
    return lines + EXTRA


def train_bpe(lines, n_merges):
    """Minimal BPE trainer over CLIP's pre-tokenized, byte-encoded words (last symbol carries '</w>'): repeatedly
    merge the most frequent adjacent pair (ties: the lexicographically smallest pair), skipping pairs whose merged
    string is already a token, until n_merges or no pair occurs twice."""
    words = collections.Counter()
    for line in lines:
        for tok in pre_tokenize(line):
            if tok not in (BOS, EOS):
                words[tuple(tok[:-1]) + (tok[-1] + "</w>",)] += 1
    known = set(base_vocab())
    merges = []
    while len(merges) < n_merges:
        pairs = collections.Counter()
        for w, c in words.items():
            for p in zip(w, w[1:]):
                pairs[p] += c
        cands = [(c, p) for p, c in pairs.items() if c >= 2 and p[0] + p[1] not in known]
        if not cands:
            break
        _, (a, b) = min(cands, key=lambda cp: (-cp[0], cp[1]))
        merges.append((a, b))
        known.add(a + b)
        merged = collections.Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        words = merged
    return merges


# ---- tricky strings for the tokenizer test ----------------------------------------------------------------------

LONG = ("a highly detailed photograph of a sks dog wearing a black top hat and a monocle, sitting on top of a purple "
        "rug in a forest with a mountain in the background, golden hour lighting, 35mm film, bokeh, trending on "
        "artstation, ultra realistic, 8k, intricate details, sharp focus, award winning photo by a famous "
        "photographer, volumetric light, cinematic composition, vivid colors, masterpiece, best quality")
TRICKY = [
    "a photo of a sks dog",
    "",
    "    ",
    "A Photo OF a DOG",
    "a dog,in the snow!!! (and more...)",
    "it's the dog's bowl; they're here, we've, I'm, you'll, he'd",
    "IT'S DON'T THEY'RE",
    "rock 'n' roll ''s 'hello' ''",
    "1234 dogs and 3.14 cats, 2nd place, 10,000",
    "multiple    spaces\tand\ttabs\nnewlines\r\ncrlf",
    "  leading and trailing  ",
    "café naïve résumé",
    "cafe\u0301 na\u0131ve",
    "a\u0308 q\u0307",
    "東京 の 犬",
    "🐶 dog emoji 🎉🎉 👍🏽",
    "ΟΔΟΣ ΣΟΦΙΑΣ",
    "İstanbul",
    "straße STRASSE",
    "<|startoftext|>a dog<|endoftext|>",
    "a <|ENDOFTEXT|> b <|endoftext",
    "sks",
    "dog\u00a0cat\u3000bird\u2003fish",
    "zero\u200bwidth \ufeffbom",
    "\ufeffleading bom",
    "fish &amp; chips",
    "x\x1cy\x85z\x0bw",
    "hello-world_foo/bar@baz.com #tag $5 100%",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "x²³ ½ Ⅻ",
    "it'ſ",
    "Ünïcödé ÜBER",
    "...!!!???",
    "a dog in the jungle",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "supercalifragilisticexpialidocious",
    "a sks dog, a sks dog, a sks dog",
    LONG,
    LONG + " " + LONG,
    "a " * 74 + "b",
    "a " * 75 + "b",
    "a " * 76 + "b",
]

# ---- safetensors: the writer and round-trip check of make-mini-unet-fixture.py -----------------------------------

_spec = importlib.util.spec_from_file_location("mini_unet_fixture", os.path.join(HERE, "make-mini-unet-fixture.py"))
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
write_safetensors, check_roundtrip = _fixture.write_safetensors, _fixture.check_roundtrip


def write_json(path, obj, indent=None):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


# ---- main ----------------------------------------------------------------------------------------------------------

def tokenizer_json(vocab, merges):
    """CLIPTokenizerFast's tokenizer.json layout (as saved by transformers for openai/clip-vit-*)."""
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": True, "special": True} for t in (BOS, EOS)]
    pat = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pat}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": [EOS, vocab[EOS]], "cls": [BOS, vocab[BOS]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": EOS, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def make_tokenizer(out):
    tdir, jdir = os.path.join(out, "tokenizer"), os.path.join(out, "tokenizer-json")
    os.makedirs(tdir, exist_ok=True)
    os.makedirs(jdir, exist_ok=True)
    merges = train_bpe(corpus(), N_MERGES)
    tokens = base_vocab() + ["".join(m) for m in merges] + [BOS, EOS]
    assert len(set(tokens)) == len(tokens), "duplicate tokens"
    vocab = {t: i for i, t in enumerate(tokens)}
    write_json(os.path.join(tdir, "vocab.json"), vocab)
    with open(os.path.join(tdir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    # diffusers' SD1.5 tokenizer/ files (pad_token <|endoftext|>, model_max_length 77)
    special = {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS}
    write_json(os.path.join(tdir, "special_tokens_map.json"), special, 2)
    write_json(os.path.join(tdir, "tokenizer_config.json"),
               {**special, "add_prefix_space": False, "do_lower_case": True, "errors": "replace",
                "model_max_length": LENGTH, "tokenizer_class": "CLIPTokenizer"}, 2)
    write_json(os.path.join(jdir, "tokenizer.json"), tokenizer_json(vocab, merges))
    write_json(os.path.join(jdir, "tokenizer_config.json"),
               {**special, "model_max_length": LENGTH, "tokenizer_class": "CLIPTokenizer"}, 2)

    tok = ClipTokenizerRef.from_files(os.path.join(tdir, "vocab.json"), os.path.join(tdir, "merges.txt"))
    cases = []
    for text in TRICKY:
        ids = tok.encode(text)
        padded, dropped = tok.encode_padded(text, LENGTH)
        cases.append({"text": text, "ids": ids, "tokens": [tok.decoder[i] for i in ids], "padded": padded,
                      "dropped": tok.decode(dropped) if dropped else None, "decoded": tok.decode(ids)})
    write_json(os.path.join(tdir, "expected.json"),
               {"generator": "scripts/torch/make-clip-fixture.py (scripts/torch/clip_tokenizer_ref.py)",
                "length": LENGTH, "bos": tok.bos_id, "eos": tok.eos_id, "pad": tok.pad_id, "cases": cases}, 1)
    return tok, len(vocab), len(merges)


def make_model(out, tok, vocab_size):
    cfg = ClipTextConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=LENGTH, layer_norm_eps=1e-5)
    torch.manual_seed(SEED)
    model = CLIPTextModel(cfg)
    with torch.no_grad():  # non-trivial LayerNorm affines, so a mixed-up weight/bias shows
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                p.copy_((1.0 if name.endswith(".weight") else 0.0) + 0.2 * torch.randn(p.shape))
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert list(sd) == [k for k, _ in model.named_parameters()], "state_dict has non-parameter entries"

    prompts = ["a photo of a sks dog", "", LONG]
    input_ids = torch.tensor([tok.encode_padded(p, LENGTH)[0] for p in prompts], dtype=torch.int64)
    m64 = CLIPTextModel(cfg).double()
    m64.load_state_dict({k: v.double() for k, v in sd.items()})
    last, pooled, hs = m64(input_ids)
    loss = last.pow(2).mean() + pooled.pow(2).mean()  # reaches every parameter, the pooled Gather included
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in m64.named_parameters()}
    with torch.no_grad():
        last, pooled = last.detach(), pooled.detach()
        penultimate = m64.text_model.final_layer_norm(hs[-2])
        last32, pooled32, _ = model(input_ids)

    wpath, iopath = os.path.join(out, "weights.safetensors"), os.path.join(out, "io.safetensors")
    common = {"format": "pt", "generator": "scripts/torch/make-clip-fixture.py", "config": json.dumps(cfg.to_dict())}
    write_safetensors(wpath, sd, {**common, "description": "tiny CLIPTextModel state_dict (float32)"})
    check_roundtrip(wpath, sd)
    io = {"input_ids": input_ids, "last_hidden_state": last, "pooled": pooled, "penultimate": penultimate}
    write_safetensors(iopath, io, {**common, "description": "input_ids and float64 outputs stored as float32"})
    check_roundtrip(iopath, io)
    gpath = os.path.join(out, "grads.safetensors")
    write_safetensors(gpath, grads, {**common, "loss": repr(loss.item()),
                                     "description": "d(mean(last_hidden_state^2) + mean(pooled^2))/d param, float64"})
    check_roundtrip(gpath, grads)
    return cfg, model, prompts, loss.item(), {
        "last_hidden_state_max_abs_diff": (last32.double() - last).abs().max().item(),
        "pooled_max_abs_diff": (pooled32.double() - pooled).abs().max().item(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="test/fixtures/clip-tiny")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)

    tok, vocab_size, n_merges = make_tokenizer(a.out)
    cfg, model, prompts, loss, f32diff = make_model(a.out, tok, vocab_size)
    sd15_params = param_count(CLIPTextModel(SD15))  # allocates ~492 MB once

    files = {}
    for root, _, names in os.walk(a.out):
        for n in sorted(names):
            p = os.path.join(root, n)
            if os.path.relpath(p, a.out) != "meta.json":
                files[os.path.relpath(p, a.out)] = os.path.getsize(p)
    meta = {
        "config": cfg.to_dict(),
        "params": param_count(model),
        "sd15_config": SD15.to_dict(),
        "sd15_params": sd15_params,
        "vocab_size": vocab_size, "merges": n_merges,
        "prompts": prompts, "length": LENGTH, "seed": SEED,
        "outputs": {"last_hidden_state": "final_layer_norm(last layer) [B, 77, D]",
                    "pooled": "last_hidden_state[b, argmax(input_ids[b])] [B, D]",
                    "penultimate": "final_layer_norm(hidden_states[-2]) [B, 77, D] (diffusers clip_skip=1)"},
        "loss": loss, "loss_fn": "mean(last_hidden_state^2) + mean(pooled^2); grads.safetensors holds its gradients",
        "compute_dtype": "float64 (stored as float32)",
        "float32_vs_float64": f32diff,
        "torch_version": torch.__version__, "numpy_version": np.__version__,
        "command": "/usr/bin/python3 " + " ".join(sys.argv),
        "files": files,
    }
    write_json(os.path.join(a.out, "meta.json"), meta, 2)
    print(json.dumps({k: meta[k] for k in ("params", "sd15_params", "vocab_size", "merges", "float32_vs_float64",
                                            "files")}, indent=1))


if __name__ == "__main__":
    main()
