"""The faithful Grad-TTS text encoder (Glow-TTS' transformer), the baseline beside our dual-stream encoder.

::

    ids (B, N) ─ embedding × √C ─► (B, C, N) ─ prenet: 3 × [conv 5 → LayerNorm → ReLU → dropout] + residual
      [─ concat speaker (B, S) on channels, multi-speaker only]
      ─ n_layers × post-norm [relative-position MHA (window ±w) → LayerNorm, conv FFN → LayerNorm]
      ─► h (B, C', N) ─┬─ proj_m (1×1) ─► μ (B, n_mels, N)
                       └─ detach ─ DurationPredictor ─► log w (B, 1, N)

Channels-first tensors and masks (B, 1, N), as in the official code, whose attribute and
parameter names (``emb``, ``prenet``, ``encoder.attn_layers``, ``norm_layers_1``, ``gamma`` /
``beta``, ``emb_rel_k``, ``proj_m``, ``proj_w``, …) this module keeps so that a released state
dict loads key for key.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ChannelLayerNorm", "ConvReluNorm", "DurationPredictor", "GradTTSTextEncoder", "RelativeMultiHeadAttention"]


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of (B, C, N) tensors (parameters ``gamma`` and ``beta``)."""

    def __init__(self, channels: int, eps: float = 1e-4) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.mean(x, 1, keepdim=True)
        variance = torch.mean((x - mean) ** 2, 1, keepdim=True)
        x = (x - mean) * torch.rsqrt(variance + self.eps)
        return x * self.gamma[None, :, None] + self.beta[None, :, None]


class ConvReluNorm(nn.Module):
    """The prenet: ``n_layers`` × [conv → LayerNorm → ReLU → dropout], a zero-initialised 1×1 projection, residual."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        padding = kernel_size // 2
        self.conv_layers = nn.ModuleList(nn.Conv1d(channels, channels, kernel_size, padding=padding) for _ in range(n_layers))
        self.norm_layers = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.relu_drop = nn.Sequential(nn.ReLU(), nn.Dropout(dropout))
        self.proj = nn.Conv1d(channels, channels, 1)  # zero-initialised by the model's _init_weights

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        original = x
        for conv, norm in zip(self.conv_layers, self.norm_layers, strict=True):
            x = self.relu_drop(norm(conv(x * mask)))
        return (original + self.proj(x)) * mask


class DurationPredictor(nn.Module):
    """log-duration per token: 2 × [conv → ReLU → LayerNorm → dropout], 1×1 projection."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        padding = kernel_size // 2
        self.drop = nn.Dropout(dropout)
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=padding)
        self.norm_1 = ChannelLayerNorm(filter_channels)
        self.conv_2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=padding)
        self.norm_2 = ChannelLayerNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.norm_1(torch.relu(self.conv_1(x * mask))))
        x = self.drop(self.norm_2(torch.relu(self.conv_2(x * mask))))
        return self.proj(x * mask) * mask


class RelativeMultiHeadAttention(nn.Module):
    """Self-attention with relative-position keys and values shared by the heads, window ±``window_size``."""

    def __init__(self, channels: int, n_heads: int, window_size: int, dropout: float) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"channels ({channels}) must be divisible by n_heads ({n_heads})")
        self.n_heads, self.window_size = n_heads, window_size
        self.k_channels = channels // n_heads
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window_size + 1, self.k_channels) * self.k_channels**-0.5)
        self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window_size + 1, self.k_channels) * self.k_channels**-0.5)
        self.conv_o = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def _relative_embeddings(self, table: torch.Tensor, length: int) -> torch.Tensor:
        """(1, 2·length − 1, k) rows for offsets −(length−1) … length−1 (zeros beyond the window)."""
        pad = max(length - (self.window_size + 1), 0)
        start = max((self.window_size + 1) - length, 0)
        if pad > 0:
            table = F.pad(table, (0, 0, pad, pad))
        return table[:, start : start + 2 * length - 1]

    @staticmethod
    def _relative_to_absolute(x: torch.Tensor) -> torch.Tensor:
        """(B, H, N, 2N−1) logits by relative offset → (B, H, N, N) by absolute position."""
        batch, heads, length, _ = x.shape
        x = F.pad(x, (0, 1)).reshape(batch, heads, length * 2 * length)
        x = F.pad(x, (0, length - 1)).reshape(batch, heads, length + 1, 2 * length - 1)
        return x[:, :, :length, length - 1 :]

    @staticmethod
    def _absolute_to_relative(x: torch.Tensor) -> torch.Tensor:
        """(B, H, N, N) weights by absolute position → (B, H, N, 2N−1) by relative offset."""
        batch, heads, length, _ = x.shape
        x = F.pad(x, (0, length - 1)).reshape(batch, heads, length**2 + length * (length - 1))
        x = F.pad(x, (length, 0)).reshape(batch, heads, length, 2 * length)
        return x[:, :, :, 1:]

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        """(B, C, N) → (B, C, N); ``attn_mask`` (B, 1, N, N), 0 where a query may not see a key."""
        batch, channels, length = x.shape
        split = lambda t: t.reshape(batch, self.n_heads, self.k_channels, length).transpose(2, 3)  # noqa: E731
        query, key, value = split(self.conv_q(x)), split(self.conv_k(x)), split(self.conv_v(x))  # (B, H, N, k)
        scale = math.sqrt(self.k_channels)
        scores = torch.matmul(query, key.transpose(-2, -1)) / scale  # (B, H, N, N)
        relative_keys = self._relative_embeddings(self.emb_rel_k, length)  # (1, 2N-1, k)
        scores = scores + self._relative_to_absolute(torch.matmul(query, relative_keys.unsqueeze(0).transpose(-2, -1))) / scale
        scores = scores.masked_fill(attn_mask == 0, -1e4)
        weights = self.drop(F.softmax(scores, dim=-1))
        output = torch.matmul(weights, value)
        relative_values = self._relative_embeddings(self.emb_rel_v, length)
        output = output + torch.matmul(self._absolute_to_relative(weights), relative_values.unsqueeze(0))
        return self.conv_o(output.transpose(2, 3).reshape(batch, channels, length))


class FeedForward1d(nn.Module):
    """conv (kernel k) → ReLU → dropout → conv (kernel k), masked."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        padding = kernel_size // 2
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size, padding=padding)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size, padding=padding)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.conv_1(x * mask)))
        return self.conv_2(x * mask) * mask


class RelativeTransformer(nn.Module):
    """``n_layers`` post-norm blocks of :class:`RelativeMultiHeadAttention` and :class:`FeedForward1d`."""

    def __init__(
        self, channels: int, filter_channels: int, n_heads: int, n_layers: int, kernel_size: int, dropout: float, window_size: int
    ) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.attn_layers = nn.ModuleList(RelativeMultiHeadAttention(channels, n_heads, window_size, dropout) for _ in range(n_layers))
        self.norm_layers_1 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.ffn_layers = nn.ModuleList(FeedForward1d(channels, filter_channels, kernel_size, dropout) for _ in range(n_layers))
        self.norm_layers_2 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)  # (B, 1, N, N)
        for attn, norm_1, ffn, norm_2 in zip(self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2, strict=True):
            x = x * mask
            x = norm_1(x + self.drop(attn(x, attn_mask)))
            x = norm_2(x + self.drop(ffn(x, mask)))
        return x * mask


class GradTTSTextEncoder(nn.Module):
    """Token ids → μ (B, n_mels, N), log-durations (B, 1, N) and the mask (B, 1, N)."""

    def __init__(self, config) -> None:  # a GradTTSConfig (imported by the model, not here)
        super().__init__()
        channels = config.encoder_channels
        self.channels = channels
        self.speaker_dim = config.speaker_embedding_dim if config.encoder_speaker_conditioning else 0
        self.emb = nn.Embedding(config.vocab_size, channels)
        self.prenet = ConvReluNorm(channels, config.prenet_kernel_size, config.prenet_layers, config.prenet_dropout)
        width = channels + self.speaker_dim
        self.encoder = RelativeTransformer(
            width, config.encoder_ffn_channels, config.encoder_heads, config.encoder_layers,
            config.encoder_kernel_size, config.encoder_dropout, config.encoder_window_size,
        )  # fmt: skip
        self.proj_m = nn.Conv1d(width, config.n_mels, 1)
        self.proj_w = DurationPredictor(
            width, config.duration_predictor_channels, config.encoder_kernel_size, config.encoder_dropout
        )

    def forward(
        self, input_ids: torch.Tensor, mask: torch.Tensor, speaker: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N) ids, (B, 1, N) mask [, (B, S) speaker] → μ (B, M, N), log w (B, 1, N)."""
        x = (self.emb(input_ids) * math.sqrt(self.channels)).transpose(1, 2)  # (B, C, N)
        x = self.prenet(x, mask)
        if self.speaker_dim:
            x = torch.cat([x, speaker.unsqueeze(-1).expand(-1, -1, x.shape[-1])], dim=1)
        x = self.encoder(x, mask)
        mu = self.proj_m(x) * mask
        log_durations = self.proj_w(x.detach(), mask)  # the predictor does not train the encoder
        return mu, log_durations
