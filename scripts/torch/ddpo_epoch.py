#!/usr/bin/env python3
"""DDPO epoch benchmark, PyTorch side of `npm run bench -- ddpo-epoch`: one epoch of the embedded world recipe
(src/runtime/world/recipe.ts, what `npm run demo`'s DDPOUpdate runs) as ddpo-pytorch runs it, on the embedded model's
own networks and weights (models/embedded: the UNet, the VAE decoder and the text encoder, ported in sd_modules.py and
clip_text.py, loaded from their safetensors with strict key and shape checks), float32, CPU.

Per epoch:
- sampling (no grad): `samples` images in batches of `sample_batch`; per batch the prompts' text embeddings and the
  empty prompt's, then `steps` DDIM steps with eta 1 and classifier-free guidance (one UNet call on [uncond; cond],
  2 x batch), each step's x_t, x_t' and log p(x_t' | x_t) recorded (ddpo-pytorch's ddim_step_with_logprob), then the
  VAE decode of the final latents to [B,H,W,3] images in [0,1];
- no reward: the engine's is the world's oracle, pixel code in JS; the bench times it on the engine side and leaves it
  out of both sides' sampling times. Advantages here come from a stand-in reward (the images' mean), normalized per
  prompt as the engine does (buffers of 16, min count 16, else the batch's statistics; clip 5);
- training: per sample a random order of its `steps` timesteps, the first floor(steps * timestep_fraction) trained;
  minibatches of `train_batch` samples, each at its own timestep; per minibatch and timestep one no-grad UNet call of
  the starting model (the adapter off) for the KL term's eps_ref, then the adapted UNet on [uncond; cond] with grad,
  guidance, the new log-probability, the PPO clipped loss + kl_weight mean((eps - eps_ref)^2), backward; gradients
  averaged over `grad_accumulation` minibatches, then clip to norm 1 and one AdamW step.
LoRA: rank/alpha 4 on every attention projection (attn1/attn2 to_q, to_k, to_v, to_out.0), down ~ N(0, 1/rank^2),
up = 0, only the adapter trains (the engine's LORA_TARGETS and init).

Run:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/ddpo_epoch.py --threads 2 [--epochs 1] [--samples 160]
The LAST line printed is one JSON object: {"epochs": [{"ms_sample", "ms_train", "phases": {...}}, ...], ...}.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_text import ClipTextConfig, CLIPTextModel  # noqa: E402
from sd_modules import AutoencoderKL, UNet2DConditionModel  # noqa: E402

# torch 1.13.0a0 (Debian) on this machine: baddbmm(beta=0), the attention scores of sd_modules' AttnProcessor, now and
# then returns NaN on finite inputs when its operands require grad (seen at the UNet mid block's [128,4,24] x
# [128,24,4]; never under no_grad). bmm then the scale is the same math and never did.
_baddbmm = torch.baddbmm


def _scores(input, batch1, batch2, *, beta=1, alpha=1):
    if beta != 0:
        return _baddbmm(input, batch1, batch2, beta=beta, alpha=alpha)
    return torch.bmm(batch1, batch2) * alpha


torch.baddbmm = _scores

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def load_safetensors(path):
    """A safetensors file -> {name: float32 tensor} (the format is an 8-byte header length, a JSON header, data)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", (k, v["dtype"])
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=(b - a) // 4, offset=8 + n + a).copy()
                                  .reshape(v["shape"]))
    return out


def read_json(*parts):
    with open(os.path.join(*parts)) as f:
        return json.load(f)


class LoRALinear(nn.Module):
    """y = W x + b + (alpha / rank) up(down(x)); `enabled` False gives the starting model (the KL reference)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, gen: torch.Generator):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.down = nn.Parameter(torch.randn(rank, base.in_features, generator=gen) / rank)
        self.up = nn.Parameter(torch.zeros(base.out_features, rank))
        self.enabled = True

    def forward(self, x):
        y = self.base(x)
        if not self.enabled:
            return y
        return y + self.scale * nn.functional.linear(nn.functional.linear(x, self.down), self.up)


def add_lora(unet, rank, alpha, seed):
    gen = torch.Generator().manual_seed(seed)
    targets = []
    for name, mod in list(unet.named_modules()):
        if not (name.endswith(".attn1") or name.endswith(".attn2")):
            continue
        for proj in ("to_q", "to_k", "to_v"):
            lora = LoRALinear(getattr(mod, proj), rank, alpha, gen)
            setattr(mod, proj, lora)
            targets.append(lora)
        lora = LoRALinear(mod.to_out[0], rank, alpha, gen)
        mod.to_out[0] = lora
        targets.append(lora)
    return targets


class Schedule:
    """DDIMScheduler (scaled_linear betas, 'leading' spacing, steps_offset, set_alpha_to_one False)."""

    def __init__(self, cfg, steps):
        n = cfg["num_train_timesteps"]
        assert cfg["beta_schedule"] == "scaled_linear" and cfg["timestep_spacing"] == "leading"
        betas = torch.linspace(cfg["beta_start"] ** 0.5, cfg["beta_end"] ** 0.5, n, dtype=torch.float64) ** 2
        self.ac = torch.cumprod(1.0 - betas, 0)
        self.final = 1.0 if cfg["set_alpha_to_one"] else float(self.ac[0])
        self.stride = n // steps
        self.timesteps = [int(t) for t in (torch.arange(steps - 1, -1, -1) * self.stride + cfg["steps_offset"])]

    def abar(self, t):
        """alpha_cumprod at per-sample timesteps (a tensor), the final alpha where t < 0."""
        out = torch.full(t.shape, self.final, dtype=torch.float64)
        ok = t >= 0
        out[ok] = self.ac[t[ok]]
        return out


def ddim_step_with_logprob(sched, eps, t, x, eta, prev_sample=None, gen=None):
    """ddpo-pytorch's ddim_step_with_logprob with per-sample timesteps t [B] (int64): x_t' (drawn when not given)
    and log p(x_t' | x_t), the mean of the Gaussian log density over C*H*W."""
    prev_t = t - sched.stride
    ab, abp = sched.abar(t), sched.abar(prev_t)
    shape = (-1,) + (1,) * (x.dim() - 1)
    variance = (1 - abp) / (1 - ab) * (1 - ab / abp)
    std = (eta * variance.sqrt()).float().view(shape)
    ab, abp = ab.float().view(shape), abp.float().view(shape)
    x0 = (x - (1 - ab).sqrt() * eps) / ab.sqrt()
    mean = abp.sqrt() * x0 + (1 - abp - std ** 2).clamp(min=0).sqrt() * eps
    if prev_sample is None:
        prev_sample = mean + std * torch.randn(x.shape, generator=gen)
    logp = -((prev_sample.detach() - mean) ** 2) / (2 * std ** 2) - std.log() - LOG_SQRT_2PI
    return prev_sample, logp.mean(dim=tuple(range(1, x.dim())))


class Timer:
    def __init__(self):
        self.ms = {}

    def add(self, key, t0):
        self.ms[key] = self.ms.get(key, 0.0) + 1e3 * (time.perf_counter() - t0)


def per_prompt_advantages(buffers, prompts, rewards, buffer_size, min_count, clip):
    """The engine's StatTracker.update (ddpo-pytorch's PerPromptStatTracker with a batch fallback)."""
    r = np.asarray(rewards, dtype=np.float64)
    batch = (r.mean(), r.std())
    stats = {}
    for p in dict.fromkeys(prompts):
        buf = (buffers.get(p, []) + [x for q, x in zip(prompts, rewards) if q == p])[-buffer_size:]
        buffers[p] = buf
        stats[p] = (np.mean(buf), np.std(buf)) if len(buf) >= min_count else batch
    return [float(np.clip((x - stats[p][0]) / (stats[p][1] + 1e-6), -clip, clip)) for p, x in zip(prompts, rewards)]


def main():
    rec = dict(samples=160, sample_batch=16, steps=20, guidance=5.0, train_batch=16, grad_accumulation=5, lr=1e-2,
               timestep_fraction=0.5, clip_range=1e-4, lora_rank=4, kl_weight=0.02, stat_buffer=16, stat_min=16)
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1, help="epochs timed, each reported")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up: one sampling step, decode and training step")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "embedded"))
    ap.add_argument("--prompts", type=int, default=10, help="distinct prompts, drawn round-robin (the recipe's 10)")
    for k, v in rec.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    assert a.samples % a.train_batch == 0

    t_setup = time.perf_counter()
    ucfg = read_json(a.model, "unet", "config.json")
    unet = UNet2DConditionModel(ucfg)
    unet.load_state_dict(load_safetensors(os.path.join(a.model, "unet", "diffusion_pytorch_model.safetensors")))
    vcfg = read_json(a.model, "vae", "config.json")
    vae = AutoencoderKL(vcfg)
    vae.load_state_dict(load_safetensors(os.path.join(a.model, "vae", "diffusion_pytorch_model.safetensors")))
    tcfg = read_json(a.model, "text_encoder", "config.json")
    text = CLIPTextModel(ClipTextConfig(
        vocab_size=tcfg["vocab_size"], hidden_size=tcfg["hidden_size"], num_hidden_layers=tcfg["num_hidden_layers"],
        num_attention_heads=tcfg["num_attention_heads"], intermediate_size=tcfg["intermediate_size"],
        max_position_embeddings=tcfg["max_position_embeddings"], layer_norm_eps=tcfg["layer_norm_eps"]))
    text.load_state_dict(load_safetensors(os.path.join(a.model, "text_encoder", "model.safetensors")))
    for m in (unet, vae, text):
        m.eval().requires_grad_(False)
    loras = add_lora(unet, a.lora_rank, a.lora_rank, seed=0x10a)
    params = [p for l in loras for p in (l.down, l.up)]
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4)
    sched = Schedule(read_json(a.model, "scheduler", "scheduler_config.json"), a.steps)
    scaling = vcfg["scaling_factor"]
    seq = tcfg["max_position_embeddings"]
    # Token ids: the engine's word tokenizer is not ported; the text encoder's cost does not depend on the ids, so
    # each prompt gets fixed ids (bos, a few words, eos, padding) of the same length 77.
    bos, eos = 0, 1
    prompt_ids = []
    for p in range(a.prompts):
        ids = [bos] + [(2 + 7 * p + k) % tcfg["vocab_size"] for k in range(4 + p % 3)] + [eos]
        prompt_ids.append(ids + [eos] * (seq - len(ids)))
    uncond_ids = torch.tensor([[bos, eos] + [eos] * (seq - 2)])
    set_lora = lambda on: [setattr(l, "enabled", on) for l in loras]  # noqa: E731
    setup_s = time.perf_counter() - t_setup

    # Warm-up (first calls allocate and pick kernels), untimed: the engine's bench reports epochs after its first.
    t_warm = time.perf_counter()
    shape = (a.sample_batch, ucfg["in_channels"], ucfg["sample_size"], ucfg["sample_size"])
    for _ in range(a.warmup):
        with torch.no_grad():
            ctx = torch.cat([text(uncond_ids)[0].expand(a.sample_batch, -1, -1),
                             text(torch.tensor([prompt_ids[i % a.prompts] for i in range(a.sample_batch)]))[0]])
            x = torch.randn(shape)
            t = torch.full((2 * a.sample_batch,), sched.timesteps[0], dtype=torch.int64)
            unet(torch.cat([x, x]), t, ctx)
            vae.decode(x / scaling)
        n = a.train_batch
        xx, tt, cc = torch.cat([x[:1]] * (2 * n)), t[:1].expand(2 * n), ctx[:1].expand(2 * n, -1, -1)
        set_lora(False)
        with torch.no_grad():
            unet(xx, tt, cc)
        set_lora(True)
        unet(xx, tt, cc).square().mean().backward()
        opt.zero_grad(set_to_none=True)
    warmup_s = time.perf_counter() - t_warm

    buffers, epochs = {}, []
    train_t = max(1, int(a.steps * a.timestep_fraction))
    n_mb = a.samples // a.train_batch
    for e in range(a.epochs):
        gen = torch.Generator().manual_seed(1000 + e)
        prompts = [(e * a.samples + i) % a.prompts for i in range(a.samples)]
        tm = Timer()
        # ---- sample
        t0 = time.perf_counter()
        xs, nexts, logps, conds, rewards = [], [], [], [], []
        uncond = None
        with torch.no_grad():
            for k in range(0, a.samples, a.sample_batch):
                ps = prompts[k:k + a.sample_batch]
                n = len(ps)
                s0 = time.perf_counter()
                cond = text(torch.tensor([prompt_ids[p] for p in ps]))[0]
                uncond = text(uncond_ids)[0]
                tm.add("text_encode", s0)
                ctx = torch.cat([uncond.expand(n, -1, -1), cond])
                x = torch.randn((n, ucfg["in_channels"], ucfg["sample_size"], ucfg["sample_size"]), generator=gen)
                bx, bn, bl = [], [], []
                for t in sched.timesteps:
                    s0 = time.perf_counter()
                    both = unet(torch.cat([x, x]), torch.full((2 * n,), t, dtype=torch.int64), ctx)
                    tm.add("unet", s0)
                    s0 = time.perf_counter()
                    eu, ec = both.chunk(2)
                    eps = eu + a.guidance * (ec - eu)
                    nx, lp = ddim_step_with_logprob(sched, eps, torch.full((n,), t, dtype=torch.int64), x, 1.0, gen=gen)
                    bx.append(x)
                    bn.append(nx)
                    bl.append(lp)
                    x = nx
                    tm.add("ddim_step", s0)
                s0 = time.perf_counter()
                images = (vae.decode(x / scaling) / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).contiguous()
                tm.add("vae_decode", s0)
                xs.append(torch.stack(bx, 1))
                nexts.append(torch.stack(bn, 1))
                logps.append(torch.stack(bl, 1))
                conds.append(cond)
                rewards += images.mean(dim=(1, 2, 3)).tolist()  # stand-in reward (see the docstring)
        xs, nexts, logps, conds = torch.cat(xs), torch.cat(nexts), torch.cat(logps), torch.cat(conds)
        adv = torch.tensor(per_prompt_advantages(buffers, prompts, rewards, a.stat_buffer, a.stat_min, 5.0))
        ms_sample = 1e3 * (time.perf_counter() - t0)

        # ---- train
        t1 = time.perf_counter()
        timesteps = torch.tensor(sched.timesteps)
        order = torch.randperm(a.samples, generator=gen)
        step_order = torch.stack([torch.randperm(a.steps, generator=gen) for _ in range(a.samples)])
        losses, updates = [], 0
        opt.zero_grad(set_to_none=True)
        for m in range(n_mb):
            idx = order[m * a.train_batch:(m + 1) * a.train_batch]
            for j in range(train_t):
                step = step_order[idx, j]
                x, nx, old = xs[idx, step], nexts[idx, step], logps[idx, step]
                t, c, A = timesteps[step], conds[idx], adv[idx]
                n = len(idx)
                ctx = torch.cat([uncond.expand(n, -1, -1), c])
                xx, tt = torch.cat([x, x]), torch.cat([t, t])
                s0 = time.perf_counter()
                with torch.no_grad():
                    set_lora(False)
                    ru, rc = unet(xx, tt, ctx).chunk(2)
                    set_lora(True)
                    eps_ref = ru + a.guidance * (rc - ru)
                tm.add("kl_reference", s0)
                s0 = time.perf_counter()
                eu, ec = unet(xx, tt, ctx).chunk(2)
                eps = eu + a.guidance * (ec - eu)
                _, logp = ddim_step_with_logprob(sched, eps, t, x, 1.0, prev_sample=nx)
                ratio = torch.exp(logp - old)
                loss = torch.maximum(-A * ratio, -A * ratio.clamp(1 - a.clip_range, 1 + a.clip_range)).mean()
                loss = loss + a.kl_weight * ((eps - eps_ref) ** 2).mean()
                span = min(a.grad_accumulation, n_mb - (m // a.grad_accumulation) * a.grad_accumulation)
                (loss / (span * train_t)).backward()
                losses.append(loss.item())
                tm.add("forward_backward", s0)
            if (m + 1) % a.grad_accumulation == 0 or m + 1 == n_mb:
                s0 = time.perf_counter()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                updates += 1
                tm.add("adamw", s0)
        ms_train = 1e3 * (time.perf_counter() - t1)
        tm.ms["sample_other"] = ms_sample - sum(tm.ms.get(k, 0) for k in ("text_encode", "unet", "ddim_step", "vae_decode"))
        tm.ms["train_other"] = ms_train - sum(tm.ms.get(k, 0) for k in ("kl_reference", "forward_backward", "adamw"))
        epochs.append({"ms_sample": round(ms_sample, 1), "ms_train": round(ms_train, 1), "updates": updates,
                       "loss": float(np.mean(losses)), "phases": {k: round(v, 1) for k, v in tm.ms.items()}})
        print(f"torch epoch {e + 1}: sample {ms_sample / 1e3:.2f} s, train {ms_train / 1e3:.2f} s "
              f"({', '.join(f'{k} {v / 1e3:.2f} s' for k, v in tm.ms.items())})", flush=True)

    print(json.dumps({
        "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""), "setup_s": round(setup_s, 2),
        "warmup_s": round(warmup_s, 2),
        "unet_params": sum(p.numel() for p in unet.parameters()) - sum(p.numel() for p in params),
        "lora_params": sum(p.numel() for p in params), "lora_layers": len(loras),
        "settings": vars(a), "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
