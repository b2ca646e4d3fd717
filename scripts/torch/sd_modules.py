#!/usr/bin/env python3
"""A faithful, dependency-free port of the diffusers modules Stable Diffusion 1.5 uses: UNet2DConditionModel
(CrossAttnDownBlock2D, DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D, CrossAttnUpBlock2D) and AutoencoderKL
(Encoder, Decoder, quant_conv, post_quant_conv), with diffusers' module names, so state_dict keys are the keys of a
diffusers checkpoint (`down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight`, `encoder.mid_block.
attentions.0.to_q.weight`, ...). Only the paths SD1.5 takes are kept (no dropout at inference, default time-embedding
norm, output_scale_factor 1, no linear projection, no FreeU, no LoRA); the math is diffusers' line for line.

Configs are plain dicts with diffusers' config keys (see SD15_UNET, SD15_VAE); the TypeScript models
(src/runtime/models/unet.ts, vae.ts) build the same graphs. Used by make-sd-fixtures.py and bench/sd-unet.ts.
torch 1.13 has no scaled_dot_product_attention: attention is diffusers' AttnProcessor (baddbmm, softmax, bmm).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    block_out_channels=[320, 640, 1280, 1280], layers_per_block=2, downsample_padding=1, mid_block_scale_factor=1,
    act_fn="silu", norm_num_groups=32, norm_eps=1e-5, cross_attention_dim=768, attention_head_dim=8,
)

SD15_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, act_fn="silu", norm_num_groups=32, layers_per_block=2,
    block_out_channels=[128, 256, 512, 512], sample_size=512,
    down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
)


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1.0, scale=1.0,
                           max_period=10000):
    """diffusers.models.embeddings.get_timestep_embedding (computed in float32, as diffusers does)."""
    assert len(timesteps.shape) == 1, "Timesteps should be a 1d-array"
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=torch.float32,
                                                    device=timesteps.device)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class Timesteps(nn.Module):
    def __init__(self, num_channels, flip_sin_to_cos, downscale_freq_shift):
        super().__init__()
        self.num_channels, self.flip_sin_to_cos, self.downscale_freq_shift = num_channels, flip_sin_to_cos, downscale_freq_shift

    def forward(self, timesteps):
        return get_timestep_embedding(timesteps, self.num_channels, flip_sin_to_cos=self.flip_sin_to_cos,
                                      downscale_freq_shift=self.downscale_freq_shift)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_channels, time_embed_dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_channels, time_embed_dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, sample):
        return self.linear_2(self.act(self.linear_1(sample)))


class ResnetBlock2D(nn.Module):
    """time_embedding_norm='default', pre_norm, output_scale_factor 1, conv_shortcut (1x1) when channels change."""

    def __init__(self, in_channels, out_channels, temb_channels, eps, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(num_groups=groups, num_channels=in_channels, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels) if temb_channels is not None else None
        self.norm2 = nn.GroupNorm(num_groups=groups, num_channels=out_channels, eps=eps, affine=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.nonlinearity = nn.SiLU()
        self.conv_shortcut = (nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)
                              if in_channels != out_channels else None)

    def forward(self, input_tensor, temb):
        hidden_states = self.conv1(self.nonlinearity(self.norm1(input_tensor)))
        if self.time_emb_proj is not None:
            temb = self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None]
            hidden_states = hidden_states + temb
        hidden_states = self.conv2(self.nonlinearity(self.norm2(hidden_states)))
        if self.conv_shortcut is not None:
            input_tensor = self.conv_shortcut(input_tensor)
        return input_tensor + hidden_states


class Downsample2D(nn.Module):
    """use_conv=True: 3x3 stride-2 conv; with padding=0 (the VAE) the input is first padded (0,1,0,1) with zeros."""

    def __init__(self, channels, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=padding)

    def forward(self, hidden_states):
        if self.padding == 0:
            hidden_states = F.pad(hidden_states, (0, 1, 0, 1), mode="constant", value=0)
        return self.conv(hidden_states)


class Upsample2D(nn.Module):
    """use_conv=True: nearest x2 (or to output_size), then a 3x3 conv."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, hidden_states, output_size=None):
        if output_size is None:
            hidden_states = F.interpolate(hidden_states, scale_factor=2.0, mode="nearest")
        else:
            hidden_states = F.interpolate(hidden_states, size=output_size, mode="nearest")
        return self.conv(hidden_states)


class Attention(nn.Module):
    """diffusers.models.attention_processor.Attention with AttnProcessor. Optional group_norm (the VAE's mid-block
    attention on [B,C,H,W] input, with residual connection); otherwise [B,N,D] in, [B,N,D] out."""

    def __init__(self, query_dim, cross_attention_dim=None, heads=8, dim_head=64, bias=False, out_bias=True,
                 norm_num_groups=None, eps=1e-5, residual_connection=False):
        super().__init__()
        inner_dim = dim_head * heads
        cross_attention_dim = cross_attention_dim if cross_attention_dim is not None else query_dim
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.residual_connection = residual_connection
        self.group_norm = (nn.GroupNorm(num_channels=query_dim, num_groups=norm_num_groups, eps=eps, affine=True)
                           if norm_num_groups is not None else None)
        self.to_q = nn.Linear(query_dim, inner_dim, bias=bias)
        self.to_k = nn.Linear(cross_attention_dim, inner_dim, bias=bias)
        self.to_v = nn.Linear(cross_attention_dim, inner_dim, bias=bias)
        self.to_out = nn.ModuleList([nn.Linear(inner_dim, query_dim, bias=out_bias), nn.Dropout(0.0)])

    def head_to_batch_dim(self, tensor):
        b, n, d = tensor.shape
        h = self.heads
        return tensor.reshape(b, n, h, d // h).permute(0, 2, 1, 3).reshape(b * h, n, d // h)

    def batch_to_head_dim(self, tensor):
        bh, n, dh = tensor.shape
        h = self.heads
        return tensor.reshape(bh // h, h, n, dh).permute(0, 2, 1, 3).reshape(bh // h, n, dh * h)

    def forward(self, hidden_states, encoder_hidden_states=None):
        residual = hidden_states
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            batch_size, channel, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch_size, channel, height * width).transpose(1, 2)
        if self.group_norm is not None:
            hidden_states = self.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        query = self.to_q(hidden_states)
        if encoder_hidden_states is None:
            encoder_hidden_states = hidden_states
        key = self.to_k(encoder_hidden_states)
        value = self.to_v(encoder_hidden_states)
        query, key, value = self.head_to_batch_dim(query), self.head_to_batch_dim(key), self.head_to_batch_dim(value)
        # get_attention_scores: baddbmm(empty, q, k^T, beta=0, alpha=scale), softmax
        scores = torch.baddbmm(torch.empty(query.shape[0], query.shape[1], key.shape[1], dtype=query.dtype),
                               query, key.transpose(-1, -2), beta=0, alpha=self.scale)
        probs = scores.softmax(dim=-1)
        hidden_states = self.batch_to_head_dim(torch.bmm(probs, value))
        hidden_states = self.to_out[1](self.to_out[0](hidden_states))
        if input_ndim == 4:
            hidden_states = hidden_states.transpose(-1, -2).reshape(batch_size, channel, height, width)
        if self.residual_connection:
            hidden_states = hidden_states + residual
        return hidden_states


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, hidden_states):
        hidden_states, gate = self.proj(hidden_states).chunk(2, dim=-1)
        return hidden_states * F.gelu(gate)


class FeedForward(nn.Module):
    """net = [GEGLU(dim, 4 dim), Dropout, Linear(4 dim, dim)]: keys ff.net.0.proj.*, ff.net.2.*."""

    def __init__(self, dim, mult=4):
        super().__init__()
        inner_dim = int(dim * mult)
        self.net = nn.ModuleList([GEGLU(dim, inner_dim), nn.Dropout(0.0), nn.Linear(inner_dim, dim)])

    def forward(self, hidden_states):
        for module in self.net:
            hidden_states = module(hidden_states)
        return hidden_states


class BasicTransformerBlock(nn.Module):
    """norm_type 'layer_norm': self-attention, cross-attention, GEGLU feed-forward, each pre-LayerNorm + residual."""

    def __init__(self, dim, num_attention_heads, attention_head_dim, cross_attention_dim, norm_eps=1e-5):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=True, eps=norm_eps)
        self.attn1 = Attention(query_dim=dim, heads=num_attention_heads, dim_head=attention_head_dim, bias=False)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=True, eps=norm_eps)
        self.attn2 = Attention(query_dim=dim, cross_attention_dim=cross_attention_dim, heads=num_attention_heads,
                               dim_head=attention_head_dim, bias=False)
        self.norm3 = nn.LayerNorm(dim, elementwise_affine=True, eps=norm_eps)
        self.ff = FeedForward(dim)

    def forward(self, hidden_states, encoder_hidden_states):
        hidden_states = self.attn1(self.norm1(hidden_states)) + hidden_states
        hidden_states = self.attn2(self.norm2(hidden_states), encoder_hidden_states) + hidden_states
        return self.ff(self.norm3(hidden_states)) + hidden_states


class Transformer2DModel(nn.Module):
    """Continuous input, use_linear_projection=False: GroupNorm(eps 1e-6), 1x1 conv proj_in, blocks, 1x1 conv
    proj_out, residual."""

    def __init__(self, num_attention_heads, attention_head_dim, in_channels, num_layers, cross_attention_dim,
                 norm_num_groups):
        super().__init__()
        inner_dim = num_attention_heads * attention_head_dim
        self.norm = nn.GroupNorm(num_groups=norm_num_groups, num_channels=in_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Conv2d(in_channels, inner_dim, kernel_size=1, stride=1, padding=0)
        self.transformer_blocks = nn.ModuleList([
            BasicTransformerBlock(inner_dim, num_attention_heads, attention_head_dim, cross_attention_dim)
            for _ in range(num_layers)])
        self.proj_out = nn.Conv2d(inner_dim, in_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, hidden_states, encoder_hidden_states):
        batch, _, height, width = hidden_states.shape
        residual = hidden_states
        hidden_states = self.proj_in(self.norm(hidden_states))
        inner_dim = hidden_states.shape[1]
        hidden_states = hidden_states.permute(0, 2, 3, 1).reshape(batch, height * width, inner_dim)
        for block in self.transformer_blocks:
            hidden_states = block(hidden_states, encoder_hidden_states)
        hidden_states = hidden_states.reshape(batch, height, width, inner_dim).permute(0, 3, 1, 2).contiguous()
        return self.proj_out(hidden_states) + residual


class CrossAttnDownBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, num_layers, eps, groups, heads, cross_attention_dim,
                 add_downsample, downsample_padding, transformer_layers=1):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, temb_channels, eps, groups)
            for i in range(num_layers)])
        self.attentions = nn.ModuleList([
            Transformer2DModel(heads, out_channels // heads, out_channels, transformer_layers, cross_attention_dim,
                               groups) for _ in range(num_layers)])
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels, downsample_padding)]) if add_downsample else None

    def forward(self, hidden_states, temb, encoder_hidden_states):
        output_states = ()
        for resnet, attn in zip(self.resnets, self.attentions):
            hidden_states = attn(resnet(hidden_states, temb), encoder_hidden_states)
            output_states = output_states + (hidden_states,)
        if self.downsamplers is not None:
            for downsampler in self.downsamplers:
                hidden_states = downsampler(hidden_states)
            output_states = output_states + (hidden_states,)
        return hidden_states, output_states


class DownBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, num_layers, eps, groups, add_downsample,
                 downsample_padding):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, temb_channels, eps, groups)
            for i in range(num_layers)])
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels, downsample_padding)]) if add_downsample else None

    def forward(self, hidden_states, temb, encoder_hidden_states=None):
        output_states = ()
        for resnet in self.resnets:
            hidden_states = resnet(hidden_states, temb)
            output_states = output_states + (hidden_states,)
        if self.downsamplers is not None:
            for downsampler in self.downsamplers:
                hidden_states = downsampler(hidden_states)
            output_states = output_states + (hidden_states,)
        return hidden_states, output_states


class CrossAttnUpBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, prev_output_channel, temb_channels, num_layers, eps, groups, heads,
                 cross_attention_dim, add_upsample, transformer_layers=1):
        super().__init__()
        resnets, attentions = [], []
        for i in range(num_layers):
            res_skip_channels = in_channels if (i == num_layers - 1) else out_channels
            resnet_in_channels = prev_output_channel if i == 0 else out_channels
            resnets.append(ResnetBlock2D(resnet_in_channels + res_skip_channels, out_channels, temb_channels, eps,
                                         groups))
            attentions.append(Transformer2DModel(heads, out_channels // heads, out_channels, transformer_layers,
                                                 cross_attention_dim, groups))
        self.resnets, self.attentions = nn.ModuleList(resnets), nn.ModuleList(attentions)
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None

    def forward(self, hidden_states, res_hidden_states_tuple, temb, encoder_hidden_states, upsample_size=None):
        for resnet, attn in zip(self.resnets, self.attentions):
            res_hidden_states = res_hidden_states_tuple[-1]
            res_hidden_states_tuple = res_hidden_states_tuple[:-1]
            hidden_states = torch.cat([hidden_states, res_hidden_states], dim=1)
            hidden_states = attn(resnet(hidden_states, temb), encoder_hidden_states)
        if self.upsamplers is not None:
            for upsampler in self.upsamplers:
                hidden_states = upsampler(hidden_states, upsample_size)
        return hidden_states


class UpBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, prev_output_channel, temb_channels, num_layers, eps, groups,
                 add_upsample):
        super().__init__()
        resnets = []
        for i in range(num_layers):
            res_skip_channels = in_channels if (i == num_layers - 1) else out_channels
            resnet_in_channels = prev_output_channel if i == 0 else out_channels
            resnets.append(ResnetBlock2D(resnet_in_channels + res_skip_channels, out_channels, temb_channels, eps,
                                         groups))
        self.resnets = nn.ModuleList(resnets)
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None

    def forward(self, hidden_states, res_hidden_states_tuple, temb, encoder_hidden_states=None, upsample_size=None):
        for resnet in self.resnets:
            res_hidden_states = res_hidden_states_tuple[-1]
            res_hidden_states_tuple = res_hidden_states_tuple[:-1]
            hidden_states = resnet(torch.cat([hidden_states, res_hidden_states], dim=1), temb)
        if self.upsamplers is not None:
            for upsampler in self.upsamplers:
                hidden_states = upsampler(hidden_states, upsample_size)
        return hidden_states


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, in_channels, temb_channels, eps, groups, heads, cross_attention_dim, num_layers=1,
                 transformer_layers=1):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(in_channels, in_channels, temb_channels, eps, groups)
                                      for _ in range(num_layers + 1)])
        self.attentions = nn.ModuleList([
            Transformer2DModel(heads, in_channels // heads, in_channels, transformer_layers, cross_attention_dim,
                               groups) for _ in range(num_layers)])

    def forward(self, hidden_states, temb, encoder_hidden_states):
        hidden_states = self.resnets[0](hidden_states, temb)
        for attn, resnet in zip(self.attentions, self.resnets[1:]):
            hidden_states = resnet(attn(hidden_states, encoder_hidden_states), temb)
        return hidden_states


def _per_block(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


class UNet2DConditionModel(nn.Module):
    """forward(sample [B,C,H,W], timestep [B] or scalar, encoder_hidden_states [B,T,D]) -> [B,C_out,H,W]."""

    def __init__(self, config):
        super().__init__()
        c = dict(config)
        self.config = c
        boc = c["block_out_channels"]
        n = len(boc)
        groups, eps, xdim = c["norm_num_groups"], c["norm_eps"], c["cross_attention_dim"]
        # diffusers' naming quirk: without num_attention_heads, attention_head_dim is the number of heads.
        heads = _per_block(c.get("num_attention_heads") or c["attention_head_dim"], n)
        tlayers = _per_block(c.get("transformer_layers_per_block", 1), n)
        layers = c["layers_per_block"]
        time_embed_dim = boc[0] * 4

        self.conv_in = nn.Conv2d(c["in_channels"], boc[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(boc[0], c["flip_sin_to_cos"], c["freq_shift"])
        self.time_embedding = TimestepEmbedding(boc[0], time_embed_dim)

        self.down_blocks = nn.ModuleList([])
        output_channel = boc[0]
        for i, t in enumerate(c["down_block_types"]):
            input_channel, output_channel = output_channel, boc[i]
            add_downsample = i != n - 1
            if t == "CrossAttnDownBlock2D":
                blk = CrossAttnDownBlock2D(input_channel, output_channel, time_embed_dim, layers, eps, groups, heads[i],
                                           xdim, add_downsample, c["downsample_padding"], tlayers[i])
            elif t == "DownBlock2D":
                blk = DownBlock2D(input_channel, output_channel, time_embed_dim, layers, eps, groups, add_downsample,
                                  c["downsample_padding"])
            else:
                raise ValueError(f"unsupported down block {t}")
            self.down_blocks.append(blk)

        self.mid_block = UNetMidBlock2DCrossAttn(boc[-1], time_embed_dim, eps, groups, heads[-1], xdim,
                                                 transformer_layers=tlayers[-1])

        self.up_blocks = nn.ModuleList([])
        rev, rev_heads, rev_tlayers = list(reversed(boc)), list(reversed(heads)), list(reversed(tlayers))
        output_channel = rev[0]
        for i, t in enumerate(c["up_block_types"]):
            prev_output_channel, output_channel = output_channel, rev[i]
            input_channel = rev[min(i + 1, n - 1)]
            add_upsample = i != n - 1
            if t == "CrossAttnUpBlock2D":
                blk = CrossAttnUpBlock2D(input_channel, output_channel, prev_output_channel, time_embed_dim,
                                         layers + 1, eps, groups, rev_heads[i], xdim, add_upsample, rev_tlayers[i])
            elif t == "UpBlock2D":
                blk = UpBlock2D(input_channel, output_channel, prev_output_channel, time_embed_dim, layers + 1, eps,
                                groups, add_upsample)
            else:
                raise ValueError(f"unsupported up block {t}")
            self.up_blocks.append(blk)

        self.conv_norm_out = nn.GroupNorm(num_channels=boc[0], num_groups=groups, eps=eps)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(boc[0], c["out_channels"], kernel_size=3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        default_overall_up_factor = 2 ** (len(self.up_blocks) - 1)
        forward_upsample_size = any(s % default_overall_up_factor != 0 for s in sample.shape[-2:])

        timesteps = timestep
        if not torch.is_tensor(timesteps):
            timesteps = torch.tensor([timesteps], dtype=torch.int64)
        elif len(timesteps.shape) == 0:
            timesteps = timesteps[None]
        timesteps = timesteps.expand(sample.shape[0])
        t_emb = self.time_proj(timesteps).to(dtype=sample.dtype)
        emb = self.time_embedding(t_emb)

        sample = self.conv_in(sample)
        down_block_res_samples = (sample,)
        for blk in self.down_blocks:
            sample, res_samples = blk(sample, emb, encoder_hidden_states)
            down_block_res_samples += res_samples

        sample = self.mid_block(sample, emb, encoder_hidden_states)

        for i, blk in enumerate(self.up_blocks):
            is_final_block = i == len(self.up_blocks) - 1
            res_samples = down_block_res_samples[-len(blk.resnets):]
            down_block_res_samples = down_block_res_samples[:-len(blk.resnets)]
            upsample_size = None
            if not is_final_block and forward_upsample_size:
                upsample_size = down_block_res_samples[-1].shape[2:]
            sample = blk(sample, res_samples, emb, encoder_hidden_states, upsample_size)

        return self.conv_out(self.conv_act(self.conv_norm_out(sample)))


class DownEncoderBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, num_layers, eps, groups, add_downsample, downsample_padding):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, None, eps, groups)
            for i in range(num_layers)])
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels, downsample_padding)]) if add_downsample else None

    def forward(self, hidden_states):
        for resnet in self.resnets:
            hidden_states = resnet(hidden_states, None)
        if self.downsamplers is not None:
            for downsampler in self.downsamplers:
                hidden_states = downsampler(hidden_states)
        return hidden_states


class UpDecoderBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, num_layers, eps, groups, add_upsample):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, None, eps, groups)
            for i in range(num_layers)])
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None

    def forward(self, hidden_states):
        for resnet in self.resnets:
            hidden_states = resnet(hidden_states, None)
        if self.upsamplers is not None:
            for upsampler in self.upsamplers:
                hidden_states = upsampler(hidden_states)
        return hidden_states


class UNetMidBlock2D(nn.Module):
    """The VAE's mid block: resnet, single-head self-attention over the channels (group_norm, biases, residual),
    resnet."""

    def __init__(self, in_channels, eps, groups, attention_head_dim):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(in_channels, in_channels, None, eps, groups) for _ in range(2)])
        self.attentions = nn.ModuleList([
            Attention(in_channels, heads=in_channels // attention_head_dim, dim_head=attention_head_dim, bias=True,
                      norm_num_groups=groups, eps=eps, residual_connection=True)])

    def forward(self, hidden_states):
        hidden_states = self.resnets[0](hidden_states, None)
        for attn, resnet in zip(self.attentions, self.resnets[1:]):
            hidden_states = resnet(attn(hidden_states), None)
        return hidden_states


class Encoder(nn.Module):
    def __init__(self, in_channels, out_channels, block_out_channels, layers_per_block, norm_num_groups,
                 double_z=True):
        super().__init__()
        boc = block_out_channels
        self.conv_in = nn.Conv2d(in_channels, boc[0], kernel_size=3, stride=1, padding=1)
        self.down_blocks = nn.ModuleList([])
        output_channel = boc[0]
        for i in range(len(boc)):
            input_channel, output_channel = output_channel, boc[i]
            self.down_blocks.append(DownEncoderBlock2D(input_channel, output_channel, layers_per_block, 1e-6,
                                                       norm_num_groups, i != len(boc) - 1, 0))
        self.mid_block = UNetMidBlock2D(boc[-1], 1e-6, norm_num_groups, boc[-1])
        self.conv_norm_out = nn.GroupNorm(num_channels=boc[-1], num_groups=norm_num_groups, eps=1e-6)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(boc[-1], 2 * out_channels if double_z else out_channels, 3, padding=1)

    def forward(self, sample):
        sample = self.conv_in(sample)
        for blk in self.down_blocks:
            sample = blk(sample)
        sample = self.mid_block(sample)
        return self.conv_out(self.conv_act(self.conv_norm_out(sample)))


class Decoder(nn.Module):
    def __init__(self, in_channels, out_channels, block_out_channels, layers_per_block, norm_num_groups):
        super().__init__()
        boc = block_out_channels
        self.conv_in = nn.Conv2d(in_channels, boc[-1], kernel_size=3, stride=1, padding=1)
        self.mid_block = UNetMidBlock2D(boc[-1], 1e-6, norm_num_groups, boc[-1])
        self.up_blocks = nn.ModuleList([])
        rev = list(reversed(boc))
        output_channel = rev[0]
        for i in range(len(boc)):
            prev_output_channel, output_channel = output_channel, rev[i]
            self.up_blocks.append(UpDecoderBlock2D(prev_output_channel, output_channel, layers_per_block + 1, 1e-6,
                                                   norm_num_groups, i != len(boc) - 1))
        self.conv_norm_out = nn.GroupNorm(num_channels=boc[0], num_groups=norm_num_groups, eps=1e-6)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(boc[0], out_channels, 3, padding=1)

    def forward(self, sample):
        sample = self.mid_block(self.conv_in(sample))
        for blk in self.up_blocks:
            sample = blk(sample)
        return self.conv_out(self.conv_act(self.conv_norm_out(sample)))


class AutoencoderKL(nn.Module):
    """encode(x [B,3,H,W]) -> (mean, logvar) of the latent posterior (logvar clamped to [-30, 20] as
    DiagonalGaussianDistribution does); decode(z [B,4,h,w]) -> image."""

    def __init__(self, config):
        super().__init__()
        c = dict(config)
        self.config = c
        for t in c["down_block_types"]:
            assert t == "DownEncoderBlock2D", t
        for t in c["up_block_types"]:
            assert t == "UpDecoderBlock2D", t
        lc = c["latent_channels"]
        self.encoder = Encoder(c["in_channels"], lc, c["block_out_channels"], c["layers_per_block"],
                               c["norm_num_groups"])
        self.decoder = Decoder(lc, c["out_channels"], c["block_out_channels"], c["layers_per_block"],
                               c["norm_num_groups"])
        self.quant_conv = nn.Conv2d(2 * lc, 2 * lc, 1)
        self.post_quant_conv = nn.Conv2d(lc, lc, 1)

    def encode(self, x):
        moments = self.quant_conv(self.encoder(x))
        mean, logvar = torch.chunk(moments, 2, dim=1)
        return mean, torch.clamp(logvar, -30.0, 20.0)

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


def param_count(m):
    return sum(p.numel() for p in m.parameters())


def bench_unet(threads, runs, size=64):
    """One SD1.5 UNet forward (batch 1, size x size latent, float32, random weights), median over `runs` after a
    warm-up. Returns {"torch_ms": .., "torch_runs_ms": [..], ...}."""
    import statistics
    import time
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    m = UNet2DConditionModel(SD15_UNET).eval()
    build_s = time.perf_counter() - t0
    x, t, ctx = torch.randn(1, 4, size, size), torch.tensor([500]), torch.randn(1, 77, SD15_UNET["cross_attention_dim"])
    times = []
    with torch.no_grad():
        for i in range(runs + 1):
            t0 = time.perf_counter()
            m(x, t, ctx).sum().item()
            if i > 0:
                times.append((time.perf_counter() - t0) * 1000)
    import resource
    return {"torch_ms": statistics.median(times), "torch_runs_ms": times, "torch_build_s": build_s,
            "torch_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "torch_version": torch.__version__, "threads": threads, "params": param_count(m)}


if __name__ == "__main__":
    import argparse
    import json
    ap = argparse.ArgumentParser(description="SD1.5 parameter counts, or (--bench-unet) a timed UNet forward")
    ap.add_argument("--bench-unet", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=64)
    a = ap.parse_args()
    if a.bench_unet:
        print(json.dumps(bench_unet(a.threads, a.runs, a.size)))
    else:
        print(json.dumps({"unet_params": param_count(UNet2DConditionModel(SD15_UNET)),
                          "vae_params": param_count(AutoencoderKL(SD15_VAE))}))
