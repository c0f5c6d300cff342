"""Configuration of the dual-stream (phoneme + BPE) speaker-conditioned text encoder."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig


@strict
class DualStreamConfig(PreTrainedConfig):
    r"""Sizes and settings of the dual-stream text encoder (DESIGN.md §2).

    The phoneme stream reads the phoneme tokenizer's ids, the BPE stream the BPE tokenizer's ids;
    BPE states pooled per word are added to that word's phonemes, then ``fusion_layers`` blocks
    mix them. Speaker conditioning enters every phoneme and fusion block through AdaLN-Zero.

    Args:
        phoneme_vocab_size: size of the phoneme tokenizer's vocabulary.
        bpe_vocab_size: size of the BPE tokenizer's vocabulary.
        hidden_size: width of both streams.
        num_attention_heads: attention heads per block.
        intermediate_size: feed-forward width.
        phoneme_layers / bpe_layers / fusion_layers: blocks per stream and after fusion.
        speaker_embedding_dim: size of the speaker condition vector.
        num_speakers: rows of the speaker-id table (0 = no table; external embeddings only).
        external_speaker_dim: size of an external speaker embedding (e.g. ECAPA's 192) that is
            projected to ``speaker_embedding_dim``; 0 disables the projection.
        max_position_embeddings: longest sequence the position encoding covers.
        position_embedding_type: ``"rotary"`` or ``"sinusoidal"``.
        hidden_dropout / attention_dropout: dropout probabilities.
        layer_norm_eps: epsilon of every layer norm.
        initializer_range: std of the normal initialisation of weights.

    Example:
        >>> config = DualStreamConfig.tiny()
        >>> config.hidden_size
        64
    """

    model_type = "prosody_tts_dual_stream"

    phoneme_vocab_size: int = 109
    bpe_vocab_size: int = 8000
    hidden_size: int = 384
    num_attention_heads: int = 6
    intermediate_size: int = 1536
    phoneme_layers: int = 6
    bpe_layers: int = 6
    fusion_layers: int = 2
    speaker_embedding_dim: int = 192
    num_speakers: int = 0
    external_speaker_dim: int = 192
    max_position_embeddings: int = 2048
    position_embedding_type: str = "rotary"
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.0
    layer_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    pad_token_id: int | None = 0

    def __post_init__(self, **kwargs):
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads ({self.num_attention_heads})"
            )
        if self.position_embedding_type not in ("rotary", "sinusoidal"):
            raise ValueError(f"position_embedding_type must be 'rotary' or 'sinusoidal', got {self.position_embedding_type!r}")
        super().__post_init__(**kwargs)

    @classmethod
    def tiny(cls, **overrides) -> DualStreamConfig:
        """A < 1M-parameter preset for tests and the CPU demo."""
        values = dict(
            hidden_size=64,
            num_attention_heads=2,
            intermediate_size=128,
            phoneme_layers=2,
            bpe_layers=2,
            fusion_layers=1,
            speaker_embedding_dim=32,
            external_speaker_dim=32,
            max_position_embeddings=512,
        )
        values.update(overrides)
        return cls(**values)
