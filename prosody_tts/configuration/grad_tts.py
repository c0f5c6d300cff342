"""Configuration of the Grad-TTS head (Popov et al. 2021): text encoder, durations, score-based decoder."""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .dual_stream import DualStreamConfig

__all__ = ["TEXT_ENCODERS", "GradTTSConfig"]

#: ``encoder_type`` choices: the official Glow-TTS-style encoder, or our dual-stream encoder.
TEXT_ENCODERS: tuple[str, ...] = ("grad_tts", "dual_stream")


@strict
class GradTTSConfig(PreTrainedConfig):
    r"""Every number of the Grad-TTS model. Defaults are the official LJSpeech release (14.84 M
    parameters with ``vocab_size=149``: 148 symbols and the interspersed blank).

    Args:
        encoder_type: ``"grad_tts"`` (the faithful encoder, the baseline) or ``"dual_stream"`` (our
            :class:`~prosody_tts.modeling.dual_stream.DualStreamModel`, sized by ``text_config``).
        text_config: the dual-stream encoder's :class:`DualStreamConfig` (``encoder_type="dual_stream"`` only).
        freeze_text_encoder: keep the dual-stream encoder's weights fixed (eval mode, no gradients);
            μ projection and duration predictor still train.
        vocab_size: token ids of the faithful encoder (phonemes and, with blanks, ``blank_id``).
        blank_id: id interspersed between tokens (``add_blank`` of the official code), or None.
        n_mels / sampling_rate / hop_length: the mel frames the model speaks in.
        encoder_channels / encoder_ffn_channels / encoder_heads / encoder_layers /
        encoder_kernel_size / encoder_dropout / encoder_window_size: the relative-position
            transformer (192, 768, 2, 6, 3, 0.1, 4).
        prenet_kernel_size / prenet_layers / prenet_dropout: the ConvReluNorm prenet (5, 3, 0.5).
        duration_predictor_channels: of the duration predictor's two convolutions (256).
        num_speakers / speaker_embedding_dim: a speaker table when ``num_speakers > 1``; the
            decoder then takes the speaker as a third input channel.
        external_speaker_embeddings: no table; every call passes ``speaker_embeds``
            (B, speaker_embedding_dim), e.g. ECAPA embeddings of a reference recording.
        speaker_names: the corpus' speaker names by table row (``synthesize`` and the pipeline
            accept a name); None = rows are addressed by number only.
        encoder_speaker_conditioning: faithful encoder: also concatenate the speaker to its
            channels. The dual-stream encoder is always conditioned (AdaLN-Zero) when its config
            has ``external_speaker_dim == speaker_embedding_dim`` (the speaker vector goes in as its
            ``speaker_embeds``); the duration predictor reads the conditioned states either way.
        decoder_dim / decoder_dim_mults / decoder_groups / decoder_attention_heads /
        decoder_attention_head_dim: the U-Net (64, (1, 2, 4), 8, 4, 32).
        beta_min / beta_max: the noise schedule (0.05, 20). pe_scale: time-embedding scale
            (1000; 1 for the older released checkpoint).
        segment_frames: decoder and prior losses on a random crop of this many frames (172 = 2 s);
            None trains on whole utterances. The alignment always uses the whole utterance.
        diffusion_time_offset: t is drawn from U(offset, 1 − offset).
        duration_log_eps: ``log(eps + d)`` targets of the duration loss.
        initializer_range: std of the normal initialisation of linear/conv weights.
    """

    model_type = "prosody_tts_grad_tts"
    sub_configs_defaults = {"text_config": SubConfigSpec(DualStreamConfig, optional=True)}

    encoder_type: str = "grad_tts"
    text_config: dict | PreTrainedConfig | None = None
    freeze_text_encoder: bool = False
    vocab_size: int = 149
    blank_id: int | None = 148
    n_mels: int = 80
    sampling_rate: int = 22050
    hop_length: int = 256
    encoder_channels: int = 192
    encoder_ffn_channels: int = 768
    encoder_heads: int = 2
    encoder_layers: int = 6
    encoder_kernel_size: int = 3
    encoder_dropout: float = 0.1
    encoder_window_size: int = 4
    prenet_kernel_size: int = 5
    prenet_layers: int = 3
    prenet_dropout: float = 0.5
    duration_predictor_channels: int = 256
    num_speakers: int = 1
    speaker_embedding_dim: int = 64
    external_speaker_embeddings: bool = False
    speaker_names: list[str] | None = None
    encoder_speaker_conditioning: bool = False
    decoder_dim: int = 64
    decoder_dim_mults: list[int] | tuple[int, ...] = (1, 2, 4)
    decoder_groups: int = 8
    decoder_attention_heads: int = 4
    decoder_attention_head_dim: int = 32
    beta_min: float = 0.05
    beta_max: float = 20.0
    pe_scale: float = 1000.0
    segment_frames: int | None = 172
    diffusion_time_offset: float = 1e-5
    duration_log_eps: float = 1e-8
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs: Any) -> None:
        if self.encoder_type not in TEXT_ENCODERS:
            raise ValueError(f"encoder_type must be one of {TEXT_ENCODERS}, got {self.encoder_type!r}")
        if self.encoder_type == "dual_stream" and self.text_config is None:
            raise ValueError("encoder_type='dual_stream' needs text_config (a DualStreamConfig or its dict)")
        if self.encoder_type == "grad_tts" and (self.text_config is not None or self.freeze_text_encoder):
            raise ValueError("text_config / freeze_text_encoder belong to encoder_type='dual_stream'")
        if self.num_speakers > 1 and self.external_speaker_embeddings:
            raise ValueError("choose a speaker table (num_speakers > 1) or external_speaker_embeddings, not both")
        if self.speaker_names is not None and len(self.speaker_names) != self.num_speakers:
            raise ValueError(f"speaker_names has {len(self.speaker_names)} names for num_speakers={self.num_speakers}")
        self.decoder_dim_mults = [int(m) for m in self.decoder_dim_mults]
        if self.blank_id is not None and not 0 <= self.blank_id < self.vocab_size:
            raise ValueError(f"blank_id must be a token id below vocab_size={self.vocab_size}, got {self.blank_id}")
        if self.encoder_channels % self.encoder_heads:
            raise ValueError(f"encoder_channels ({self.encoder_channels}) must be divisible by encoder_heads")
        levels = len(self.decoder_dim_mults)
        if self.n_mels % 2 ** (levels - 1):
            raise ValueError(f"n_mels ({self.n_mels}) must halve {levels - 1} times in the U-Net")
        if any(self.decoder_dim * m % self.decoder_groups for m in self.decoder_dim_mults):
            raise ValueError("every U-Net width (decoder_dim × mult) must be divisible by decoder_groups")
        if self.segment_frames is not None and self.segment_frames % 2 ** (levels - 1):
            raise ValueError(f"segment_frames ({self.segment_frames}) must halve {levels - 1} times in the U-Net")
        if not 0 < self.beta_min < self.beta_max:
            raise ValueError(f"need 0 < beta_min < beta_max, got {self.beta_min}, {self.beta_max}")
        if self.num_speakers < 1:
            raise ValueError(f"num_speakers must be >= 1, got {self.num_speakers}")
        super().__post_init__(**kwargs)  # builds text_config from a dict
        if self.encoder_type == "dual_stream":
            speaker_dim = self.text_config.external_speaker_dim
            if self.multi_speaker and speaker_dim not in (0, self.speaker_embedding_dim):
                raise ValueError(
                    f"the dual-stream encoder takes {speaker_dim}-d speaker embeddings but speaker_embedding_dim "
                    f"is {self.speaker_embedding_dim}: make them equal (or text_config.external_speaker_dim=0)"
                )

    @property
    def multi_speaker(self) -> bool:
        """Whether every call names a speaker (a table row or an external embedding)."""
        return self.num_speakers > 1 or self.external_speaker_embeddings

    @property
    def decoder_speakers(self) -> int:
        """``n_spks`` of the official decoder: > 1 adds the speaker input channel."""
        return max(self.num_speakers, 2) if self.multi_speaker else 1

    @property
    def decoder_levels(self) -> int:
        return len(self.decoder_dim_mults)

    @classmethod
    def tiny(cls, **overrides) -> GradTTSConfig:
        """A < 1M-parameter preset for tests and the CPU demo."""
        values = dict(
            encoder_channels=32, encoder_ffn_channels=64, encoder_heads=2, encoder_layers=2,
            duration_predictor_channels=32, decoder_dim=16, decoder_dim_mults=[1, 2],
            decoder_attention_heads=2, decoder_attention_head_dim=8, segment_frames=32,
        )  # fmt: skip
        values.update(overrides)
        return cls(**values)

    @classmethod
    def with_text_encoder(cls, text_config: DualStreamConfig, **overrides: Any) -> GradTTSConfig:
        """Grad-TTS over the dual-stream encoder ``text_config`` (no blanks, speaker size from the encoder)."""
        values: dict[str, Any] = dict(encoder_type="dual_stream", text_config=text_config, blank_id=None, vocab_size=1)
        if text_config.external_speaker_dim:
            values["speaker_embedding_dim"] = text_config.external_speaker_dim
        values.update(overrides)
        return cls(**values)
