"""Configuration of the ECAPA-TDNN audio tower (utterance and phoneme-segment embeddings)."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig


@strict
class EcapaTdnnConfig(PreTrainedConfig):
    r"""Sizes and settings of the ECAPA-TDNN audio encoder (DESIGN.md §2, "Audio branch").

    The layout is SpeechBrain's ECAPA-TDNN: one TDNN block, ``len(channels) - 2`` SE-Res2Blocks,
    multi-layer feature aggregation (a TDNN over the concatenated SE-Res2Block outputs),
    attentive statistics pooling, batch norm and a 1x1 convolution to ``embedding_dim``.
    The defaults are SpeechBrain's VoxCeleb recipe (``spkrec-ecapa-voxceleb``, about 20.8M
    parameters); :meth:`small` is SpeechBrain's code default (about 6.2M).

    Args:
        num_mel_bins: log-mel bins per input frame (the feature extractor's ``feature_size``).
        channels: output channels of the first TDNN block, of each SE-Res2Block and (last) of the
            multi-layer feature aggregation.
        kernel_sizes: kernel size of each of those layers (odd, "same" padding).
        dilations: dilation of each of those layers.
        attention_channels: bottleneck width of the attentive statistics pooling.
        res2net_scale: number of channel splits in each Res2Net block.
        se_channels: bottleneck width of each squeeze-excitation block.
        global_context: the pooling attention also sees the mean and std of the pooled frames.
        embedding_dim: size of the utterance and segment embeddings.
        segment_context_frames: frames added on each side of a phoneme span before segment
            pooling (clipped to the utterance's real frames).
        segment_chunk_size: segments pooled per chunk (bounds memory; results do not depend on it).
        mean_normalize_input: subtract each utterance's mean log-mel (over its real frames) from
            its frames, like SpeechBrain's sentence-level input normalisation.
        batch_norm_eps / batch_norm_momentum: settings of every batch norm.
        statistics_eps: variances are clamped to at least this before the square root.
        initializer_range: std of the normal initialisation of every convolution weight.

    Example:
        >>> config = EcapaTdnnConfig.tiny()
        >>> config.channels
        [64, 64, 64, 64, 192]
        >>> EcapaTdnnConfig.small().channels[-1]
        1536
    """

    model_type = "prosody_tts_ecapa_tdnn"

    num_mel_bins: int = 80
    channels: list[int] | tuple[int, ...] = (1024, 1024, 1024, 1024, 3072)
    kernel_sizes: list[int] | tuple[int, ...] = (5, 3, 3, 3, 1)
    dilations: list[int] | tuple[int, ...] = (1, 2, 3, 4, 1)
    attention_channels: int = 128
    res2net_scale: int = 8
    se_channels: int = 128
    global_context: bool = True
    embedding_dim: int = 192
    segment_context_frames: int = 2
    segment_chunk_size: int = 1024
    mean_normalize_input: bool = True
    batch_norm_eps: float = 1e-5
    batch_norm_momentum: float = 0.1
    statistics_eps: float = 1e-12
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        self.channels = [int(c) for c in self.channels]
        self.kernel_sizes = [int(k) for k in self.kernel_sizes]
        self.dilations = [int(d) for d in self.dilations]
        if not len(self.channels) == len(self.kernel_sizes) == len(self.dilations):
            raise ValueError(
                "channels, kernel_sizes and dilations must have the same length, got "
                f"{len(self.channels)}, {len(self.kernel_sizes)}, {len(self.dilations)}"
            )
        if len(self.channels) < 3:
            raise ValueError(f"need at least 3 layers (TDNN, SE-Res2Block, aggregation), got {len(self.channels)}")
        if any(k < 1 or k % 2 == 0 for k in self.kernel_sizes):
            raise ValueError(f"kernel_sizes must be odd and positive ('same' padding), got {self.kernel_sizes}")
        if any(d < 1 for d in self.dilations):
            raise ValueError(f"dilations must be positive, got {self.dilations}")
        if any(c < 1 for c in self.channels) or self.embedding_dim < 1 or self.num_mel_bins < 1:
            raise ValueError("channels, embedding_dim and num_mel_bins must be positive")
        if self.res2net_scale < 2:
            raise ValueError(f"res2net_scale must be >= 2, got {self.res2net_scale}")
        for c in self.channels[1:-1]:
            if c % self.res2net_scale:
                raise ValueError(f"SE-Res2Block channels ({c}) must be divisible by res2net_scale ({self.res2net_scale})")
        if self.segment_context_frames < 0:
            raise ValueError(f"segment_context_frames must be >= 0, got {self.segment_context_frames}")
        if self.segment_chunk_size < 1:
            raise ValueError(f"segment_chunk_size must be >= 1, got {self.segment_chunk_size}")
        super().__post_init__(**kwargs)

    @classmethod
    def small(cls, **overrides) -> EcapaTdnnConfig:
        """SpeechBrain's code default: channels 512 x 4 + 1536 (about 6.2M parameters)."""
        values = dict(channels=[512, 512, 512, 512, 1536])
        values.update(overrides)
        return cls(**values)

    @classmethod
    def tiny(cls, **overrides) -> EcapaTdnnConfig:
        """A < 1M-parameter preset (about 0.14M) for tests and the CPU demo."""
        values = dict(
            channels=[64, 64, 64, 64, 192],
            attention_channels=32,
            se_channels=16,
            embedding_dim=32,
        )
        values.update(overrides)
        return cls(**values)
