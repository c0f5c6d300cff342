"""Configuration of HiFi-GAN's adversarial training: the discriminators and the generator's losses.

::

    HifiGanTrainingConfig
      ├─ generator_config       HifiGanConfig (the vocoder that is saved for inference)
      ├─ discriminator_config   HifiGanDiscriminatorConfig (multi-period + multi-scale)
      └─ loss weights, the loss mel's f_max, weight norm during training

Defaults are the original repository's (jik876/hifi-gan ``models.py`` and ``train.py``): periods
2, 3, 5, 7, 11; three scales; mel L1 × 45, feature matching × 2, least-squares adversarial losses.
"""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .hifigan import HifiGanConfig

__all__ = ["HifiGanDiscriminatorConfig", "HifiGanTrainingConfig"]


@strict
class HifiGanDiscriminatorConfig(PreTrainedConfig):
    r"""HiFi-GAN's multi-period (MPD) and multi-scale (MSD) discriminators.

    Args:
        periods: one period discriminator per period (the waveform folded into (T / p, p)).
        period_channels: output channels of the period discriminator's strided (k × 1) convolutions;
            the last one is repeated by one more unstrided convolution, as in the original.
        period_kernel_size / period_stride: of those convolutions.
        scales: scale discriminators (the first on the waveform with spectral norm, each next one
            after a 2× average pooling, with weight norm).
        scale_channels / scale_kernel_sizes / scale_strides / scale_groups: the scale discriminator's
            convolutions, one entry each.
        pool_kernel_size / pool_stride / pool_padding: the average pooling between scales.
        leaky_relu_slope: after every convolution but the last.

    Example:
        >>> HifiGanDiscriminatorConfig().periods, HifiGanDiscriminatorConfig.tiny().scale_channels[-1]
        ([2, 3, 5, 7, 11], 32)
    """

    model_type = "prosody_tts_hifigan_discriminator"

    periods: list[int] | tuple[int, ...] = (2, 3, 5, 7, 11)
    period_channels: list[int] | tuple[int, ...] = (32, 128, 512, 1024)
    period_kernel_size: int = 5
    period_stride: int = 3
    scales: int = 3
    scale_channels: list[int] | tuple[int, ...] = (128, 128, 256, 512, 1024, 1024, 1024)
    scale_kernel_sizes: list[int] | tuple[int, ...] = (15, 41, 41, 41, 41, 41, 5)
    scale_strides: list[int] | tuple[int, ...] = (1, 2, 2, 4, 4, 1, 1)
    scale_groups: list[int] | tuple[int, ...] = (1, 4, 16, 16, 16, 16, 1)
    pool_kernel_size: int = 4
    pool_stride: int = 2
    pool_padding: int = 2
    leaky_relu_slope: float = 0.1
    initializer_range: float = 0.01

    def __post_init__(self, **kwargs: Any) -> None:
        scale = (self.scale_channels, self.scale_kernel_sizes, self.scale_strides, self.scale_groups)
        if len({len(x) for x in scale}) != 1:
            raise ValueError("scale_channels, scale_kernel_sizes, scale_strides and scale_groups need one entry per layer")
        channels_in = [1, *self.scale_channels[:-1]]
        for i, (c_in, c_out, groups) in enumerate(zip(channels_in, self.scale_channels, self.scale_groups, strict=True)):
            if c_in % groups or c_out % groups:
                raise ValueError(f"scale layer {i}: channels {c_in} → {c_out} are not divisible by groups {groups}")
        if any(k % 2 == 0 for k in self.scale_kernel_sizes) or self.period_kernel_size % 2 == 0:
            raise ValueError("discriminator kernel sizes must be odd (symmetric padding)")
        if not self.periods or self.scales < 1 or not self.period_channels:
            raise ValueError("need at least one period, one scale and one period channel")
        super().__post_init__(**kwargs)

    @classmethod
    def tiny(cls, **overrides: Any) -> HifiGanDiscriminatorConfig:
        """A CPU-sized pair (tests, the demo): the original's layout with few channels."""
        values: dict[str, Any] = dict(
            periods=[2, 3, 5], period_channels=[8, 16, 32], scales=2,
            scale_channels=[16, 16, 32, 32, 32], scale_kernel_sizes=[15, 41, 41, 41, 5],
            scale_strides=[1, 2, 4, 4, 1], scale_groups=[1, 4, 16, 16, 1],
        )  # fmt: skip
        values.update(overrides)
        return cls(**values)


@strict
class HifiGanTrainingConfig(PreTrainedConfig):
    r"""A generator, its discriminators and the GAN losses (what a vocoder checkpoint holds).

    Args:
        generator_config / discriminator_config: the two sub-configs (defaults: V1, the original pair).
        mel_loss_weight: weight of the L1 between the log-mels of the real and generated waveforms (45).
        feature_matching_weight: weight of the L1 between the discriminators' feature maps (2).
        loss_f_max: top of the loss mels' filterbank (None: Nyquist, the original's ``fmax_for_loss``);
            every other setting of the loss mels is the generator's.
        weight_norm: train the generator with weight norm, as the original (saved generators are
            folded).
        loss_magnitude_eps: added under the square root of the loss mels' |STFT|² (the original's
            1e-9), so the magnitude has a gradient at silent bins.

    Example:
        >>> HifiGanTrainingConfig().generator_config.upsample_rates
        [8, 8, 2, 2]
    """

    model_type = "prosody_tts_hifigan_training"
    sub_configs_defaults = {
        "generator_config": SubConfigSpec(AutoConfig, model_type=HifiGanConfig.model_type),
        "discriminator_config": SubConfigSpec(AutoConfig, model_type=HifiGanDiscriminatorConfig.model_type),
    }

    generator_config: dict | PreTrainedConfig | None = None
    discriminator_config: dict | PreTrainedConfig | None = None
    mel_loss_weight: float = 45.0
    feature_matching_weight: float = 2.0
    loss_f_max: float | None = None
    weight_norm: bool = True
    loss_magnitude_eps: float = 1e-9

    def __post_init__(self, **kwargs: Any) -> None:
        super().__post_init__(**kwargs)
        if self.mel_loss_weight < 0 or self.feature_matching_weight < 0:
            raise ValueError("loss weights must be >= 0")
        nyquist = self.generator_config.sampling_rate / 2
        if self.loss_f_max is not None and not 0 < self.loss_f_max <= nyquist:
            raise ValueError(f"loss_f_max must be in (0, {nyquist:g}] Hz or None, got {self.loss_f_max}")

    @classmethod
    def tiny(cls, **overrides: Any) -> HifiGanTrainingConfig:
        """The tiny generator and discriminators."""
        values: dict[str, Any] = dict(generator_config=HifiGanConfig.tiny(), discriminator_config=HifiGanDiscriminatorConfig.tiny())
        values.update(overrides)
        return cls(**values)
