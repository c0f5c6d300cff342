"""The score network of Grad-TTS: a 2-D U-Net over the (n_mels × frames) image (Popov et al. 2021).

::

    x_t (B, M, T), μ (B, M, T) [, speaker (B, M, T)] ─ stack ─► (B, 2|3, M, T)
      ─ downs: per level [ResnetBlock, ResnetBlock, Rezero linear attention, Downsample ×2]
      ─ mid:   ResnetBlock, Rezero linear attention, ResnetBlock
      ─ ups:   per level [concat skip, ResnetBlock, ResnetBlock, Rezero linear attention, Upsample ×2]
      ─ final Block, 1×1 conv ─► score (B, M, T)
    t (B,) ─ sinusoidal embedding × pe_scale ─ MLP ─► every ResnetBlock (a per-channel bias)

Masks follow the frames through the levels (every second frame per downsampling), so frames must
be a multiple of ``2 ** (levels - 1)`` (:func:`fix_len_compatibility`) and the mel bins too.
Attribute names follow the official code (``downs``, ``mid_block1``, ``final_conv``, …), so its
state dicts map onto this module key for key.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

__all__ = [
    "Block",
    "Downsample",
    "GradLogPEstimator2d",
    "LinearAttention",
    "Mish",
    "Residual",
    "ResnetBlock",
    "Rezero",
    "SinusoidalPosEmb",
    "Upsample",
    "fix_len_compatibility",
]


def fix_len_compatibility(length: int, levels: int) -> int:
    """The smallest frame count >= ``length`` that halves cleanly ``levels - 1`` times."""
    factor = 2 ** (levels - 1)
    return int(math.ceil(length / factor) * factor)


class Mish(nn.Module):
    """``x · tanh(softplus(x))``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(nn.functional.softplus(x))


class Upsample(nn.Module):
    """×2 on both axes (transposed conv 4, stride 2)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(dim, dim, 4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Downsample(nn.Module):
    """/2 on both axes (conv 3, stride 2)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Rezero(nn.Module):
    """``fn(x) · g`` with a scalar gate ``g`` that starts at 0 (the block starts switched off)."""

    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.g = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) * self.g


class Block(nn.Module):
    """Masked conv 3×3 → GroupNorm → Mish."""

    def __init__(self, dim: int, dim_out: int, groups: int = 8) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim_out, 3, padding=1), nn.GroupNorm(groups, dim_out), Mish())

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.block(x * mask) * mask


class ResnetBlock(nn.Module):
    """Two :class:`Block` with the time embedding added in between, plus a (1×1) residual."""

    def __init__(self, dim: int, dim_out: int, time_emb_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.mlp = nn.Sequential(Mish(), nn.Linear(time_emb_dim, dim_out))
        self.block1 = Block(dim, dim_out, groups=groups)
        self.block2 = Block(dim_out, dim_out, groups=groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x, mask)
        h = h + self.mlp(time_emb)[:, :, None, None]  # (B, C) -> (B, C, 1, 1)
        h = self.block2(h, mask)
        return h + self.res_conv(x * mask)


class LinearAttention(nn.Module):
    """Linear attention over all (mel, frame) positions: softmax over keys, then context · q."""

    def __init__(self, dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__()
        self.heads = heads
        hidden = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        qkv = self.to_qkv(x).reshape(b, 3, self.heads, -1, h * w)  # 'b (qkv heads c) h w -> qkv b heads c (h w)'
        q, k, v = qkv.unbind(1)
        k = k.softmax(dim=-1)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


class Residual(nn.Module):
    """``fn(x) + x``."""

    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


class SinusoidalPosEmb(nn.Module):
    """(B,) times → (B, dim) ``[sin, cos]`` of ``scale · t · 10000^(-i / (dim/2 - 1))``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor, scale: float = 1000.0) -> torch.Tensor:
        half = self.dim // 2
        frequencies = torch.exp(torch.arange(half, device=x.device).float() * -(math.log(10000) / (half - 1)))
        angles = scale * x.unsqueeze(1) * frequencies.unsqueeze(0)
        return torch.cat((angles.sin(), angles.cos()), dim=-1)


class GradLogPEstimator2d(nn.Module):
    """The U-Net score estimator (see the module docstring for the data flow).

    Args:
        dim: channels of the first level; ``dim_mults`` multiply it per level.
        groups: GroupNorm groups.
        n_spks / spk_emb_dim: with ``n_spks > 1`` a speaker vector (B, spk_emb_dim) becomes a third
            input channel through ``spk_mlp``.
        n_feats: mel bins. ``pe_scale``: time scale of the sinusoidal embedding (1000; 1 in the
            older released checkpoint).
        attention_heads / attention_head_dim: of every linear attention.
    """

    def __init__(
        self,
        dim: int,
        dim_mults: tuple[int, ...] = (1, 2, 4),
        groups: int = 8,
        n_spks: int = 1,
        spk_emb_dim: int = 64,
        n_feats: int = 80,
        pe_scale: float = 1000.0,
        attention_heads: int = 4,
        attention_head_dim: int = 32,
    ) -> None:
        super().__init__()
        self.n_spks, self.pe_scale = n_spks, pe_scale
        if n_spks > 1:
            self.spk_mlp = nn.Sequential(
                nn.Linear(spk_emb_dim, spk_emb_dim * 4), Mish(), nn.Linear(spk_emb_dim * 4, n_feats)
            )
        self.time_pos_emb = SinusoidalPosEmb(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), Mish(), nn.Linear(dim * 4, dim))

        def attention(channels: int) -> Residual:
            return Residual(Rezero(LinearAttention(channels, attention_heads, attention_head_dim)))

        dims = [2 + (1 if n_spks > 1 else 0), *(dim * m for m in dim_mults)]
        in_out = list(itertools.pairwise(dims))
        self.downs = nn.ModuleList()
        for index, (dim_in, dim_out) in enumerate(in_out):
            last = index == len(in_out) - 1
            self.downs.append(
                nn.ModuleList(
                    [
                        ResnetBlock(dim_in, dim_out, dim, groups),
                        ResnetBlock(dim_out, dim_out, dim, groups),
                        attention(dim_out),
                        nn.Identity() if last else Downsample(dim_out),
                    ]
                )
            )
        mid = dims[-1]
        self.mid_block1 = ResnetBlock(mid, mid, dim, groups)
        self.mid_attn = attention(mid)
        self.mid_block2 = ResnetBlock(mid, mid, dim, groups)
        self.ups = nn.ModuleList(
            nn.ModuleList(
                [
                    ResnetBlock(dim_out * 2, dim_in, dim, groups),
                    ResnetBlock(dim_in, dim_in, dim, groups),
                    attention(dim_in),
                    Upsample(dim_in),
                ]
            )
            for dim_in, dim_out in reversed(in_out[1:])
        )
        self.final_block = Block(dim, dim, groups)
        self.final_conv = nn.Conv2d(dim, 1, 1)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor, t: torch.Tensor, spk: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Score of ``x`` (B, M, T) at times ``t`` (B,), given ``mu`` (B, M, T) and ``mask`` (B, 1, T)."""
        time = self.mlp(self.time_pos_emb(t, scale=self.pe_scale))  # (B, dim)
        if self.n_spks > 1:
            if spk is None:
                raise ValueError("a multi-speaker estimator needs the speaker vector spk")
            speaker = self.spk_mlp(spk).unsqueeze(-1).expand(-1, -1, x.shape[-1])  # (B, M, T)
            x = torch.stack([mu, x, speaker], 1)
        else:
            x = torch.stack([mu, x], 1)  # (B, 2, M, T)
        mask = mask.unsqueeze(1)  # (B, 1, 1, T)
        hiddens, masks = [], [mask]
        for resnet1, resnet2, attn, downsample in self.downs:
            level_mask = masks[-1]
            x = attn(resnet2(resnet1(x, level_mask, time), level_mask, time))
            hiddens.append(x)
            x = downsample(x * level_mask)
            masks.append(level_mask[:, :, :, ::2])
        masks = masks[:-1]
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, masks[-1], time)), masks[-1], time)
        for resnet1, resnet2, attn, upsample in self.ups:
            level_mask = masks.pop()
            x = torch.cat((x, hiddens.pop()), dim=1)
            x = attn(resnet2(resnet1(x, level_mask, time), level_mask, time))
            x = upsample(x * level_mask)
        x = self.final_block(x, mask)
        return (self.final_conv(x * mask) * mask).squeeze(1)
