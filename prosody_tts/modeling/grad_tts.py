"""Grad-TTS (Popov et al. 2021) as a transformers model: text → mel spectrogram by score-based diffusion.

Training (``forward`` with ``spectrogram``)::

    ids (B, N) ─ text encoder ─► μ (B, M, N), log w (B, 1, N)
    log N(y_j; μ_i, I) (B, N, T) ─ monotonic alignment search ─► path (B, N, T), durations d
      duration loss  Σ (log w − log(ε + d))² / Σ N
      crop `segment_frames` frames (random offset per item) of y and of the path
      μ_y = pathᵀ μ (B, M, T') ─ prior loss  ½ (y − μ_y)² + ½ log 2π, per mel bin and frame
                               └ diffusion loss (σ-weighted score matching, modeling/diffusion.py)

Synthesis (:meth:`GradTTSModel.synthesize`)::

    w = exp(log w) · mask; d = ceil(w) · length_scale; T = max(Σ d, 1), padded to a multiple of
    2^(levels−1); μ_y = path(d)ᵀ μ; z = μ_y + ε / temperature; n_timesteps Euler steps → y

Spectrograms enter and leave as (B, frames, n_mels), like the feature extractor's; inside they
are channels-first (B, n_mels, frames), as in the official code.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.grad_tts import GradTTSConfig
from ..processing.padding import length_mask
from .alignment import durations_from_path, maximum_path
from .diffusion import ScoreDiffusion
from .grad_tts_encoder import ChannelLayerNorm, GradTTSTextEncoder, RelativeMultiHeadAttention
from .outputs import GradTTSOutput, GradTTSSynthesisOutput
from .unet import Rezero, fix_len_compatibility

__all__ = ["GradTTSModel", "alignment_log_prior", "path_from_durations"]


def path_from_durations(durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, N) frames per token and a (B, N, T) mask → the (B, N, T) 0/1 monotonic path."""
    ends = torch.cumsum(durations, dim=1)  # (B, N)
    frames = mask.shape[-1]
    path = (torch.arange(frames, device=durations.device)[None, None, :] < ends[:, :, None]).to(mask.dtype)
    path = path - nn.functional.pad(path, (0, 0, 1, 0))[:, :-1]
    return path * mask


def alignment_log_prior(mu: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B, N, T) ``log N(y_j; μ_i, I)`` of mels ``y`` (B, M, T) under token means ``mu`` (B, M, N)."""
    n_mels = mu.shape[1]
    const = -0.5 * math.log(2 * math.pi) * n_mels
    y_square = -0.5 * torch.sum(y**2, dim=1, keepdim=True)  # (B, 1, T)
    cross = torch.matmul(mu.transpose(1, 2), y)  # (B, N, T)
    mu_square = -0.5 * torch.sum(mu**2, dim=1).unsqueeze(-1)  # (B, N, 1)
    return y_square + cross + mu_square + const


class GradTTSModel(PreTrainedModel):
    """Text-to-spectrogram Grad-TTS with the faithful encoder (see the module docstring).

    Example:
        >>> model = GradTTSModel(GradTTSConfig.tiny()).eval()
        >>> out = model.synthesize(torch.tensor([[3, 148, 7, 148, 9]]), n_timesteps=2,
        ...                        generator=torch.Generator().manual_seed(0))
        >>> out.spectrogram.shape[0], out.spectrogram.shape[2], out.durations.shape
        (1, 80, torch.Size([1, 5]))
    """

    config_class = GradTTSConfig
    base_model_prefix = "grad_tts"
    main_input_name = "input_ids"

    def __init__(self, config: GradTTSConfig) -> None:
        super().__init__(config)
        multi = config.num_speakers > 1
        if multi:
            self.spk_emb = nn.Embedding(config.num_speakers, config.speaker_embedding_dim)
        self.encoder = GradTTSTextEncoder(config)
        self.decoder = ScoreDiffusion(
            config.n_mels, config.decoder_dim, tuple(config.decoder_dim_mults), config.decoder_groups,
            config.num_speakers, config.speaker_embedding_dim, config.beta_min, config.beta_max,
            config.pe_scale, config.decoder_attention_heads, config.decoder_attention_head_dim,
        )  # fmt: skip
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """Official initialisation where it matters: embedding N(0, C^-½), the prenet's zero
        projection, Rezero gates at 0; other linear/conv weights N(0, initializer_range)."""
        std = self.config.initializer_range
        if isinstance(module, Rezero):
            init.zeros_(module.g)
        elif isinstance(module, RelativeMultiHeadAttention):
            for table in (module.emb_rel_k, module.emb_rel_v):
                init.normal_(table, mean=0.0, std=module.k_channels**-0.5)
        elif isinstance(module, ChannelLayerNorm):
            init.ones_(module.gamma)
            init.zeros_(module.beta)
        elif isinstance(module, nn.Embedding):
            scale = self.config.encoder_channels**-0.5 if module is self.encoder.emb else std
            init.normal_(module.weight, mean=0.0, std=scale)
        elif isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            if module is self.encoder.prenet.proj:  # the prenet starts as the identity
                init.zeros_(module.weight)
            else:
                init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.GroupNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)

    # ------------------------------------------------------------------ inputs
    def _speaker(self, speaker_ids: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if self.config.num_speakers == 1:
            if speaker_ids is not None:
                raise ValueError("speaker_ids given to a single-speaker model (num_speakers=1)")
            return None
        if speaker_ids is None:
            raise ValueError(f"a {self.config.num_speakers}-speaker model needs speaker_ids (B,)")
        speaker_ids = speaker_ids.reshape(-1)
        if speaker_ids.shape[0] != batch:
            raise ValueError(f"speaker_ids must have {batch} entries, got {speaker_ids.shape[0]}")
        if bool((speaker_ids < 0).any()) or bool((speaker_ids >= self.config.num_speakers).any()):
            raise ValueError(f"unknown speaker: speaker_ids must be in [0, {self.config.num_speakers}), got {speaker_ids.tolist()}")
        return self.spk_emb(speaker_ids)

    def _text_mask(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        if input_ids.dim() != 2 or input_ids.shape[1] == 0:
            raise ValueError(f"input_ids must be a non-empty (batch, tokens) tensor, got shape {tuple(input_ids.shape)}")
        if bool((input_ids < 0).any()) or bool((input_ids >= self.config.vocab_size).any()):
            raise ValueError(f"input_ids must be in [0, {self.config.vocab_size})")
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        if bool((mask.sum(1) == 0).any()):
            raise ValueError("an item has no tokens (attention_mask all 0): nothing to say")
        return mask[:, None, :].float()  # (B, 1, N)

    # ------------------------------------------------------------------ training
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        spectrogram: torch.Tensor | None = None,
        spectrogram_lengths: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> GradTTSOutput | tuple:
        """The three losses on (B, T, n_mels) ground-truth log-mels ``spectrogram`` (right-padded)."""
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if spectrogram is None:
            raise ValueError("training needs the target spectrogram (B, frames, n_mels); use synthesize() to speak")
        x_mask = self._text_mask(input_ids, attention_mask)
        speaker = self._speaker(speaker_ids, input_ids.shape[0])
        y = spectrogram.transpose(1, 2).float()  # (B, M, T)
        if y.shape[1] != self.config.n_mels:
            raise ValueError(f"spectrogram must be (batch, frames, {self.config.n_mels}), got {tuple(spectrogram.shape)}")
        if spectrogram_lengths is None:
            spectrogram_lengths = torch.full((y.shape[0],), y.shape[-1], device=y.device)
        y_mask = length_mask(spectrogram_lengths, y.shape[-1]).float()[:, None, :]  # (B, 1, T)
        mu_x, log_w = self.encoder(input_ids, x_mask, speaker)
        path_mask = x_mask.transpose(1, 2) * y_mask  # (B, N, T)
        path = maximum_path(alignment_log_prior(mu_x.detach(), y), path_mask)  # no gradient
        durations = durations_from_path(path)
        target = torch.log(self.config.duration_log_eps + path.sum(-1, keepdim=True).transpose(1, 2)) * x_mask
        duration_loss = torch.sum((log_w - target) ** 2) / torch.sum(x_mask)
        if self.config.segment_frames is not None:
            y, y_mask, path = self._crop(y, y_mask, path, spectrogram_lengths)
        mu_y = torch.matmul(path.transpose(1, 2), mu_x.transpose(1, 2)).transpose(1, 2)  # (B, M, T')
        diffusion_loss = self.decoder.loss(y, y_mask, mu_y, speaker, self.config.diffusion_time_offset)
        prior_loss = torch.sum(0.5 * ((y - mu_y) ** 2 + math.log(2 * math.pi)) * y_mask)
        prior_loss = prior_loss / (torch.sum(y_mask) * self.config.n_mels)
        output = GradTTSOutput(
            loss=duration_loss + prior_loss + diffusion_loss,
            duration_loss=duration_loss,
            prior_loss=prior_loss,
            diffusion_loss=diffusion_loss,
            durations=durations,
        )
        return output if return_dict else output.to_tuple()

    def _crop(
        self, y: torch.Tensor, y_mask: torch.Tensor, path: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A random ``segment_frames`` window of each item (whole item when shorter), zero-padded."""
        size = self.config.segment_frames
        batch = y.shape[0]
        max_offset = (lengths - size).clamp(min=0)
        offsets = (torch.rand(batch, device=y.device) * (max_offset + 1).float()).floor().long().clamp(max=max_offset)
        y_cut = y.new_zeros(batch, y.shape[1], size)
        path_cut = path.new_zeros(batch, path.shape[1], size)
        cut_lengths = torch.clamp(lengths, max=size).long()
        for b in range(batch):
            start, n = int(offsets[b]), int(cut_lengths[b])
            y_cut[b, :, :n] = y[b, :, start : start + n]
            path_cut[b, :, :n] = path[b, :, start : start + n]
        return y_cut, length_mask(cut_lengths, size)[:, None, :].to(y_mask), path_cut

    # ------------------------------------------------------------------ synthesis
    @torch.no_grad()
    def synthesize(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        n_timesteps: int = 10,
        temperature: float = 1.5,
        length_scale: float = 1.0,
        stochastic: bool = False,
        generator: torch.Generator | None = None,
    ) -> GradTTSSynthesisOutput:
        """Mel spectrograms of (B, N) token ids: predicted durations, then ``n_timesteps`` reverse steps.

        Args:
            n_timesteps: Euler steps of the probability-flow ODE (or of the reverse SDE with
                ``stochastic=True``). temperature: the starting point is μ + ε / temperature.
            length_scale: multiplies the (ceiled) durations: > 1 speaks slower.
            generator: seeds the starting noise (and the SDE's noise).
        """
        if n_timesteps < 1:
            raise ValueError(f"n_timesteps must be >= 1, got {n_timesteps}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if length_scale <= 0:
            raise ValueError(f"length_scale must be > 0, got {length_scale}")
        x_mask = self._text_mask(input_ids, attention_mask)
        speaker = self._speaker(speaker_ids, input_ids.shape[0])
        mu_x, log_w = self.encoder(input_ids, x_mask, speaker)
        durations = (torch.ceil(torch.exp(log_w) * x_mask) * length_scale).squeeze(1)  # (B, N)
        lengths = torch.clamp_min(torch.sum(durations, dim=1), 1).long()  # (B,)
        frames = int(lengths.max())
        padded = fix_len_compatibility(frames, self.config.decoder_levels)
        y_mask = length_mask(lengths, padded)[:, None, :].to(mu_x)
        path = path_from_durations(durations, x_mask.transpose(1, 2) * y_mask)
        mu_y = torch.matmul(path.transpose(1, 2), mu_x.transpose(1, 2)).transpose(1, 2)  # (B, M, T)
        noise = torch.randn(mu_y.shape, generator=generator, device=mu_y.device, dtype=mu_y.dtype)
        z = mu_y + noise / temperature
        y = self.decoder.reverse(z, y_mask, mu_y, n_timesteps, stochastic, speaker, generator)
        return GradTTSSynthesisOutput(
            spectrogram=y[:, :, :frames].transpose(1, 2),
            spectrogram_lengths=lengths,
            durations=durations,
            encoder_spectrogram=mu_y[:, :, :frames].transpose(1, 2),
        )
