"""Configuration of the weight-free vocoder (Griffin-Lim) and the mel settings every vocoder shares.

The mel settings must be those of the feature extractor whose log-mels the vocoder inverts:
:meth:`MelSettingsMixin.from_feature_extractor` copies them, and
:meth:`MelSettingsMixin.check_compatible` refuses a mismatched pair with the differing fields.
HiFi-GAN's config (:mod:`.hifigan`) uses the same mixin.
"""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

__all__ = ["MEL_SETTINGS", "GriffinLimConfig", "MelSettingsMixin"]

#: Fields that must agree between a vocoder and the feature extractor of its mels.
MEL_SETTINGS: tuple[str, ...] = (
    "sampling_rate", "n_fft", "hop_length", "win_length", "num_mel_bins", "f_min", "f_max",
    "mel_scale", "mel_norm", "log_floor",
)  # fmt: skip


class MelSettingsMixin:
    """``from_feature_extractor`` and ``check_compatible`` for a vocoder config holding :data:`MEL_SETTINGS`.

    ``mel_bins_field`` names the config field that holds the number of mel bins (the feature
    extractor calls it ``feature_size``).
    """

    mel_bins_field: str = "num_mel_bins"

    @classmethod
    def from_feature_extractor(cls, feature_extractor: Any, **overrides: Any) -> Any:
        """The vocoder of a :class:`~prosody_tts.processing.feature_extraction.MelFeatureExtractor`'s mels."""
        values = {name: getattr(feature_extractor, name) for name in MEL_SETTINGS if name != "num_mel_bins"}
        values[cls.mel_bins_field] = feature_extractor.feature_size
        values.update(overrides)
        return cls(**values)

    def mel_settings(self) -> dict[str, Any]:
        """The :data:`MEL_SETTINGS` of this vocoder, by the feature extractor's names (``num_mel_bins`` included)."""
        values = {name: getattr(self, name) for name in MEL_SETTINGS if name != "num_mel_bins"}
        values["num_mel_bins"] = getattr(self, self.mel_bins_field)
        return values

    def check_compatible(self, feature_extractor: Any) -> None:
        """Raise ``ValueError`` naming every mel setting on which the feature extractor disagrees."""
        theirs = {name: getattr(feature_extractor, name, None) for name in MEL_SETTINGS}
        theirs["num_mel_bins"] = getattr(feature_extractor, "feature_size", None)
        ours = self.mel_settings()
        different = {name: (ours[name], theirs[name]) for name in MEL_SETTINGS if ours[name] != theirs[name]}
        if different:
            described = ", ".join(
                f"{name}: vocoder {mine!r} vs mels {other!r}" for name, (mine, other) in different.items()
            )
            raise ValueError(f"the vocoder cannot invert these mels; mel settings differ ({described})")


@strict
class GriffinLimConfig(MelSettingsMixin, PreTrainedConfig):
    r"""Griffin-Lim phase reconstruction of log-mel spectrograms (fast Griffin-Lim with momentum).

    Args:
        sampling_rate / n_fft / hop_length / win_length: the STFT of the mels (the feature
            extractor's; periodic Hann window).
        num_mel_bins / f_min / f_max / mel_scale / mel_norm: the mel filterbank to invert.
        log_floor: the clamp of the log-mels (``exp`` of anything at or below ``log(log_floor)``
            is treated as silence).
        nnls_iter: multiplicative updates of the non-negative least-squares magnitude (0 = the
            clamped pseudo-inverse alone).
        n_iter: Griffin-Lim iterations (32 is the usual speed/quality point, 64 a little better).
        momentum: fast Griffin-Lim momentum (Perraudin et al. 2013; 0 = the original algorithm).
        power: exponent applied to the recovered linear magnitude before phase reconstruction
            (1.0 = the magnitude itself; > 1 sharpens, a common trick against the buzzy sound).
        init_phase: ``"random"`` (seeded by the ``generator`` of ``forward``) or ``"zeros"``.
        max_log_mel: log-mels above this are clamped to it, with a warning (real speech stays below
            ~3; an untrained or diverged TTS head can emit values whose ``exp`` overflows float32).

    Example:
        >>> GriffinLimConfig().hop_length, GriffinLimConfig().n_iter
        (256, 32)
    """

    model_type = "prosody_tts_griffin_lim"

    sampling_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    num_mel_bins: int = 80
    f_min: float = 0.0
    f_max: float | None = 8000.0
    mel_scale: str = "slaney"
    mel_norm: str | None = "slaney"
    log_floor: float = 1e-5
    nnls_iter: int = 100
    n_iter: int = 32
    momentum: float = 0.99
    power: float = 1.0
    init_phase: str = "random"
    max_log_mel: float = 10.0

    def __post_init__(self, **kwargs):
        if self.n_iter < 0 or self.nnls_iter < 0:
            raise ValueError(f"n_iter and nnls_iter must be >= 0, got {self.n_iter}, {self.nnls_iter}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.power <= 0:
            raise ValueError(f"power must be > 0, got {self.power}")
        if self.init_phase not in ("random", "zeros"):
            raise ValueError(f"init_phase must be 'random' or 'zeros', got {self.init_phase!r}")
        if self.win_length > self.n_fft or (self.n_fft - self.hop_length) % 2:
            raise ValueError(
                "need win_length <= n_fft and an even n_fft - hop_length (the extractor's framing)"
            )
        super().__post_init__(**kwargs)
