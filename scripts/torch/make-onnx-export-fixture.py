#!/usr/bin/env python3
"""Writes test/fixtures/onnx-export/: a tiny Stable Diffusion model exported to ONNX by PyTorch (torch.onnx.export)
in the folder layout and input/output names of Hugging Face Optimum's export (`optimum-cli export onnx`, the
layout diffusers' OnnxStableDiffusionPipeline and ORTStableDiffusionPipeline load):

  text_encoder/model.onnx  input_ids [B, 77] int32 -> last_hidden_state [B, 77, D], pooler_output [B, D]
  unet/model.onnx          sample [B, 4, h, w], timestep [B] int64, encoder_hidden_states [B, 77, D] -> out_sample
  vae_decoder/model.onnx   latent_sample [B, 4, h, w] -> sample [B, 3, H, W]
  vae_encoder/model.onnx   sample [B, 3, H, W] -> latent_sample [B, 4, h, w] (here the posterior mean, so tests are
                           deterministic; Optimum's draws a sample)
  unet/config.json, vae_decoder/config.json, vae_encoder/config.json, scheduler/scheduler_config.json,
  tokenizer/ (the clip-tiny fixture's), model_index.json
  text_encoder/weights.safetensors   the text encoder's state_dict, for the test's reference model (not part of the
                                     export layout; the UNet and VAE weights are test/fixtures/sd-tiny's)

Batch and spatial axes are dynamic. The UNet and VAE are sd-tiny's (same weights); the text encoder is a new seeded
random CLIP text tower of width 20 (the UNet's cross-attention width) over the clip-tiny vocabulary. A test samples
with this export (OnnxExportPipeline) and with the same weights through the project's own graphs (SdPipeline).

Run from the repo root:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/make-onnx-export-fixture.py
"""
import importlib.util
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from clip_text import CLIPTextModel, ClipTextConfig  # noqa: E402
from sd_modules import AutoencoderKL, UNet2DConditionModel  # noqa: E402


def load_module(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_mini = load_module("mini_unet_fixture", "make-mini-unet-fixture.py")
_sd = load_module("sd_fixtures", "make-sd-fixtures.py")
write_safetensors, read_safetensors = _mini.write_safetensors, _mini.read_safetensors
OUT = os.path.join(ROOT, "test", "fixtures", "onnx-export")
SD_TINY = os.path.join(ROOT, "test", "fixtures", "sd-tiny")
OPSET = 14


class TextEncoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        last, pooled, _ = self.m(input_ids.to(torch.int64))
        return last, pooled


class Unet(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.m(sample, timestep, encoder_hidden_states)


class VaeDecoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, latent_sample):
        return self.m.decode(latent_sample)


class VaeEncoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample):
        return self.m.encode(sample)[0]


def export(module, args, names_in, names_out, axes, folder):
    os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    torch.onnx.export(module.eval(), args, os.path.join(OUT, folder, "model.onnx"), input_names=names_in,
                      output_names=names_out, dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)


def write_json(rel, obj):
    with open(os.path.join(OUT, rel), "w") as f:
        f.write(json.dumps(obj, indent=2) + "\n")


def main():
    torch.manual_seed(0)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    unet = UNet2DConditionModel(_sd.TINY_UNET)
    unet.load_state_dict(read_safetensors(os.path.join(SD_TINY, "unet-weights.safetensors"))[0])
    vae = AutoencoderKL(_sd.TINY_VAE)
    vae.load_state_dict(read_safetensors(os.path.join(SD_TINY, "vae-weights.safetensors"))[0])
    vocab = json.load(open(os.path.join(ROOT, "test", "fixtures", "clip-tiny", "tokenizer", "vocab.json")))
    text_cfg = ClipTextConfig(vocab_size=len(vocab), hidden_size=20, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=40)
    text = CLIPTextModel(text_cfg)
    _sd.randomize(text, torch.Generator().manual_seed(7))

    b, h = "batch", {2: "height", 3: "width"}
    ids = torch.zeros(2, 77, dtype=torch.int32)
    export(TextEncoder(text), (ids,), ["input_ids"], ["last_hidden_state", "pooler_output"],
           {"input_ids": {0: b}, "last_hidden_state": {0: b}, "pooler_output": {0: b}}, "text_encoder")
    lat = torch.randn(2, 4, 16, 16)
    export(Unet(unet), (lat, torch.tensor([10, 10], dtype=torch.int64), torch.randn(2, 77, 20)),
           ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
           {"sample": {0: b, **h}, "timestep": {0: b}, "encoder_hidden_states": {0: b}, "out_sample": {0: b, **h}}, "unet")
    export(VaeDecoder(vae), (lat,), ["latent_sample"], ["sample"], {"latent_sample": {0: b, **h}, "sample": {0: b, **h}},
           "vae_decoder")
    export(VaeEncoder(vae), (torch.randn(2, 3, 64, 64),), ["sample"], ["latent_sample"],
           {"sample": {0: b, **h}, "latent_sample": {0: b, **h}}, "vae_encoder")

    write_safetensors(os.path.join(OUT, "text_encoder", "weights.safetensors"), text.state_dict(),
                      {"format": "pt", "generator": "scripts/torch/make-onnx-export-fixture.py"})
    write_json("text_encoder/config.json", {"architectures": ["CLIPTextModel"], **text_cfg.to_dict(), "hidden_act": "quick_gelu"})
    write_json("unet/config.json", {"_class_name": "UNet2DConditionModel", **_sd.TINY_UNET, "sample_size": 16})
    for part in ("vae_decoder", "vae_encoder"):
        write_json(f"{part}/config.json", {"_class_name": "AutoencoderKL", **_sd.TINY_VAE, "sample_size": 64})
    os.makedirs(os.path.join(OUT, "scheduler"))
    write_json("scheduler/scheduler_config.json", {
        "_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "steps_offset": 1, "set_alpha_to_one": False, "clip_sample": False,
        "prediction_type": "epsilon", "timestep_spacing": "leading"})
    os.makedirs(os.path.join(OUT, "tokenizer"))
    for f in ("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(ROOT, "test", "fixtures", "clip-tiny", "tokenizer", f), os.path.join(OUT, "tokenizer", f))
    write_json("model_index.json", {
        "_class_name": "ORTStableDiffusionPipeline", "text_encoder": ["optimum", "ORTModelTextEncoder"],
        "unet": ["optimum", "ORTModelUnet"], "vae_decoder": ["optimum", "ORTModelVaeDecoder"],
        "vae_encoder": ["optimum", "ORTModelVaeEncoder"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "DDIMScheduler"]})
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total / 2 ** 20:.2f} MiB)")


if __name__ == "__main__":
    main()
