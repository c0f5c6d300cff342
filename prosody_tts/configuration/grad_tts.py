"""Configuration of the Grad-TTS head (Popov et al. 2021): text encoder, durations, score-based decoder."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

__all__ = ["GradTTSConfig"]


@strict
class GradTTSConfig(PreTrainedConfig):
    r"""Every number of the Grad-TTS model. Defaults are the official LJSpeech release (14.84 M
    parameters with ``vocab_size=149``: 148 symbols and the interspersed blank).

    Args:
        vocab_size: token ids of the encoder (phonemes and, with blanks, ``blank_id``).
        blank_id: id interspersed between tokens (``add_blank`` of the official code), or None.
        n_mels / sampling_rate / hop_length: the mel frames the model speaks in.
        encoder_channels / encoder_ffn_channels / encoder_heads / encoder_layers /
        encoder_kernel_size / encoder_dropout / encoder_window_size: the relative-position
            transformer (192, 768, 2, 6, 3, 0.1, 4).
        prenet_kernel_size / prenet_layers / prenet_dropout: the ConvReluNorm prenet (5, 3, 0.5).
        duration_predictor_channels: of the duration predictor's two convolutions (256).
        num_speakers / speaker_embedding_dim: a speaker table when ``num_speakers > 1``; the
            decoder then takes the speaker as a third input channel.
        encoder_speaker_conditioning: also concatenate the speaker to the encoder's channels.
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

    def __post_init__(self, **kwargs):
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
        super().__post_init__(**kwargs)

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
