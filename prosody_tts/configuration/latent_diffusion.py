"""Configuration of the latent-diffusion TTS head (DiTTo-TTS style): a DiT over Mel-VAE latents,
cross-attending to our dual-stream encoder's phoneme states, with a total-length predictor."""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .dual_stream import DualStreamConfig
from .mel_vae import MelVaeConfig

__all__ = ["OBJECTIVES", "SAMPLERS", "LatentDiffusionTTSConfig"]

#: ``objective`` choices: v-prediction on a (shifted) cosine schedule, or rectified-flow matching.
OBJECTIVES: tuple[str, ...] = ("v_prediction", "flow_matching")
#: ``sampler`` choices (all ``diffusers`` schedulers): DDIM and DPM-Solver++ for v-prediction, Euler for flow matching.
SAMPLERS: dict[str, tuple[str, ...]] = {"v_prediction": ("ddim", "dpm_solver"), "flow_matching": ("euler",)}


@strict
class LatentDiffusionTTSConfig(PreTrainedConfig):
    r"""Every number of the latent-diffusion TTS head. Defaults are DiTTo-TTS' S size (12 × 384)
    where the paper gives them (v-prediction, cosine schedule shifted by 0.3, CFG 5 with 10 % null
    text, 25 steps, 70–100 % span masking); the rest is ours.

    Args:
        text_config: the dual-stream encoder's :class:`DualStreamConfig` (any curriculum stage; default: the base size).
        vae_config: the :class:`MelVaeConfig` of the (trained, frozen) Mel-VAE whose latents are generated.
        freeze_text_encoder: keep the encoder fixed (eval mode, no gradients); DiTTo freezes its text encoder.
        latent_mean / latent_std: per-channel statistics of the VAE latents; the DiT works on
            ``(z − mean) / std`` (the stage measures them on the training data). None = 0 / 1.
        hidden_size / num_layers / num_heads / intermediate_size / activation: the DiT (gated MLP:
            ``activation`` is the gate's, GeGLU with ``"gelu"``).
        dropout / attention_dropout / layer_norm_eps / rope_theta: as in the encoder.
        num_speakers / speaker_embedding_dim / external_speaker_embeddings / speaker_names: as
            :class:`~prosody_tts.configuration.grad_tts.GradTTSConfig`; the speaker joins the
            AdaLN condition (and the encoder's, when it takes ``speaker_embedding_dim``-d embeddings).
        objective: ``"v_prediction"`` or ``"flow_matching"`` (:data:`OBJECTIVES`).
        num_train_timesteps: discrete training times (both objectives).
        schedule_shift: v-prediction: the cosine schedule's SNR is multiplied by ``shift²``
            (log-SNR + 2 log shift; DiTTo's 0.3 puts more steps at high noise); 1 = plain cosine.
        flow_shift: flow matching: the Euler sampler's time shift (1 = uniform, SD3's ``shift``).
        sampler: a ``diffusers`` scheduler for synthesis (:data:`SAMPLERS` per objective).
        cfg_drop_prob: training: each item's text replaced by the learned null text with this probability.
        guidance_scale: synthesis default: ``v = v_null + scale · (v_text − v_null)``; 1 = no guidance.
        prompt_mask_min / prompt_mask_max: training: the share of latent frames masked (to be
            generated) in one span, drawn uniformly; the rest is the prompt (given).
        prompt_full_mask_prob: training: the whole latent is masked (no prompt) this often.
        length_predictor_channels / length_predictor_kernel_size / length_predictor_dropout: the
            total-length predictor (per-phoneme positive rates summed to the latent length).
        length_loss_weight: weight of its loss beside the diffusion loss (it reads detached text
            states, so it never trains the encoder or the DiT).
        max_latent_frames: longest latent the model generates (a predicted length above is refused).
        initializer_range: std of the normal initialisation of linear weights.

    Example:
        >>> config = LatentDiffusionTTSConfig.tiny(text_config=DualStreamConfig.tiny())
        >>> config.n_mels, config.sampling_rate, config.vae_config.downsample_rate
        (80, 22050, 8)
    """

    model_type = "prosody_tts_latent_diffusion"
    sub_configs_defaults = {
        "text_config": SubConfigSpec(DualStreamConfig),
        "vae_config": SubConfigSpec(MelVaeConfig),
    }

    text_config: dict | PreTrainedConfig | None = None
    vae_config: dict | PreTrainedConfig | None = None
    freeze_text_encoder: bool = False
    latent_mean: list[float] | None = None
    latent_std: list[float] | None = None
    hidden_size: int = 384
    num_layers: int = 12
    num_heads: int = 6
    intermediate_size: int = 1024
    activation: str = "gelu"
    dropout: float = 0.0
    attention_dropout: float = 0.0
    layer_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    num_speakers: int = 1
    speaker_embedding_dim: int = 64
    external_speaker_embeddings: bool = False
    speaker_names: list[str] | None = None
    objective: str = "v_prediction"
    num_train_timesteps: int = 1000
    schedule_shift: float = 0.3
    flow_shift: float = 1.0
    sampler: str = "ddim"
    cfg_drop_prob: float = 0.1
    guidance_scale: float = 5.0
    prompt_mask_min: float = 0.7
    prompt_mask_max: float = 1.0
    prompt_full_mask_prob: float = 0.1
    length_predictor_channels: int = 256
    length_predictor_kernel_size: int = 3
    length_predictor_dropout: float = 0.1
    length_loss_weight: float = 1.0
    max_latent_frames: int = 2048
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs: Any) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.sampler not in SAMPLERS[self.objective]:
            raise ValueError(f"sampler {self.sampler!r} does not fit objective {self.objective!r}: use one of {SAMPLERS[self.objective]}")
        if self.hidden_size % self.num_heads or (self.hidden_size // self.num_heads) % 2:
            raise ValueError(f"hidden_size ({self.hidden_size}) / num_heads ({self.num_heads}) must be an even head size (rotary)")
        if not 0 < self.prompt_mask_min <= self.prompt_mask_max <= 1:
            raise ValueError(f"need 0 < prompt_mask_min <= prompt_mask_max <= 1, got {self.prompt_mask_min}, {self.prompt_mask_max}")
        for name in ("cfg_drop_prob", "prompt_full_mask_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.schedule_shift <= 0 or self.flow_shift <= 0 or self.guidance_scale < 0:
            raise ValueError("schedule_shift and flow_shift must be > 0, guidance_scale >= 0")
        if self.num_train_timesteps < 2 or self.max_latent_frames < 1 or self.num_layers < 1:
            raise ValueError("need num_train_timesteps >= 2, max_latent_frames >= 1, num_layers >= 1")
        if self.num_speakers < 1:
            raise ValueError(f"num_speakers must be >= 1, got {self.num_speakers}")
        if self.num_speakers > 1 and self.external_speaker_embeddings:
            raise ValueError("choose a speaker table (num_speakers > 1) or external_speaker_embeddings, not both")
        if self.speaker_names is not None and len(self.speaker_names) != self.num_speakers:
            raise ValueError(f"speaker_names has {len(self.speaker_names)} names for num_speakers={self.num_speakers}")
        super().__post_init__(**kwargs)  # builds both sub-configs from dicts
        channels = self.vae_config.latent_channels
        for name in ("latent_mean", "latent_std"):
            values = getattr(self, name)
            if values is not None:
                values = [float(v) for v in values]
                setattr(self, name, values)
                if len(values) != channels:
                    raise ValueError(f"{name} needs one value per latent channel ({channels}), got {len(values)}")
        if self.latent_std is not None and min(self.latent_std) <= 0:
            raise ValueError("latent_std must be > 0")

    @property
    def multi_speaker(self) -> bool:
        """Whether every call names a speaker (a table row or an external embedding)."""
        return self.num_speakers > 1 or self.external_speaker_embeddings

    @property
    def n_mels(self) -> int:
        return int(self.vae_config.n_mels)

    @property
    def sampling_rate(self) -> int:
        return int(self.vae_config.sampling_rate)

    @property
    def hop_length(self) -> int:
        return int(self.vae_config.hop_length)

    @property
    def latent_channels(self) -> int:
        return int(self.vae_config.latent_channels)

    @classmethod
    def tiny(cls, **overrides: Any) -> LatentDiffusionTTSConfig:
        """A < 1M-parameter DiT (4 × 64) for tests and the CPU demo, over the tiny Mel-VAE."""
        values: dict[str, Any] = dict(
            hidden_size=64, num_layers=4, num_heads=4, intermediate_size=128, length_predictor_channels=32,
            vae_config=MelVaeConfig.tiny(),
        )  # fmt: skip
        values.update(overrides)
        return cls(**values)

    @classmethod
    def with_text_encoder(cls, text_config: DualStreamConfig, tiny: bool = False, **overrides: Any) -> LatentDiffusionTTSConfig:
        """The head over the dual-stream encoder ``text_config`` (speaker size from the encoder)."""
        values: dict[str, Any] = dict(text_config=text_config)
        if text_config.external_speaker_dim:
            values["speaker_embedding_dim"] = text_config.external_speaker_dim
        values.update(overrides)
        return (cls.tiny if tiny else cls)(**values)
