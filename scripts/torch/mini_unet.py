#!/usr/bin/env python3
"""Small SD-style UNet, the project's PyTorch reference network, with its dimensions as parameters.

MiniUNet(c=64, temb=256, ctx=64, heads=4, groups=32), the defaults, is the reference model (660,036 parameters) that
`npm run bench -- train-step` and src/runtime/models/mini-unet.ts (the same network in the project's graph builder)
use. Module and attribute names (t1,t2,cin,down,up,r1..r4,xf,nout,cout; n1,c1,te,n2,c2,sk; gn,pi,po,l1,l2,l3,a1,a2,
ff1,ff2; q,k,v,o) are the parameter names the TypeScript side uses, so state_dict keys compare one to one. The
network: sinusoidal timestep embedding of width c, GroupNorm(groups)-SiLU-Conv3 ResBlocks, a transformer block
(GroupNorm eps=1e-6, self-attention, cross-attention, GEGLU with exact gelu), stride-2 down, nearest x2 up, concat
skip [h, h1].

The timestep embedding is computed in the parameters' dtype (float32 unless the model was converted with .double()),
so a float64 model runs end to end in float64.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def t_embed(t, dim, dtype=torch.float32):
    """Sinusoidal timestep embedding [sin(t*f), cos(t*f)], f_i = exp(-ln(10000) * i / (dim/2)), i < dim/2."""
    f = torch.exp(-math.log(10000.0) * torch.arange(dim // 2, dtype=dtype) / (dim // 2))
    a = t[:, None].to(dtype) * f[None]
    return torch.cat([torch.sin(a), torch.cos(a)], -1)


class Res(nn.Module):
    """diffusers ResnetBlock2D: GN-SiLU-Conv3 (+ Linear(SiLU(temb))), GN-SiLU-Conv3, residual (1x1 conv if ci != co)."""

    def __init__(s, ci, co, temb=256, groups=32):
        super().__init__()
        s.n1, s.c1, s.te = nn.GroupNorm(groups, ci), nn.Conv2d(ci, co, 3, padding=1), nn.Linear(temb, co)
        s.n2, s.c2 = nn.GroupNorm(groups, co), nn.Conv2d(co, co, 3, padding=1)
        s.sk = nn.Conv2d(ci, co, 1) if ci != co else nn.Identity()

    def forward(s, x, te):
        h = s.c1(F.silu(s.n1(x))) + s.te(F.silu(te))[:, :, None, None]
        return s.sk(x) + s.c2(F.silu(s.n2(h)))


class Attn(nn.Module):
    """Multi-head attention with MatMul/Softmax; q,k,v without bias, o with bias; dc = context width (cross-attn)."""

    def __init__(s, d, dc=None, heads=4):
        super().__init__()
        s.heads = heads
        s.q, s.k, s.v = nn.Linear(d, d, bias=False), nn.Linear(dc or d, d, bias=False), nn.Linear(dc or d, d, bias=False)
        s.o = nn.Linear(d, d)

    def forward(s, x, c=None):
        c = x if c is None else c
        b, n, d = x.shape
        h = s.heads
        sp = lambda t: t.reshape(b, t.shape[1], h, d // h).transpose(1, 2)
        q, k, v = sp(s.q(x)), sp(s.k(c)), sp(s.v(c))
        a = torch.softmax(q @ k.transpose(-1, -2) * (d // h) ** -0.5, -1)
        return s.o((a @ v).transpose(1, 2).reshape(b, n, d))


class Xf(nn.Module):
    """Transformer2DModel + BasicTransformerBlock: GN(eps 1e-6), proj_in, self-attn, cross-attn, GEGLU FF, proj_out."""

    def __init__(s, d, ctx=64, heads=4, groups=32):
        super().__init__()
        s.gn, s.pi, s.po = nn.GroupNorm(groups, d, eps=1e-6), nn.Linear(d, d), nn.Linear(d, d)
        s.l1, s.l2, s.l3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        s.a1, s.a2 = Attn(d, heads=heads), Attn(d, ctx, heads=heads)
        s.ff1, s.ff2 = nn.Linear(d, 8 * d), nn.Linear(4 * d, d)

    def forward(s, x, c):
        b, ch, hh, ww = x.shape
        h = s.pi(s.gn(x).permute(0, 2, 3, 1).reshape(b, hh * ww, ch))
        h = h + s.a1(s.l1(h))
        h = h + s.a2(s.l2(h), c)
        u, g = s.ff1(s.l3(h)).chunk(2, -1)
        h = h + s.ff2(u * F.gelu(g))
        return s.po(h).reshape(b, hh, ww, ch).permute(0, 3, 1, 2) + x


class MiniUNet(nn.Module):
    """HxW -> H/2xW/2 (+transformer) -> HxW with concat skip; 4 ResBlocks. Inputs: latent [B,4,H,W] (H, W even),
    timesteps [B] (int64), context [B,T,ctx]. Output [B,4,H,W]."""

    def __init__(s, c=64, temb=256, ctx=64, heads=4, groups=32):
        super().__init__()
        s.cfg = dict(c=c, temb=temb, ctx=ctx, heads=heads, groups=groups)
        s.t1, s.t2 = nn.Linear(c, temb), nn.Linear(temb, temb)
        s.cin, s.down, s.up = nn.Conv2d(4, c, 3, padding=1), nn.Conv2d(c, c, 3, 2, 1), nn.Conv2d(c, c, 3, padding=1)
        s.r1, s.r2, s.r3 = Res(c, c, temb, groups), Res(c, c, temb, groups), Res(c, c, temb, groups)
        s.r4 = Res(2 * c, c, temb, groups)
        s.xf, s.nout, s.cout = Xf(c, ctx, heads, groups), nn.GroupNorm(groups, c), nn.Conv2d(c, 4, 3, padding=1)

    def forward(s, x, t, ctx):
        te = s.t2(F.silu(s.t1(t_embed(t, s.cfg["c"], s.t1.weight.dtype))))
        h1 = s.r1(s.cin(x), te)
        h = s.r3(s.xf(s.r2(s.down(h1), te), ctx), te)
        h = s.up(F.interpolate(h, scale_factor=2.0, mode="nearest"))  # Upsample2D -> Resize
        return s.cout(F.silu(s.nout(s.r4(torch.cat([h, h1], 1), te))))


def param_count(m):
    return sum(p.numel() for p in m.parameters())
