#!/usr/bin/env python3
"""Writes test/fixtures/mini-unet/: a small MiniUNet (scripts/torch/mini_unet.py), its inputs, a float64 reference
forward output, MSE loss, every parameter gradient and the parameters after 3 AdamW steps, stored as float32
safetensors, plus the float32 model exported to ONNX and meta.json.

Run from the repo root:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/make-mini-unet-fixture.py
(Debian 12: apt-get install -y python3-torch python3-numpy python3-onnx libopenblas0-pthread)
"""
import argparse
import collections
import copy
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mini_unet import MiniUNet, param_count  # noqa: E402

CFG = dict(c=32, temb=64, ctx=32, heads=4, groups=8)
BATCH, LATENT, TOKENS, TIMESTEPS = 2, (4, 16, 16), 77, [10, 500]
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
STEPS = 3

_DT = {"F32": ("<f4", torch.float32), "I64": ("<i8", torch.int64)}


def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer: u64 LE header length, JSON header (padded with spaces to a multiple of 8),
    then the tensors' raw little-endian bytes back to back in the header's order. Float tensors are stored as
    F32, integer tensors as I64."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        dt = "I64" if not t.is_floating_point() else "F32"
        b = t.numpy().astype(_DT[dt][0]).tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reader for the writer above (used for the round-trip check). Returns (tensors, metadata)."""
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    out, base = {}, 8 + n
    for name, e in header.items():
        b0, b1 = e["data_offsets"]
        npdt, tdt = _DT[e["dtype"]]
        a = np.frombuffer(buf[base + b0:base + b1], dtype=npdt).reshape(e["shape"])
        out[name] = torch.from_numpy(a.copy()).to(tdt)
    assert base + max([e["data_offsets"][1] for e in header.values()] + [0]) == len(buf), "trailing bytes"
    return out, meta


def check_roundtrip(path, tensors):
    got, _ = read_safetensors(path)
    assert list(got) == list(tensors), f"{path}: key order/set differs"
    for k, t in tensors.items():
        t = t.detach().cpu()
        want = t.to(torch.float32) if t.is_floating_point() else t.to(torch.int64)
        assert got[k].shape == want.shape and torch.equal(got[k], want), f"{path}: {k} differs"


EXPORT_KW = dict(export_params=True, keep_initializers_as_inputs=False, do_constant_folding=True,
                 input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"])


def _export(model, args, path, opset):
    # training=PRESERVE with the model in train mode (it has no dropout/batchnorm, so the math is the eval math):
    # in eval mode torch 1.13 deduplicates initializers by VALUE, which ties every freshly initialised GroupNorm
    # weight (all ones) and bias (all zeros) and LayerNorm l2/l3 to l1 through Identity nodes -- wrong for training.
    # In train mode it only merges initializers that share storage. Constant folding stays on.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.train(), args, path, opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE,
                          **EXPORT_KW)


def onnx_export(model32, args, path, opsets=(17, 14)):
    import onnx
    err = None
    for opset in opsets:
        try:
            _export(model32, args, path, opset)
            onnx.checker.check_model(onnx.load(path))
            return opset, err
        except Exception as e:  # noqa: BLE001
            err = f"opset {opset} failed: {type(e).__name__}: {e}"
            print(err, file=sys.stderr)
    raise RuntimeError(err)


def initializer_map(path, model32, args, opset):
    """Which ONNX initializer holds which parameter. Constant folding renames some (Linear weights used by MatMul
    are stored transposed, GroupNorm affine params unsqueezed to [C,1,1]). Freshly initialised params share values
    (GroupNorm ones/zeros), so the map comes from a probe export of the same model with distinct random values
    in every parameter; the probe's initializer names must equal the real export's."""
    import tempfile
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    probe = copy.deepcopy(model32)
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for p in probe.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    with tempfile.TemporaryDirectory() as d:
        pp = os.path.join(d, "probe.onnx")
        _export(probe, args, pp, opset)
        pg = onnx.load(pp).graph
    names = [i.name for i in g.initializer]
    assert names == [i.name for i in pg.initializer], "probe export has different initializers"
    assert [n.op_type for n in g.node] == [n.op_type for n in pg.node], "probe export has a different graph"
    params = {k: v.detach().numpy() for k, v in probe.named_parameters()}
    real = {k: v.detach().numpy() for k, v in model32.named_parameters()}
    out, used = {}, []
    for init, pinit in zip(g.initializer, pg.initializer):
        a, pa = numpy_helper.to_array(init), numpy_helper.to_array(pinit)
        hit = None
        for k, p in params.items():
            if p.shape == pa.shape and np.array_equal(p, pa):
                hit = {"param": k, "transform": "identity"}
            elif p.ndim == 2 and p.T.shape == pa.shape and np.array_equal(p.T, pa):
                hit = {"param": k, "transform": "transpose"}
            elif p.size == pa.size and p.shape != pa.shape and np.array_equal(p.reshape(pa.shape), pa):
                hit = {"param": k, "transform": "reshape", "shape": list(pa.shape)}
            if hit:
                break
        if hit:  # the same transform must hold for the real weights
            r = real[hit["param"]]
            r = r.T if hit["transform"] == "transpose" else r.reshape(a.shape)
            assert np.array_equal(r, a), f"{init.name}: real initializer does not match {hit}"
            used.append(hit["param"])
        out[init.name] = hit or {"param": None, "shape": list(a.shape)}
    assert len(used) == len(set(used)), "a parameter appears in several initializers"
    return out, [k for k in params if k not in used], g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="test/fixtures/mini-unet")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(a.threads)

    torch.manual_seed(0)
    model = MiniUNet(**CFG)
    x, noise = torch.randn(BATCH, *LATENT), torch.randn(BATCH, *LATENT)
    t, ctx = torch.tensor(TIMESTEPS, dtype=torch.int64), torch.randn(BATCH, TOKENS, CFG["ctx"])
    init_sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert [k for k, _ in model.named_parameters()] == list(init_sd), "state_dict has non-parameter entries"

    # float64 reference: output, loss, gradients
    m64 = copy.deepcopy(model).double()
    x64, n64, c64 = x.double(), noise.double(), ctx.double()
    out64 = m64(x64, t, c64)
    loss = F.mse_loss(out64, n64)
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in m64.named_parameters()}

    # float64 AdamW, 3 steps from the initial weights, same inputs each step
    mt = copy.deepcopy(model).double()
    opt = torch.optim.AdamW(mt.parameters(), **ADAMW)
    step_losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        l = F.mse_loss(mt(x64, t, c64), n64)
        l.backward()
        opt.step()
        step_losses.append(l.item())
    after = {k: v.detach().clone() for k, v in mt.state_dict().items()}

    # float32 vs float64 (tolerance hints for consumers)
    m32 = copy.deepcopy(model)
    out32 = m32(x, t, ctx)
    l32 = F.mse_loss(out32, noise)
    l32.backward()
    g32 = {k: p.grad for k, p in m32.named_parameters()}
    grad_rel = max(((g32[k].double() - grads[k]).norm() / grads[k].norm().clamp_min(1e-30)).item() for k in grads)

    files = {}
    common = {"format": "pt", "generator": "scripts/torch/make-mini-unet-fixture.py", "config": json.dumps(CFG)}
    sets = {
        "weights.safetensors": (init_sd, "initial MiniUNet state_dict (float32)"),
        "inputs.safetensors": ({"sample": x, "timestep": t, "encoder_hidden_states": ctx, "noise": noise,
                                "out_sample": out64}, "inputs; out_sample = float64 forward cast to float32"),
        "grads.safetensors": (grads, "d mse_loss(out_sample, noise) / d param, computed in float64"),
        f"after{STEPS}.safetensors": (after, f"params after {STEPS} AdamW steps {ADAMW}, computed in float64"),
    }
    for fn, (ts, desc) in sets.items():
        p = os.path.join(a.out, fn)
        write_safetensors(p, ts, {**common, "description": desc})
        check_roundtrip(p, ts)
        files[fn] = os.path.getsize(p)

    onnx_path = os.path.join(a.out, "mini-unet.onnx")
    opset, export_note = onnx_export(copy.deepcopy(model), (x, t, ctx), onnx_path)
    imap, unmapped, g = initializer_map(onnx_path, copy.deepcopy(model), (x, t, ctx), opset)
    files["mini-unet.onnx"] = os.path.getsize(onnx_path)
    ops = dict(collections.Counter(n.op_type for n in g.node).most_common())

    meta = {
        "config": CFG,
        "batch": BATCH, "latent": list(LATENT), "context": [TOKENS, CFG["ctx"]], "timesteps": TIMESTEPS,
        "seed": 0,
        "params": param_count(model),
        "loss": loss.item(),
        "loss_fn": "mse_loss (mean) of forward(sample, timestep, encoder_hidden_states) vs noise",
        "compute_dtype": "float64 (stored as float32)",
        "adamw": {"lr": ADAMW["lr"], "betas": list(ADAMW["betas"]), "eps": ADAMW["eps"],
                  "weight_decay": ADAMW["weight_decay"], "steps": STEPS},
        "step_losses": step_losses,
        "float32_vs_float64": {"out_max_abs_diff": (out32.double() - out64).abs().max().item(),
                               "loss_abs_diff": abs(l32.item() - loss.item()),
                               "grad_max_rel_l2_diff": grad_rel},
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "onnx_version": __import__("onnx").__version__,
        "command": "OPENBLAS_NUM_THREADS=" + os.environ.get("OPENBLAS_NUM_THREADS", "") + " /usr/bin/python3 "
                   + " ".join(sys.argv),
        "onnx_opset": opset,
        "onnx_export_note": export_note,
        "onnx_export_args": {"export_params": True, "keep_initializers_as_inputs": False,
                             "do_constant_folding": True, "model_dtype": "float32",
                             "training": "PRESERVE (model.train(); no dropout/batchnorm, so eval math; avoids "
                                         "torch 1.13's by-value initializer dedup that ties all GroupNorm params)"},
        "onnx_nodes": len(g.node),
        "onnx_ops": ops,
        "onnx_initializers": imap,
        "onnx_params_not_found_as_initializer": unmapped,
        "files": files,
    }
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps({k: meta[k] for k in ("params", "loss", "step_losses", "float32_vs_float64", "onnx_opset",
                                            "onnx_nodes", "onnx_ops", "files")}, indent=1))


if __name__ == "__main__":
    main()
