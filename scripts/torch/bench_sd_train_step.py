#!/usr/bin/env python3
"""PyTorch side of `npm run bench -- sd-train-step` (bench/sd-train-step.ts): training steps of the SD1.5 UNet
(sd_modules.py's port, float32, random weights) on one batch, as DreamBooth trains: MSE between the UNet's output and
the noise target, torch.optim.AdamW. `--mode lora`: rank-r adapters (alpha = rank unless given) on every attention
projection (attn1/attn2 to_q, to_k, to_v, to_out.0: DreamBooth's default LoRA targets), only they train; `--mode full`:
every UNet weight trains. `--ckpt`: gradient checkpointing as diffusers does it (`enable_gradient_checkpointing`):
torch.utils.checkpoint (use_reentrant=False, diffusers' choice for torch >= 1.11) around every resnet and transformer
of every down, mid and up block. One warm-up step, then `--steps` timed ones. Prints one JSON line.
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.utils.checkpoint

from sd_modules import SD15_UNET, UNet2DConditionModel


class LoRALinear(nn.Module):
    """base(x) + (alpha / rank) * up(down(x)): down [rank, in] ~ N(0, (1/rank)^2), up [out, rank] = 0 (layers.ts)."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.lora_down = nn.Linear(base.in_features, rank, bias=False)
        self.lora_up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.normal_(self.lora_down.weight, std=1 / rank)
        nn.init.zeros_(self.lora_up.weight)
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.lora_up(self.lora_down(x)) * self.scale


def add_lora(unet, rank, alpha):
    """Adapters on attn1/attn2 to_q, to_k, to_v, to_out.0; returns their parameters."""
    params = []
    for name, m in list(unet.named_modules()):
        if not (name.endswith(".attn1") or name.endswith(".attn2")):
            continue
        for proj in ("to_q", "to_k", "to_v"):
            w = LoRALinear(getattr(m, proj), rank, alpha)
            setattr(m, proj, w)
            params += [w.lora_down.weight, w.lora_up.weight]
        w = LoRALinear(m.to_out[0], rank, alpha)
        m.to_out[0] = w
        params += [w.lora_down.weight, w.lora_up.weight]
    return params


class Checkpointed(nn.Module):
    """diffusers' gradient checkpointing of one resnet or transformer: its activations are recomputed in backward."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *args):
        return torch.utils.checkpoint.checkpoint(self.inner, *args, use_reentrant=False)


def enable_gradient_checkpointing(unet):
    for blk in [*unet.down_blocks, unet.mid_block, *unet.up_blocks]:
        for group in ("resnets", "attentions"):
            mods = getattr(blk, group, None)
            if mods is not None:
                for i in range(len(mods)):
                    mods[i] = Checkpointed(mods[i])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["lora", "full"], required=True)
    ap.add_argument("--ckpt", action="store_true")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--rank", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=None)
    a = ap.parse_args()
    try:  # should memory run out anyway, the OOM killer takes this process first, not a neighbour
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    unet = UNet2DConditionModel(SD15_UNET).train()
    if a.mode == "lora":
        unet.requires_grad_(False)
        params = add_lora(unet, a.rank, a.alpha if a.alpha is not None else a.rank)
    else:
        params = list(unet.parameters())
    if a.ckpt:
        enable_gradient_checkpointing(unet)
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-2)
    build_s = time.perf_counter() - t0
    s = a.size
    sample, noise = torch.randn(1, 4, s, s), torch.randn(1, 4, s, s)
    t, ctx = torch.tensor([500]), torch.randn(1, 77, SD15_UNET["cross_attention_dim"])
    times, losses = [], []
    for i in range(a.steps + 1):
        t0 = time.perf_counter()
        loss = torch.nn.functional.mse_loss(unet(sample, t, ctx), noise)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if i > 0:
            times.append(time.perf_counter() - t0)
    print(json.dumps({
        "s_per_step": sum(times) / len(times), "steps_s": times, "losses": losses, "build_s": build_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trainable": sum(p.numel() for p in params), "torch_version": torch.__version__, "threads": a.threads,
        "nan": any(math.isnan(x) for x in losses),
    }))


if __name__ == "__main__":
    main()
