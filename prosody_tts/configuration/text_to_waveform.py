"""Configuration of the composite text-to-waveform model: a TTS head and a vocoder, one directory.

``tts_config`` and ``vocoder_config`` are any registered configs (resolved by their
``model_type``): today Grad-TTS and Griffin-Lim; HiFi-GAN or a latent-diffusion head plug into
the same slots. The synthesis defaults live here, so ``pipeline("text-to-speech", model=DIR)``
speaks with them and a caller overrides them per call through ``forward_params``.
"""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .grad_tts import GradTTSConfig
from .vocoder import GriffinLimConfig

__all__ = ["TextToWaveformConfig"]


@strict
class TextToWaveformConfig(PreTrainedConfig):
    r"""A TTS head and a vocoder with matching mel settings, and the synthesis defaults.

    Args:
        tts_config: the text-to-spectrogram model's config (default: Grad-TTS).
        vocoder_config: the vocoder's config (default: Griffin-Lim); its ``sampling_rate`` is the
            output's.
        n_timesteps / temperature / length_scale: synthesis defaults (10, 1.5, 1.0).
        seed: seeds every call's starting noise (same text → same audio); None draws from the
            global RNG.

    Example:
        >>> config = TextToWaveformConfig()
        >>> config.sampling_rate, config.tts_config.model_type, config.vocoder_config.model_type
        (22050, 'prosody_tts_grad_tts', 'prosody_tts_griffin_lim')
    """

    model_type = "prosody_tts_text_to_waveform"
    sub_configs_defaults = {
        "tts_config": SubConfigSpec(AutoConfig, model_type=GradTTSConfig.model_type),
        "vocoder_config": SubConfigSpec(AutoConfig, model_type=GriffinLimConfig.model_type),
    }

    tts_config: dict | PreTrainedConfig | None = None
    vocoder_config: dict | PreTrainedConfig | None = None
    n_timesteps: int = 10
    temperature: float = 1.5
    length_scale: float = 1.0
    seed: int | None = 0

    def __post_init__(self, **kwargs: Any) -> None:
        super().__post_init__(**kwargs)  # builds both sub-configs from dicts (by model_type) or defaults
        tts, vocoder = self.tts_config, self.vocoder_config
        pairs = {
            "n_mels / num_mel_bins": (getattr(tts, "n_mels", None), getattr(vocoder, "num_mel_bins", None)),
            "sampling_rate": (getattr(tts, "sampling_rate", None), getattr(vocoder, "sampling_rate", None)),
            "hop_length": (getattr(tts, "hop_length", None), getattr(vocoder, "hop_length", None)),
        }
        different = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
        if different:
            raise ValueError(f"the TTS model and the vocoder disagree on (tts, vocoder): {different}")
        if self.n_timesteps < 1 or self.temperature <= 0 or self.length_scale <= 0:
            raise ValueError("need n_timesteps >= 1, temperature > 0 and length_scale > 0")

    @property
    def sampling_rate(self) -> int:
        """The waveform's rate (the vocoder's); the text-to-speech pipeline reads it."""
        return int(self.vocoder_config.sampling_rate)
