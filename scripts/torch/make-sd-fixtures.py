#!/usr/bin/env python3
"""Writes the UNet and VAE parts of test/fixtures/sd-tiny/: tiny UNet2DConditionModel and AutoencoderKL (the
diffusers port in sd_modules.py, SD1.5's block layout at toy widths, configs equal to TINY_UNET / TINY_VAE in
src/runtime/models/configs.ts) with seeded random weights, and their outputs computed in float64:

  unet-weights.safetensors  state_dict, diffusers key names (float32)
  unet-io.safetensors       sample, timestep (int64), encoder_hidden_states, out_sample
  vae-weights.safetensors   state_dict (float32)
  vae-io.safetensors        image, mean, logvar (encode), latents, decoded (decode)
  meta.json                 "unet" and "vae" entries (other entries, e.g. the text encoder's, are kept)

Weights: every weight N(0, 1/fan_in) and every bias, norm scale and norm shift randomised too (nothing left at
zero or one), so each parameter changes the output and a swapped or unused one shows up; activations stay O(1).
The reference runs the float32 weights in float64; diffusers' float32 sinusoidal timestep embedding is kept.

Run from the repo root:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/make-sd-fixtures.py
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sd_modules import AutoencoderKL, UNet2DConditionModel, param_count  # noqa: E402

_spec = importlib.util.spec_from_file_location("mini_unet_fixture", os.path.join(HERE, "make-mini-unet-fixture.py"))
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
write_safetensors, check_roundtrip = _fixture.write_safetensors, _fixture.check_roundtrip

TINY_UNET = dict(
    in_channels=4, out_channels=4, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    block_out_channels=[16, 24, 32], layers_per_block=2, downsample_padding=1, mid_block_scale_factor=1,
    act_fn="silu", norm_num_groups=4, norm_eps=1e-5, cross_attention_dim=20, attention_head_dim=[2, 3, 4],
    transformer_layers_per_block=1, use_linear_projection=False,
)
TINY_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, act_fn="silu", norm_num_groups=4, layers_per_block=1,
    block_out_channels=[16, 24, 32], scaling_factor=0.18215,
    down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
)
UNET_BATCH, UNET_LATENT, TOKENS, TIMESTEPS = 2, (4, 16, 16), 77, [37, 981]
VAE_BATCH, VAE_IMAGE = 2, (3, 32, 32)


def randomize(model, gen):
    """N(0, 1/fan_in) weights; biases N(0, 0.1^2); norm scales 1 + N(0, 0.2^2), shifts N(0, 0.2^2)."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                mod.weight.copy_(1 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=gen))
            elif isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) / fan_in ** 0.5)
                if mod.bias is not None:
                    mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
    for k, v in model.state_dict().items():
        assert torch.count_nonzero(v) == v.numel(), f"{k} has exact zeros"


def stats(t):
    t = t.double()
    return {"max_abs": t.abs().max().item(), "std": t.std().item()}


def max_diff(a, b):
    return (a.double() - b.double()).abs().max().item()


def write(out, fn, tensors, desc, files, config):
    p = os.path.join(out, fn)
    write_safetensors(p, tensors, {"format": "pt", "generator": "scripts/torch/make-sd-fixtures.py",
                                   "config": json.dumps(config), "description": desc})
    check_roundtrip(p, tensors)
    files[fn] = os.path.getsize(p)


def make_unet(out, gen, files):
    model = UNet2DConditionModel(TINY_UNET)
    randomize(model, gen)
    model = model.float()
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert [k for k, _ in model.named_parameters()] == list(sd), "state_dict has non-parameter entries"
    sample = torch.randn(UNET_BATCH, *UNET_LATENT, generator=gen)
    t = torch.tensor(TIMESTEPS, dtype=torch.int64)
    ctx = torch.randn(UNET_BATCH, TOKENS, TINY_UNET["cross_attention_dim"], generator=gen)
    with torch.no_grad():
        out64 = model.double()(sample.double(), t, ctx.double())
        out32 = model.float()(sample, t, ctx)
    write(out, "unet-weights.safetensors", sd, "UNet2DConditionModel state_dict (float32)", files, TINY_UNET)
    write(out, "unet-io.safetensors", {"sample": sample, "timestep": t, "encoder_hidden_states": ctx,
                                       "out_sample": out64},
          "inputs; out_sample = float64 forward of the float32 weights, stored as float32", files, TINY_UNET)
    return {
        "config": TINY_UNET, "params": param_count(model), "tensors": len(sd),
        "batch": UNET_BATCH, "latent": list(UNET_LATENT), "context": [TOKENS, TINY_UNET["cross_attention_dim"]],
        "timesteps": TIMESTEPS, "out_sample": stats(out64),
        "float32_vs_float64": {"out_max_abs_diff": max_diff(out32, out64)},
    }


def make_vae(out, gen, files):
    model = AutoencoderKL(TINY_VAE)
    randomize(model, gen)
    model = model.float()
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert [k for k, _ in model.named_parameters()] == list(sd), "state_dict has non-parameter entries"
    image = torch.rand(VAE_BATCH, *VAE_IMAGE, generator=gen) * 2 - 1
    f = 2 ** (len(TINY_VAE["block_out_channels"]) - 1)
    latents = torch.randn(VAE_BATCH, TINY_VAE["latent_channels"], VAE_IMAGE[1] // f, VAE_IMAGE[2] // f,
                          generator=gen)
    with torch.no_grad():
        m64 = model.double()
        mean64, logvar64 = m64.encode(image.double())
        dec64 = m64.decode(latents.double())
        m32 = model.float()
        mean32, logvar32 = m32.encode(image)
        dec32 = m32.decode(latents)
    write(out, "vae-weights.safetensors", sd, "AutoencoderKL state_dict (float32)", files, TINY_VAE)
    write(out, "vae-io.safetensors", {"image": image, "mean": mean64, "logvar": logvar64, "latents": latents,
                                      "decoded": dec64},
          "encode(image) -> mean, logvar; decode(latents) -> decoded; float64 of the float32 weights, stored as "
          "float32", files, TINY_VAE)
    return {
        "config": TINY_VAE, "params": param_count(model), "tensors": len(sd),
        "batch": VAE_BATCH, "image": list(VAE_IMAGE), "latent": list(latents.shape[1:]),
        "mean": stats(mean64), "logvar": stats(logvar64), "decoded": stats(dec64),
        "float32_vs_float64": {"mean_max_abs_diff": max_diff(mean32, mean64),
                               "logvar_max_abs_diff": max_diff(logvar32, logvar64),
                               "decoded_max_abs_diff": max_diff(dec32, dec64)},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="test/fixtures/sd-tiny")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(a.threads)

    files = {}
    unet = make_unet(a.out, torch.Generator().manual_seed(a.seed), files)
    vae = make_vae(a.out, torch.Generator().manual_seed(a.seed + 1), files)
    provenance = {
        "generator": "scripts/torch/make-sd-fixtures.py (modules: scripts/torch/sd_modules.py)",
        "command": "OPENBLAS_NUM_THREADS=" + os.environ.get("OPENBLAS_NUM_THREADS", "") + " /usr/bin/python3 "
                   + " ".join(sys.argv),
        "seed": a.seed, "compute_dtype": "float64 forward of float32 weights (stored as float32)",
        "init": "weights N(0, 1/fan_in); biases N(0, 0.01); norm scales 1 + N(0, 0.04), shifts N(0, 0.04)",
        "torch_version": torch.__version__, "numpy_version": np.__version__,
    }
    unet["files"] = {k: v for k, v in files.items() if k.startswith("unet")}
    vae["files"] = {k: v for k, v in files.items() if k.startswith("vae")}
    unet["provenance"] = vae["provenance"] = provenance

    meta_path = os.path.join(a.out, "meta.json")
    meta = {}
    if os.path.exists(meta_path):  # other generators (text encoder, tokenizer) keep their own entries here
        with open(meta_path) as f:
            meta = json.load(f)
    meta["unet"], meta["vae"] = unet, vae
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps({"unet": {k: unet[k] for k in ("params", "out_sample", "float32_vs_float64")},
                      "vae": {k: vae[k] for k in ("params", "mean", "logvar", "decoded", "float32_vs_float64")},
                      "files": files}, indent=1))


if __name__ == "__main__":
    main()
