"""Configuration of the phoneme-occurrence / audio-segment contrastive model (SigLIP loss)."""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from .dual_stream import DualStreamConfig
from .ecapa_tdnn import EcapaTdnnConfig

__all__ = ["SPEAKER_SOURCES", "ProsodyContrastiveConfig"]

#: Where the text encoder's speaker condition comes from.
SPEAKER_SOURCES: tuple[str, ...] = ("ids", "audio", "none")


@strict
class ProsodyContrastiveConfig(PreTrainedConfig):
    r"""Sizes and settings of :class:`~prosody_tts.modeling.contrastive.ProsodyContrastiveModel`.

    A composite config (like ``SiglipConfig``): ``text_config`` is a :class:`DualStreamConfig`,
    ``audio_config`` an :class:`EcapaTdnnConfig`; each may be given as a config, a dict, or
    ``None`` (defaults). Both are saved as nested dicts in ``config.json``.

    Args:
        text_config: the dual-stream text encoder's config.
        audio_config: the ECAPA-TDNN audio encoder's config.
        projection_dim: size of the shared embedding space both projections map to.
        logit_scale_init_value: initial log temperature ``t'`` (SigLIP: ``log 10``).
        logit_bias_init_value: initial logit bias ``b`` (SigLIP: ``-10``).
        speaker_source: the text side's speaker condition: ``"ids"`` (``speaker_ids`` through the
            text encoder's speaker table), ``"audio"`` (the ECAPA utterance embedding of the same
            item as ``speaker_embeds``; needs ``text_config.external_speaker_dim ==
            audio_config.embedding_dim``) or ``"none"`` (the learned null condition).
        detach_speaker_embedding: with ``speaker_source="audio"``, stop the gradient of the text
            side from flowing into the audio tower through the speaker embedding.
        loss_chunk_size: ``None`` scores the full (N, N) logits in the loss; an int scores column
            blocks of that width (same value and gradients, O(N * chunk) memory).
        gather_negatives_across_ranks: under torch.distributed, score every rank's audio segments
            as negatives (``distributed_siglip_loss``); otherwise each rank's batch alone.
        initializer_range: std of the normal initialisation of the two projections.

    Example:
        >>> config = ProsodyContrastiveConfig.tiny()
        >>> config.text_config.hidden_size, config.audio_config.embedding_dim, config.projection_dim
        (64, 32, 32)
    """

    model_type = "prosody_tts_contrastive"
    sub_configs_defaults = {"text_config": DualStreamConfig, "audio_config": EcapaTdnnConfig}

    text_config: dict | PreTrainedConfig | None = None
    audio_config: dict | PreTrainedConfig | None = None
    projection_dim: int = 256
    logit_scale_init_value: float = 2.302585092994046  # log 10 (= losses.SIGLIP_INIT_LOGIT_SCALE)
    logit_bias_init_value: float = -10.0  # = losses.SIGLIP_INIT_LOGIT_BIAS
    speaker_source: str = "audio"
    detach_speaker_embedding: bool = True
    loss_chunk_size: int | None = None
    gather_negatives_across_ranks: bool = True
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs: Any) -> None:
        super().__post_init__(**kwargs)  # builds text_config / audio_config from dicts or defaults
        if not isinstance(self.text_config, DualStreamConfig):
            raise TypeError(f"text_config must be a DualStreamConfig, got {type(self.text_config).__name__}")
        if not isinstance(self.audio_config, EcapaTdnnConfig):
            raise TypeError(f"audio_config must be an EcapaTdnnConfig, got {type(self.audio_config).__name__}")
        if self.projection_dim < 1:
            raise ValueError(f"projection_dim must be >= 1, got {self.projection_dim}")
        if self.loss_chunk_size is not None and self.loss_chunk_size < 1:
            raise ValueError(f"loss_chunk_size must be None or >= 1, got {self.loss_chunk_size}")
        if self.speaker_source not in SPEAKER_SOURCES:
            raise ValueError(f"speaker_source must be one of {SPEAKER_SOURCES}, got {self.speaker_source!r}")
        if self.speaker_source == "audio":
            text_dim = self.text_config.external_speaker_dim
            audio_dim = self.audio_config.embedding_dim
            if text_dim != audio_dim:
                raise ValueError(
                    f"speaker_source='audio' feeds the ECAPA embedding ({audio_dim}) to the text encoder, but "
                    f"text_config.external_speaker_dim is {text_dim}; they must be equal"
                )
        if self.speaker_source == "ids" and self.text_config.num_speakers == 0:
            raise ValueError("speaker_source='ids' needs text_config.num_speakers > 0 (a speaker table)")

    @classmethod
    def tiny(
        cls,
        text_overrides: dict[str, Any] | None = None,
        audio_overrides: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> ProsodyContrastiveConfig:
        """Tiny sub-configs (``DualStreamConfig.tiny()``, ``EcapaTdnnConfig.tiny()``) and projection 32."""
        values: dict[str, Any] = dict(
            text_config=DualStreamConfig.tiny(**(text_overrides or {})),
            audio_config=EcapaTdnnConfig.tiny(**(audio_overrides or {})),
            projection_dim=32,
        )
        values.update(overrides)
        return cls(**values)
