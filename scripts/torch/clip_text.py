"""CLIP's text transformer as transformers' CLIPTextModel computes it (modeling_clip.py), with the same module tree and
so the same state_dict names (`text_model.embeddings.token_embedding.weight`, `text_model.encoder.layers.0.self_attn.
q_proj.weight`, ..., `text_model.final_layer_norm.weight`). The position_ids buffer is non-persistent, as in current
transformers (older checkpoints also store `text_model.embeddings.position_ids`; it is not a parameter).

forward(input_ids [B, L] int64) -> (last_hidden_state [B, L, D] after final_layer_norm,
                                    pooled [B, D] = last_hidden_state at argmax(input_ids) (the first EOS, CLIP's legacy
                                    eos_token_id == 2 path, which SD1.5's text encoder config takes),
                                    hidden_states: tuple of the embeddings and each layer's output, before final LN)
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn


@dataclass
class ClipTextConfig:
    vocab_size: int = 49408
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 77
    layer_norm_eps: float = 1e-5

    def to_dict(self):
        return asdict(self)


SD15 = ClipTextConfig()  # openai/clip-vit-large-patch14's text tower, SD1.5's text_encoder


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, c: ClipTextConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embedding = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.register_buffer("position_ids", torch.arange(c.max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        seq = input_ids.shape[-1]
        return self.token_embedding(input_ids) + self.position_embedding(self.position_ids[:, :seq])


class CLIPAttention(nn.Module):
    def __init__(self, c: ClipTextConfig):
        super().__init__()
        self.embed_dim, self.num_heads = c.hidden_size, c.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        assert self.head_dim * self.num_heads == self.embed_dim
        self.scale = self.head_dim ** -0.5
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def _shape(self, t, seq, bsz):
        return t.view(bsz, seq, self.num_heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, h, causal_attention_mask):
        bsz, tgt, _ = h.shape
        q = self._shape(self.q_proj(h) * self.scale, tgt, bsz).view(bsz * self.num_heads, tgt, self.head_dim)
        k = self._shape(self.k_proj(h), tgt, bsz).view(bsz * self.num_heads, tgt, self.head_dim)
        v = self._shape(self.v_proj(h), tgt, bsz).view(bsz * self.num_heads, tgt, self.head_dim)
        w = torch.bmm(q, k.transpose(1, 2)).view(bsz, self.num_heads, tgt, tgt) + causal_attention_mask
        w = torch.softmax(w.view(bsz * self.num_heads, tgt, tgt), dim=-1)
        o = torch.bmm(w, v).view(bsz, self.num_heads, tgt, self.head_dim).transpose(1, 2).reshape(bsz, tgt, self.embed_dim)
        return self.out_proj(o)


class CLIPMLP(nn.Module):
    def __init__(self, c: ClipTextConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)

    def forward(self, h):
        return self.fc2(quick_gelu(self.fc1(h)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, c: ClipTextConfig):
        super().__init__()
        self.self_attn = CLIPAttention(c)
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = CLIPMLP(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, h, causal_attention_mask):
        h = h + self.self_attn(self.layer_norm1(h), causal_attention_mask)
        return h + self.mlp(self.layer_norm2(h))


class CLIPEncoder(nn.Module):
    def __init__(self, c: ClipTextConfig):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(c) for _ in range(c.num_hidden_layers)])


def causal_mask(bsz, seq, dtype):
    """transformers' _make_causal_mask: finfo.min above the diagonal, 0 elsewhere, [B, 1, L, L]."""
    m = torch.full((seq, seq), torch.finfo(dtype).min, dtype=dtype).triu(1)
    return m[None, None].expand(bsz, 1, seq, seq)


class CLIPTextTransformer(nn.Module):
    def __init__(self, c: ClipTextConfig):
        super().__init__()
        self.embeddings = CLIPTextEmbeddings(c)
        self.encoder = CLIPEncoder(c)
        self.final_layer_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids):
        bsz, seq = input_ids.shape
        h = self.embeddings(input_ids)
        mask = causal_mask(bsz, seq, h.dtype)
        hidden_states = [h]
        for layer in self.encoder.layers:
            h = layer(h, mask)
            hidden_states.append(h)
        last = self.final_layer_norm(h)
        pooled = last[torch.arange(bsz), input_ids.to(torch.int).argmax(dim=-1)]
        return last, pooled, tuple(hidden_states)


class CLIPTextModel(nn.Module):
    def __init__(self, c: ClipTextConfig = SD15):
        super().__init__()
        self.config = c
        self.text_model = CLIPTextTransformer(c)

    def forward(self, input_ids):
        return self.text_model(input_ids)


def param_count(model):
    return sum(p.numel() for p in model.parameters())
