"""Configuration of the phoneme aligner (phoneme durations in frames for any transcribed speech)."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

__all__ = ["PHONEME_ALIGNER_PRESETS", "PhonemeAlignerConfig"]

#: size presets (``PhonemeAlignerConfig.preset(name)``)
PHONEME_ALIGNER_PRESETS: dict[str, dict] = {
    "tiny": {"hidden_size": 64, "attention_dim": 32, "num_text_layers": 2, "mel_hidden_size": 64},
    "small": {"hidden_size": 128, "attention_dim": 64, "num_text_layers": 3, "mel_hidden_size": 128},
    "base": {"hidden_size": 256, "attention_dim": 80, "num_text_layers": 3, "mel_hidden_size": 160},
}


@strict
class PhonemeAlignerConfig(PreTrainedConfig):
    r"""An unsupervised phoneme-to-frame aligner (RAD-TTS / "One TTS Alignment to Rule Them All").

    ``phoneme ids (B, N) → Embedding → num_text_layers × residual Conv1d → keys (B, N', A)`` over
    the aligned tokens (``unaligned_token_ids`` removed, e.g. word boundaries), ``log-mel (B, T, M) →
    Conv1d(k=3) → ReLU → Conv1d(k=1) → ReLU → Conv1d(k=1) → queries (B, T, A)``; soft attention
    ``log_softmax_N(−temperature · ‖q − k‖²) + log beta-binomial prior``; the forward-sum (CTC)
    loss trains it, monotonic alignment search turns it into durations.

    Args:
        vocab_size: phoneme tokenizer size.
        pad_token_id: the tokenizer's padding id (embedding row kept at zero).
        unaligned_token_ids: ids that never get frames (word boundaries ``#``); every other real
            token gets at least one frame, ``<s>``/``</s>`` included (they hold edge silence).
        num_mel_bins: log-mel bins per frame (the feature extractor's ``feature_size``).
        hidden_size / num_text_layers / text_kernel_size: the phoneme encoder.
        mel_hidden_size / mel_kernel_size: the mel encoder's width and first kernel. RAD-TTS uses 3;
            1 (each frame on its own) put the boundaries on the spectral change and halved the
            boundary error against espeak's timings here (docs/alignment.md); attention_dim: keys and queries.
        temperature: scale of the squared distance (RAD-TTS: 0.0005 with its wider, unnormalised
            projections; 0.05 aligned best of 0.0005 / 0.005 / 0.05 here, docs/alignment.md).
        prior_scaling: beta-binomial prior scaling ω (1.0 in the papers; larger = sharper diagonal);
            ``use_prior``: add the prior in training and alignment.
        blank_logprob: log-score of the CTC blank column of the forward-sum loss (−1 in the papers).
        binarization_loss_weight: weight of the loss that pulls the soft attention onto the hard path
            (0 = forward-sum only).
        mean_normalize_input: subtract each utterance's mean log-mel (over real frames).
        min_alignment_score: utterances whose alignment score (geometric-mean posterior of the hard
            path, in (0, 1]) falls below this are rejected by ``prosody-tts align``.
        dropout: after each text block.
        initializer_gain: gain of the Xavier-uniform init of every convolution (RAD-TTS's ConvNorm).

    Example:
        >>> config = PhonemeAlignerConfig.preset("tiny", vocab_size=60, unaligned_token_ids=[5])
        >>> config.attention_dim
        32
    """

    model_type = "prosody_tts_phoneme_aligner"

    vocab_size: int = 64
    pad_token_id: int | None = 0
    unaligned_token_ids: list[int] | tuple[int, ...] = ()
    num_mel_bins: int = 80
    hidden_size: int = 128
    num_text_layers: int = 3
    text_kernel_size: int = 5
    mel_hidden_size: int = 128
    mel_kernel_size: int = 1
    attention_dim: int = 64
    temperature: float = 0.05
    prior_scaling: float = 1.0
    use_prior: bool = True
    blank_logprob: float = -1.0
    binarization_loss_weight: float = 0.0
    mean_normalize_input: bool = True
    min_alignment_score: float = 0.2
    dropout: float = 0.1
    initializer_gain: float = 1.0

    def __post_init__(self, **kwargs):
        self.unaligned_token_ids = [int(i) for i in self.unaligned_token_ids]
        for name in ("vocab_size", "num_mel_bins", "hidden_size", "num_text_layers", "mel_hidden_size", "attention_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        bad = [i for i in self.unaligned_token_ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"unaligned_token_ids {bad} are outside the vocabulary (size {self.vocab_size})")
        if self.mel_kernel_size < 1 or self.mel_kernel_size % 2 == 0:
            raise ValueError(f"mel_kernel_size must be odd and positive ('same' padding), got {self.mel_kernel_size}")
        if self.text_kernel_size < 1 or self.text_kernel_size % 2 == 0:
            raise ValueError(f"text_kernel_size must be odd and positive ('same' padding), got {self.text_kernel_size}")
        if self.temperature <= 0 or self.prior_scaling <= 0:
            raise ValueError(f"temperature and prior_scaling must be > 0, got {self.temperature}, {self.prior_scaling}")
        if self.binarization_loss_weight < 0:
            raise ValueError(f"binarization_loss_weight must be >= 0, got {self.binarization_loss_weight}")
        if not 0 <= self.min_alignment_score <= 1:
            raise ValueError(f"min_alignment_score must be in [0, 1], got {self.min_alignment_score}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        super().__post_init__(**kwargs)

    @classmethod
    def preset(cls, name: str, **overrides) -> PhonemeAlignerConfig:
        """``tiny`` | ``small`` | ``base`` (see :data:`PHONEME_ALIGNER_PRESETS`)."""
        if name not in PHONEME_ALIGNER_PRESETS:
            raise ValueError(f"unknown aligner preset {name!r}; known: {', '.join(PHONEME_ALIGNER_PRESETS)}")
        return cls(**{**PHONEME_ALIGNER_PRESETS[name], **overrides})

    @classmethod
    def tiny(cls, **overrides) -> PhonemeAlignerConfig:
        return cls.preset("tiny", **overrides)
