"""The diffusion transformer (DiT) backbone of the latent-diffusion head, kept apart from the generative wrapper.

::

    x_t (B, L, C) ┐
    prompt (B, L, C) (0 on the frames to generate) ├─ cat ─ Linear ─► h₀ (B, L, H)
    generate mask (B, L, 1) ┘
    time (B,) ─ sinusoid ─ MLP ─┐
    condition (B, H) (pooled text + speaker) ─┴─► c (B, H)
    h₀ ─ DiTBlock × num_layers ─► h_L
         (AdaLN-Zero self-attention with rotary positions over the latent frames,
          cross-attention to the text context (B, P, H), AdaLN-Zero gated MLP)
    long skip: Linear(cat(h_L, h₀)) ─ LayerNorm · (1 + scale(c)) + shift(c) ─ zero Linear ─► (B, L, C)

:class:`DiTBlock` is our :class:`~.layers.AdaLNZeroBlock` with a cross-attention between its
self-attention and its feed-forward (a plain pre-norm residual, as in PixArt-α) and a gated MLP
(:class:`~.layers.GatedFeedForward`). The output projection and every AdaLN modulation start at
zero, so the network predicts 0 at init.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import (
    AdaLNZeroBlock,
    AdaLNZeroModulation,
    CrossAttention,
    GatedFeedForward,
    RotaryEmbedding,
    ZeroInitLinear,
)
from .unet import SinusoidalPosEmb

__all__ = ["DiTBlock", "DiffusionTransformer"]

#: scale of the sinusoidal time embedding for times in [0, 1] (Grad-TTS' ``pe_scale``).
TIME_EMBEDDING_SCALE = 1000.0


class DiTBlock(AdaLNZeroBlock):
    """AdaLN-Zero self-attention, cross-attention to a context, AdaLN-Zero gated MLP.

    Example:
        >>> block = DiTBlock(8, 2, 16, condition_size=8, context_size=6, activation="gelu", dropout=0.0,
        ...                  attention_dropout=0.0, layer_norm_eps=1e-6)
        >>> x = torch.randn(2, 5, 8)
        >>> out, _, _ = block(x, torch.randn(2, 8), context=torch.randn(2, 3, 6))
        >>> out.shape
        torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        condition_size: int,
        context_size: int,
        activation: str,
        dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ) -> None:
        super().__init__(
            hidden_size, num_heads, intermediate_size, condition_size, activation, dropout, attention_dropout, layer_norm_eps
        )
        self.cross_attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.cross_attention = CrossAttention(hidden_size, num_heads, attention_dropout, context_size)
        self.ffn = GatedFeedForward(hidden_size, intermediate_size, activation)

    def forward(  # type: ignore[override]
        self,
        hidden_states: torch.Tensor,
        condition: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(B, L, H), (B, C) condition, (B, 1, 1, L) mask, rotary tables, (B, P, H_ctx) context and
        its (B, 1, 1, P) mask → (B, L, H), self- and cross-attention weights (or None)."""
        shift_a, scale_a, gate_a, shift_f, scale_f, gate_f = self.modulation(condition)
        normed = self.attention_norm(hidden_states) * (1 + scale_a) + shift_a
        attended, weights = self.attention(normed, attention_mask, position_embeddings, output_attentions)
        hidden_states = hidden_states + gate_a * self.dropout(attended)
        crossed, cross_weights = self.cross_attention(
            self.cross_attention_norm(hidden_states), context, context_mask, output_attentions
        )
        hidden_states = hidden_states + self.dropout(crossed)
        normed = self.ffn_norm(hidden_states) * (1 + scale_f) + shift_f
        hidden_states = hidden_states + gate_f * self.dropout(self.ffn(normed))
        return hidden_states, weights, cross_weights


class DiffusionTransformer(nn.Module):
    """Latent frames + prompt + time + text → the (B, L, C) regression output (see the module docstring).

    Example:
        >>> dit = DiffusionTransformer(latent_channels=3, hidden_size=8, num_layers=1, num_heads=2,
        ...     intermediate_size=16, context_size=8, activation="gelu", dropout=0.0, attention_dropout=0.0,
        ...     layer_norm_eps=1e-6, rope_theta=10000.0)
        >>> mask = torch.ones(2, 4, dtype=torch.bool)
        >>> out = dit(torch.randn(2, 4, 3), torch.zeros(2, 4, 3), torch.ones(2, 4, 1), mask, torch.rand(2),
        ...           torch.randn(2, 3, 8), torch.ones(2, 3, dtype=torch.bool), torch.zeros(2, 8))
        >>> out.shape, float(out.abs().max())  # zero output projection at init
        (torch.Size([2, 4, 3]), 0.0)
    """

    def __init__(
        self,
        latent_channels: int,
        hidden_size: int,
        num_layers: int,
        num_heads: int,
        intermediate_size: int,
        context_size: int,
        activation: str,
        dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
        rope_theta: float,
    ) -> None:
        super().__init__()
        self.input = nn.Linear(2 * latent_channels + 1, hidden_size)
        self.time_embedding = SinusoidalPosEmb(hidden_size)
        self.time_mlp = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.SiLU(), nn.Linear(hidden_size, hidden_size))
        self.rotary = RotaryEmbedding(hidden_size // num_heads, rope_theta)
        block = (hidden_size, num_heads, intermediate_size, hidden_size, context_size, activation, dropout,
                 attention_dropout, layer_norm_eps)  # fmt: skip
        self.blocks = nn.ModuleList(DiTBlock(*block) for _ in range(num_layers))
        self.skip = nn.Linear(2 * hidden_size, hidden_size)
        self.final_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps, elementwise_affine=False)
        self.final_modulation = AdaLNZeroModulation(hidden_size, hidden_size, num_chunks=2)
        self.output = ZeroInitLinear(hidden_size, latent_channels)

    def forward(
        self,
        noisy: torch.Tensor,
        prompt: torch.Tensor,
        generate: torch.Tensor,
        mask: torch.Tensor,
        time: torch.Tensor,
        context: torch.Tensor,
        context_mask: torch.Tensor,
        condition: torch.Tensor,
    ) -> torch.Tensor:
        """Noisy (B, L, C), prompt (B, L, C), generate (B, L, 1) 0/1, mask (B, L) bool, time (B,) in
        [0, 1], context (B, P, H_ctx), context_mask (B, P) bool, condition (B, H) → (B, L, C)."""
        h0 = self.input(torch.cat([noisy, prompt, generate], dim=-1))
        c = self.time_mlp(self.time_embedding(time, scale=TIME_EMBEDDING_SCALE).to(h0.dtype)) + condition
        positions = self.rotary(h0.shape[1], device=h0.device, dtype=h0.dtype)
        attention_mask = mask[:, None, None, :]
        cross_mask = context_mask[:, None, None, :]
        h = h0
        for block in self.blocks:
            h, _, _ = block(h, c, attention_mask, positions, context, cross_mask)
        h = self.skip(torch.cat([h, h0], dim=-1))
        shift, scale = self.final_modulation(c)
        return self.output(self.final_norm(h) * (1 + scale) + shift)
