"""Configuration of the HiFi-GAN vocoder: transformers' ``SpeechT5HifiGanConfig`` plus what it lacks.

``SpeechT5HifiGanConfig`` already holds the generator (upsample rates and kernels, the
multi-receptive-field blocks, ``sampling_rate``, input normalisation). This config adds:

* ``resblock``: ``"1"`` (V1, V2: two convolutions per dilation) or ``"2"`` (V3: one), as the
  original repository's ``config.json`` names them;
* the mel settings of the log-mels the generator was trained on (:data:`~.vocoder.MEL_SETTINGS`),
  so a mismatched TTS model or feature extractor is refused with the differing fields named;
* presets for the original repository's V1, V2, V3 (22.05 kHz) and a tiny CPU size;
* :meth:`HifiGanConfig.from_original` for the original ``config.json``.

The defaults are V1 at 22.05 kHz with this project's mels (natural log of the magnitude mel,
clamped at 1e-5, Slaney filterbank up to 8 kHz): the original HiFi-GAN's ``mel_spectrogram``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import SpeechT5HifiGanConfig

from .vocoder import MelSettingsMixin

__all__ = ["HIFIGAN_PRESETS", "RESBLOCK_KINDS", "HifiGanConfig"]

#: ``resblock`` values: the original repository's ResBlock1 and ResBlock2.
RESBLOCK_KINDS: tuple[str, ...] = ("1", "2")

#: Generator sizes of the original repository's configs (config_v1/v2/v3.json) and a tiny CPU one.
HIFIGAN_PRESETS: dict[str, dict[str, Any]] = {
    "v1": {
        "resblock": "1", "upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
        "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    },
    "v2": {
        "resblock": "1", "upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
        "upsample_initial_channel": 128, "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    },
    "v3": {
        "resblock": "2", "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
        "upsample_initial_channel": 256, "resblock_kernel_sizes": [3, 5, 7],
        "resblock_dilation_sizes": [[1, 2], [2, 6], [3, 12]],
    },
    "tiny": {
        "resblock": "1", "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
        "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7],
        "resblock_dilation_sizes": [[1, 3], [1, 3]],
    },
}  # fmt: skip

#: original config.json key → ours (the mel settings; the generator keys have the same names).
_ORIGINAL_MEL_KEYS = {
    "num_mels": "model_in_dim", "sampling_rate": "sampling_rate", "n_fft": "n_fft",
    "hop_size": "hop_length", "win_size": "win_length", "fmin": "f_min", "fmax": "f_max",
}  # fmt: skip
_ORIGINAL_GENERATOR_KEYS = (
    "resblock", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel",
    "resblock_kernel_sizes", "resblock_dilation_sizes",
)  # fmt: skip


@strict
class HifiGanConfig(MelSettingsMixin, SpeechT5HifiGanConfig):
    r"""HiFi-GAN generator (``SpeechT5HifiGanConfig``'s fields) + ``resblock`` + the mel settings.

    Args:
        model_in_dim: mel bins of the input (``num_mel_bins`` is an alias read by the checks).
        upsample_rates / upsample_kernel_sizes / upsample_initial_channel / resblock_kernel_sizes /
            resblock_dilation_sizes / leaky_relu_slope / normalize_before: as in ``SpeechT5HifiGanConfig``
            (``normalize_before`` is off: the original generator reads the log-mels as they are).
        resblock: ``"1"`` or ``"2"`` (see the module docstring).
        sampling_rate / n_fft / hop_length / win_length / f_min / f_max / mel_scale / mel_norm /
            log_floor: the mels the generator inverts; ``hop_length`` must equal the product of
            ``upsample_rates`` (one frame → ``hop_length`` samples).

    Example:
        >>> config = HifiGanConfig.preset("v3")
        >>> config.resblock, config.hop_length, config.num_mel_bins
        ('2', 256, 80)
    """

    model_type = "prosody_tts_hifigan"
    mel_bins_field = "model_in_dim"

    sampling_rate: int = 22050
    upsample_rates: list[int] | tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: list[int] | tuple[int, ...] = (16, 16, 4, 4)
    normalize_before: bool = False
    resblock: str = "1"
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    f_min: float = 0.0
    f_max: float | None = 8000.0
    mel_scale: str = "slaney"
    mel_norm: str | None = "slaney"
    log_floor: float = 1e-5

    def __post_init__(self, **kwargs: Any) -> None:
        if self.resblock not in RESBLOCK_KINDS:
            raise ValueError(f"resblock must be one of {RESBLOCK_KINDS}, got {self.resblock!r}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ValueError(
                f"upsample_rates {list(self.upsample_rates)} and upsample_kernel_sizes "
                f"{list(self.upsample_kernel_sizes)} must have the same length"
            )
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ValueError("resblock_kernel_sizes and resblock_dilation_sizes must have the same length")
        if math.prod(self.upsample_rates) != self.hop_length:
            raise ValueError(
                f"the upsample rates {list(self.upsample_rates)} make {math.prod(self.upsample_rates)} samples "
                f"per frame, but hop_length is {self.hop_length}"
            )
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            raise ValueError(
                f"upsample_initial_channel ({self.upsample_initial_channel}) must halve "
                f"{len(self.upsample_rates)} times"
            )
        if any((k - r) % 2 for k, r in zip(self.upsample_kernel_sizes, self.upsample_rates, strict=True)):
            raise ValueError("each upsample kernel size minus its rate must be even (symmetric padding)")
        super().__post_init__(**kwargs)

    @property
    def num_mel_bins(self) -> int:
        """Mel bins of the input (``model_in_dim``), by the name the other vocoders use."""
        return self.model_in_dim

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> HifiGanConfig:
        """A config of :data:`HIFIGAN_PRESETS` (``"v1"``, ``"v2"``, ``"v3"``, ``"tiny"``)."""
        if name not in HIFIGAN_PRESETS:
            raise ValueError(f"unknown HiFi-GAN preset {name!r}; choose one of {sorted(HIFIGAN_PRESETS)}")
        return cls(**{**HIFIGAN_PRESETS[name], **overrides})

    @classmethod
    def tiny(cls, **overrides: Any) -> HifiGanConfig:
        """The tiny CPU size (tests, the demo)."""
        return cls.preset("tiny", **overrides)

    @classmethod
    def from_original(cls, original: Mapping[str, Any], **overrides: Any) -> HifiGanConfig:
        """Ours from the original repository's ``config.json`` (the generator and the mel settings).

        Training keys (batch size, learning rate, segment size, ...) are not part of the model;
        they belong in a recipe. ``fmax_for_loss`` only changes the training loss's mels.
        """
        missing = [k for k in (*_ORIGINAL_GENERATOR_KEYS, *_ORIGINAL_MEL_KEYS) if k not in original]
        if missing:
            raise ValueError(f"not an original HiFi-GAN config.json: missing {missing}")
        values: dict[str, Any] = {key: original[key] for key in _ORIGINAL_GENERATOR_KEYS}
        values["resblock"] = str(values["resblock"])
        values.update({ours: original[theirs] for theirs, ours in _ORIGINAL_MEL_KEYS.items()})
        values["f_min"] = float(values["f_min"])
        values["f_max"] = None if values["f_max"] is None else float(values["f_max"])
        values.update(overrides)
        return cls(**values)
