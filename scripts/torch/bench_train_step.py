#!/usr/bin/env python3
"""Full-size CPU reference benchmark: MiniUNet(c=64, temb=256, ctx=64, heads=4, groups=32) (660,036 params),
batch 2, latent 4x32x32, context 77x64, timesteps [10, 500], MSE loss, AdamW(lr 1e-4, weight_decay 1e-2), float32.
Times a training step (zero_grad + forward + backward + AdamW step) and a no-grad forward; reports medians.
The setup: torch.manual_seed(0), then the model (scripts/torch/mini_unet.py), then x, noise, t and ctx in that order.

Run:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/bench_train_step.py --threads 2 --steps 30
The LAST line printed is one JSON object:
  {"torch_ms_per_step": .., "torch_forward_ms": .., "torch_version": "..", "params": .., ...}
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mini_unet import MiniUNet, param_count  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--all", action="store_true", help="also list every step's and forward's ms in the JSON")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    m = MiniUNet(c=64, temb=256, ctx=64, heads=4, groups=32)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=1e-2)
    x, noise = torch.randn(2, 4, 32, 32), torch.randn(2, 4, 32, 32)
    t, ctx = torch.tensor([10, 500]), torch.randn(2, 77, 64)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(m(x, t, ctx), noise)
        loss.backward()
        opt.step()
        return loss.item()

    def fwd():
        with torch.no_grad():
            m(x, t, ctx).sum().item()

    for _ in range(a.warmup):
        step()
        fwd()
    st, ft, loss = [], [], float("nan")
    for _ in range(a.steps):
        s0 = time.perf_counter()
        loss = step()
        st.append(1e3 * (time.perf_counter() - s0))
        s0 = time.perf_counter()
        fwd()
        ft.append(1e3 * (time.perf_counter() - s0))
    n = param_count(m)
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '')} params={n}")
    print(f"train step (fwd+bwd+AdamW) median={statistics.median(st):.1f} ms min={min(st):.1f} max={max(st):.1f} "
          f"(n={a.steps}, warmup={a.warmup}); forward-only median={statistics.median(ft):.1f} ms; loss={loss:.5f}")
    print(json.dumps({
        "torch_ms_per_step": round(statistics.median(st), 2),
        "torch_forward_ms": round(statistics.median(ft), 2),
        "torch_version": torch.__version__,
        "params": n,
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "warmup": a.warmup,
        "torch_ms_per_step_min": round(min(st), 2),
        "torch_forward_ms_min": round(min(ft), 2),
        "final_loss": loss,
        **({"step_ms": [round(x, 3) for x in st], "forward_ms": [round(x, 3) for x in ft]} if a.all else {}),
    }))


if __name__ == "__main__":
    main()
