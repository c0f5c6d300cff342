"""HiFi-GAN's discriminators: multi-period (MPD) and multi-scale (MSD), as in the original repository.

::

    waveform (B, 1, S)
      ├─ MPD: for each period p: reflect-pad S to a multiple of p ─ fold ─► (B, 1, S / p, p)
      │        ─ Conv2d (k × 1, stride s × 1) + LeakyReLU, ... ─ conv_post ─► score (B, ·), feature maps
      └─ MSD: for each scale i: (avg-pool 2× if i > 0) ─ grouped Conv1d + LeakyReLU, ... ─ conv_post
               ─► score (B, ·), feature maps          (scale 0 spectral norm, the others weight norm)

Not in transformers (it ships HiFi-GAN generators only), so written here after the original
``models.py``; the layer sizes come from :class:`~prosody_tts.configuration.hifigan_training.HifiGanDiscriminatorConfig`.

Example:
    >>> from prosody_tts.configuration.hifigan_training import HifiGanDiscriminatorConfig
    >>> d = HifiGanDiscriminator(HifiGanDiscriminatorConfig.tiny())
    >>> out = d(torch.zeros(2, 1, 1024))
    >>> len(out.scores), len(out.feature_maps)
    (5, 5)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ..configuration.hifigan_training import HifiGanDiscriminatorConfig

__all__ = [
    "HifiGanDiscriminator",
    "HifiGanDiscriminatorOutput",
    "MultiPeriodDiscriminator",
    "MultiScaleDiscriminator",
    "PeriodDiscriminator",
    "ScaleDiscriminator",
]

Norm = Callable[[nn.Module], nn.Module]


def _weight_norm(module: nn.Module) -> nn.Module:
    return nn.utils.parametrizations.weight_norm(module)


def _spectral_norm(module: nn.Module) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module)


def _score(convs: nn.ModuleList, conv_post: nn.Module, hidden: torch.Tensor, slope: float) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Convolutions with LeakyReLU, then ``conv_post``: the flattened scores and every layer's output."""
    maps = []
    for conv in convs:
        hidden = nn.functional.leaky_relu(conv(hidden), slope)
        maps.append(hidden)
    hidden = conv_post(hidden)
    maps.append(hidden)
    return torch.flatten(hidden, 1, -1), maps


@dataclass
class HifiGanDiscriminatorOutput(ModelOutput):
    """Scores and feature maps of every sub-discriminator (periods first, then scales).

    Args:
        scores: one (B, ·) tensor of patch scores per sub-discriminator.
        feature_maps: per sub-discriminator, the activations after each layer (conv_post's included).
    """

    scores: list[torch.Tensor] | None = None
    feature_maps: list[list[torch.Tensor]] | None = None


class PeriodDiscriminator(nn.Module):
    """One period of the MPD: the waveform folded into ``period`` columns, 2-D convolutions along time.

    Example:
        >>> scores, maps = PeriodDiscriminator(3, [4, 8])(torch.zeros(1, 1, 100))
        >>> scores.shape[0], len(maps)
        (1, 4)
    """

    def __init__(self, period: int, channels: list[int], kernel_size: int = 5, stride: int = 3, slope: float = 0.1, norm: Norm = _weight_norm) -> None:
        super().__init__()
        self.period, self.slope = period, slope
        pad = (kernel_size - 1) // 2
        sizes = [1, *channels]
        convs = [nn.Conv2d(a, b, (kernel_size, 1), (stride, 1), padding=(pad, 0)) for a, b in itertools.pairwise(sizes)]
        convs.append(nn.Conv2d(channels[-1], channels[-1], (kernel_size, 1), 1, padding=(pad, 0)))
        self.convs = nn.ModuleList(norm(conv) for conv in convs)
        self.conv_post = norm(nn.Conv2d(channels[-1], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        batch, channels, samples = waveform.shape
        if samples % self.period:
            waveform = nn.functional.pad(waveform, (0, self.period - samples % self.period), "reflect")
        return _score(self.convs, self.conv_post, waveform.view(batch, channels, -1, self.period), self.slope)


class ScaleDiscriminator(nn.Module):
    """One scale of the MSD: grouped 1-D convolutions over the (pooled) waveform.

    Example:
        >>> scores, maps = ScaleDiscriminator([4, 8], [15, 5], [1, 2], [1, 4])(torch.zeros(1, 1, 64))
        >>> scores.shape, len(maps)
        (torch.Size([1, 32]), 3)
    """

    def __init__(self, channels: list[int], kernel_sizes: list[int], strides: list[int], groups: list[int], slope: float = 0.1, norm: Norm = _weight_norm) -> None:
        super().__init__()
        self.slope = slope
        sizes = [1, *channels]
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(a, b, k, s, groups=g, padding=(k - 1) // 2))
            for a, b, k, s, g in zip(sizes[:-1], sizes[1:], kernel_sizes, strides, groups, strict=True)
        )
        self.conv_post = norm(nn.Conv1d(channels[-1], 1, 3, 1, padding=1))

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return _score(self.convs, self.conv_post, waveform, self.slope)


class MultiPeriodDiscriminator(nn.Module):
    """One :class:`PeriodDiscriminator` per ``config.periods``."""

    def __init__(self, config: HifiGanDiscriminatorConfig) -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(
            PeriodDiscriminator(p, list(config.period_channels), config.period_kernel_size, config.period_stride, config.leaky_relu_slope)
            for p in config.periods
        )

    def forward(self, waveform: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return [d(waveform) for d in self.discriminators]


class MultiScaleDiscriminator(nn.Module):
    """``config.scales`` :class:`ScaleDiscriminator` s, each next one on a 2× average-pooled waveform."""

    def __init__(self, config: HifiGanDiscriminatorConfig) -> None:
        super().__init__()
        layers = (list(config.scale_channels), list(config.scale_kernel_sizes), list(config.scale_strides), list(config.scale_groups))
        self.discriminators = nn.ModuleList(
            ScaleDiscriminator(*layers, config.leaky_relu_slope, norm=_spectral_norm if i == 0 else _weight_norm)
            for i in range(config.scales)
        )
        self.pool = nn.AvgPool1d(config.pool_kernel_size, config.pool_stride, padding=config.pool_padding)

    def forward(self, waveform: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        outputs = []
        for i, discriminator in enumerate(self.discriminators):
            if i > 0:
                waveform = self.pool(waveform)
            outputs.append(discriminator(waveform))
        return outputs


class HifiGanDiscriminator(PreTrainedModel):
    """The MPD and the MSD together; ``forward`` returns every sub-discriminator's scores and maps.

    Args:
        config: a :class:`HifiGanDiscriminatorConfig`.
    """

    config_class = HifiGanDiscriminatorConfig
    main_input_name = "waveform"

    def __init__(self, config: HifiGanDiscriminatorConfig) -> None:
        super().__init__(config)
        self.period = MultiPeriodDiscriminator(config)
        self.scale = MultiScaleDiscriminator(config)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """Nothing re-drawn: the convolutions keep PyTorch's default init, as in the original (its
        ``init_weights`` touches the generator only); the norms are computed from it at construction."""

    def forward(self, waveform: torch.Tensor, return_dict: bool | None = None) -> HifiGanDiscriminatorOutput | tuple:
        """Scores of (B, 1, samples) or (B, samples) waveforms."""
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if waveform.dim() == 2:
            waveform = waveform[:, None, :]
        if waveform.dim() != 3 or waveform.shape[1] != 1:
            raise ValueError(f"waveform must be (batch, samples) or (batch, 1, samples), got {tuple(waveform.shape)}")
        results = [*self.period(waveform), *self.scale(waveform)]
        output = HifiGanDiscriminatorOutput(scores=[r[0] for r in results], feature_maps=[r[1] for r in results])
        return output if return_dict else output.to_tuple()
