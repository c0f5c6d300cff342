"""Configuration of the CTC phoneme recogniser (the offline intelligibility proxy)."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from ..text.inventory import PHONEMES

__all__ = ["PHONEME_RECOGNIZER_PRESETS", "PhonemeRecognizerConfig"]

#: size presets (``PhonemeRecognizerConfig.preset(name)``)
PHONEME_RECOGNIZER_PRESETS: dict[str, dict] = {
    "tiny": {"hidden_size": 64, "num_conv_layers": 2, "num_lstm_layers": 1},
    "small": {"hidden_size": 192, "num_conv_layers": 3, "num_lstm_layers": 1},
    "base": {"hidden_size": 384, "num_conv_layers": 4, "num_lstm_layers": 3},
}


@strict
class PhonemeRecognizerConfig(PreTrainedConfig):
    r"""A small CTC recogniser of our phonemes from our 80-bin log-mels.

    ``log-mel (B, T, num_mel_bins) → Linear → Conv1d(kernel, stride = subsampling) →
    num_conv_layers × [Conv1d(kernel) → GELU → LayerNorm, residual] → num_lstm_layers BiLSTM →
    Linear → (B, ceil(T / subsampling), 1 + len(phonemes))``, CTC
    with the blank at id 0 (``blank_id``). Word boundaries are not recognised; stress is (``ˈa`` and
    ``a`` are two symbols) unless ``keep_stress=False`` folds it.

    Args:
        num_mel_bins: log-mel bins per frame (the feature extractor's ``feature_size``).
        phonemes: the output symbols after the blank (default: our whole phoneme inventory).
        keep_stress: recognise stressed and unstressed vowels apart.
        hidden_size / num_conv_layers / conv_kernel_size / num_lstm_layers: the network's sizes.
        subsampling: time stride of the first convolution (2: ~43 outputs/s for ~12 phonemes/s,
            half the recurrent work).
        dropout: after the input projection, each convolution block and the BiLSTM.
        mean_normalize_input: subtract each utterance's mean log-mel (over real frames).
        initializer_range: std of the normal init of Linear and Conv weights.

    Example:
        >>> config = PhonemeRecognizerConfig.preset("tiny")
        >>> config.num_symbols == 1 + len(config.phonemes)
        True
    """

    model_type = "prosody_tts_phoneme_recognizer"

    num_mel_bins: int = 80
    phonemes: list[str] | tuple[str, ...] = PHONEMES
    keep_stress: bool = True
    hidden_size: int = 192
    num_conv_layers: int = 3
    conv_kernel_size: int = 5
    num_lstm_layers: int = 2
    subsampling: int = 2
    dropout: float = 0.1
    mean_normalize_input: bool = True
    blank_id: int = 0
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        from ..text.inventory import phoneme_identity

        self.phonemes = [str(p) for p in self.phonemes]
        if not self.keep_stress:
            self.phonemes = list(dict.fromkeys(phoneme_identity(p, keep_stress=False) for p in self.phonemes))
        if len(set(self.phonemes)) != len(self.phonemes) or not self.phonemes:
            raise ValueError("phonemes must be a non-empty list of distinct symbols")
        if self.blank_id != 0:
            raise ValueError(f"blank_id must be 0 (the CTC blank comes first), got {self.blank_id}")
        for name in ("num_mel_bins", "hidden_size", "num_conv_layers", "num_lstm_layers", "subsampling"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.conv_kernel_size < 1 or self.conv_kernel_size % 2 == 0:
            raise ValueError(f"conv_kernel_size must be odd and positive ('same' padding), got {self.conv_kernel_size}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        super().__post_init__(**kwargs)

    @property
    def num_symbols(self) -> int:
        """The blank plus the phonemes (the output layer's size)."""
        return 1 + len(self.phonemes)

    @classmethod
    def preset(cls, name: str, **overrides) -> PhonemeRecognizerConfig:
        """``tiny`` | ``small`` | ``base`` (see :data:`PHONEME_RECOGNIZER_PRESETS`)."""
        if name not in PHONEME_RECOGNIZER_PRESETS:
            raise ValueError(f"unknown recogniser preset {name!r}; known: {', '.join(PHONEME_RECOGNIZER_PRESETS)}")
        return cls(**{**PHONEME_RECOGNIZER_PRESETS[name], **overrides})

    @classmethod
    def tiny(cls, **overrides) -> PhonemeRecognizerConfig:
        return cls.preset("tiny", **overrides)
