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
        pad_token_id / bos_token_id / eos_token_id: the phoneme tokenizer's ``<pad>``, ``<s>`` and
            ``</s>`` ids (the Trainer checks them against the processor's tokenizer).
        hidden_act: activation of the feed-forward layers and the MLM heads (a key of
            ``transformers.activations.ACT2FN``).
        position_base: base of the rotary frequencies and of the sinusoidal table (10000 as in
            the original Transformer and RoFormer).
        speaker_dropout: probability, in training only, of replacing a row's speaker condition by
            the learned null vector (classifier-free style); 0 disables it.
        zero_init_fusion: zero-initialise the projection that adds word-pooled BPE states to the
            phonemes, so the fused output starts equal to the phoneme stream (the fusion "opens"
            as it trains, like a ControlNet zero convolution).
        mlm_before_fusion: the phoneme MLM head reads the phoneme stream *before* fusion (the
            paper's per-stream MLM). With ``False`` it reads the fused output, and the BPE of the
            masked word would reveal the masked phoneme unless both streams mask the same words.
        phoneme_mlm_weight / bpe_mlm_weight: weights of the two MLM losses in the total loss.
        tie_word_embeddings: tie each MLM decoder to its stream's input embedding. Off by
            default (transformers v5 ties only when this is explicitly ``True``).

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
    bos_token_id: int | None = 2
    eos_token_id: int | None = 3
    hidden_act: str = "gelu"
    position_base: float = 10000.0
    speaker_dropout: float = 0.0
    zero_init_fusion: bool = True
    mlm_before_fusion: bool = True
    phoneme_mlm_weight: float = 1.0
    bpe_mlm_weight: float = 1.0
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads ({self.num_attention_heads})"
            )
        if self.position_embedding_type not in ("rotary", "sinusoidal"):
            raise ValueError(
                f"position_embedding_type must be 'rotary' or 'sinusoidal', got {self.position_embedding_type!r}"
            )
        if self.hidden_size % 2 != 0 or (self.hidden_size // self.num_attention_heads) % 2 != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) and the head size must be even (rotary and sinusoidal "
                "positions pair dimensions)"
            )
        if not 0.0 <= self.speaker_dropout <= 1.0:
            raise ValueError(f"speaker_dropout must be in [0, 1], got {self.speaker_dropout}")
        for name in ("phoneme_layers", "bpe_layers", "fusion_layers", "num_speakers", "external_speaker_dim"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        super().__post_init__(**kwargs)

    @classmethod
    def tiny(cls, **overrides) -> DualStreamConfig:
        """A < 1M-parameter preset (MLM heads included) for tests and the CPU demo.

        Its BPE vocabulary (3,000) is the size of the packaged default BPE tokenizer.
        """
        values = dict(
            bpe_vocab_size=3000,
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
