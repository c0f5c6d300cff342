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
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.grad_tts import GradTTSConfig
from ..processing.blanks import intersperse_batch
from ..processing.padding import length_mask
from .alignment import durations_from_path, maximum_path
from .diffusion import ScoreDiffusion
from .dual_stream import DualStreamModel
from .grad_tts_dual_stream import DUAL_STREAM_INPUTS, DualStreamTTSEncoder
from .grad_tts_encoder import ChannelLayerNorm, GradTTSTextEncoder, RelativeMultiHeadAttention
from .outputs import GradTTSOutput, GradTTSSynthesisOutput
from .tts_inputs import TTSInputsMixin
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


class GradTTSModel(TTSInputsMixin, PreTrainedModel):
    """Text-to-spectrogram Grad-TTS with the faithful or our dual-stream encoder (see the module docstring).

    Text inputs, one of:

    * ``input_ids`` (B, N) [+ ``attention_mask``]: the faithful encoder's ids exactly as given
      (blanks already interspersed, as the official front-end and converted checkpoints expect);
    * the processor's keys (``phoneme_input_ids``, ``phoneme_attention_mask``, ``phoneme_word_ids``,
      ``bpe_*``): the dual-stream encoder reads them all; the faithful encoder reads the phoneme
      ids and intersperses ``blank_id`` itself (:mod:`~prosody_tts.processing.blanks`).

    ``forward`` with ``spectrogram`` returns the training losses; without it, it synthesises (like
    ``VitsModel``), which is what the text-to-speech pipeline calls.

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
        if config.num_speakers > 1:
            self.spk_emb = nn.Embedding(config.num_speakers, config.speaker_embedding_dim)
        if config.encoder_type == "dual_stream":
            self.encoder = DualStreamTTSEncoder(config)
        else:
            self.encoder = GradTTSTextEncoder(config)
        self.decoder = ScoreDiffusion(
            config.n_mels, config.decoder_dim, tuple(config.decoder_dim_mults), config.decoder_groups,
            config.decoder_speakers, config.speaker_embedding_dim, config.beta_min, config.beta_max,
            config.pe_scale, config.decoder_attention_heads, config.decoder_attention_head_dim,
        )  # fmt: skip
        self.post_init()

    @classmethod
    def from_text_encoder(cls, encoder: Any, tiny: bool = False, **overrides: Any) -> GradTTSModel:
        """A new Grad-TTS over a trained dual-stream encoder: a ``DualStreamModel`` or any curriculum
        stage directory (stage 1 MLM, stage 2/3 contrastive, an exported ``encoder/``) or model.

        The encoder's weights are copied in; the μ projection, duration predictor and decoder are
        new. A stage-1 encoder has no fusion blocks; they start as the identity (zero-init).

        Args:
            tiny: the tiny decoder preset (:meth:`GradTTSConfig.tiny`'s sizes) instead of the paper's.
            overrides: any other ``GradTTSConfig`` field (``num_speakers``, ``freeze_text_encoder``, …).
        """
        from .loading import load_model

        loaded = load_model(encoder)
        text_model = getattr(loaded, "text_model", None) or getattr(loaded, "dual_stream", None) or loaded
        if not isinstance(text_model, DualStreamModel):
            raise TypeError(f"no dual-stream encoder in {type(loaded).__name__} (expected a curriculum stage)")
        if tiny:
            sizes = GradTTSConfig.tiny().to_diff_dict()
            keep = ("encoder_kernel_size", "encoder_dropout", "duration_predictor_channels", "segment_frames")
            keep += tuple(k for k in sizes if k.startswith("decoder_"))
            overrides = {**{k: v for k, v in sizes.items() if k in keep}, **overrides}
        model = cls(GradTTSConfig.with_text_encoder(text_model.config, **overrides))
        result = model.encoder.text_model.load_state_dict(text_model.state_dict(), strict=False)
        if result.unexpected_keys:
            raise ValueError(f"the encoder has weights the dual-stream model lacks: {result.unexpected_keys[:5]}")
        return model

    def _init_weights(self, module: nn.Module) -> None:
        """Official initialisation where it matters: embedding N(0, C^-½), the prenet's zero
        projection, Rezero gates at 0; other linear/conv weights N(0, initializer_range). The
        dual-stream encoder keeps its own ``_init_weights`` (v5 dispatches nested models to it)."""
        std = self.config.initializer_range
        faithful = isinstance(self.encoder, GradTTSTextEncoder)
        if isinstance(module, Rezero):
            init.zeros_(module.g)
        elif isinstance(module, RelativeMultiHeadAttention):
            for table in (module.emb_rel_k, module.emb_rel_v):
                init.normal_(table, mean=0.0, std=module.k_channels**-0.5)
        elif isinstance(module, ChannelLayerNorm):
            init.ones_(module.gamma)
            init.zeros_(module.beta)
        elif isinstance(module, nn.Embedding):
            scale = self.config.encoder_channels**-0.5 if faithful and module is self.encoder.emb else std
            init.normal_(module.weight, mean=0.0, std=scale)
        elif isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            if faithful and module is self.encoder.prenet.proj:  # the prenet starts as the identity
                init.zeros_(module.weight)
            else:
                init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.GroupNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)

    # ------------------------------------------------------------------ inputs
    def _text(
        self, input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, text: dict[str, torch.Tensor | None]
    ) -> tuple[Any, torch.Tensor]:
        """(what the encoder reads, (B, 1, N) mask) from ``input_ids`` or the processor's keys."""
        text = {key: value for key, value in text.items() if value is not None}
        dual = self.config.encoder_type == "dual_stream"
        if input_ids is not None and text:
            raise ValueError("give input_ids or the processor's phoneme_* / bpe_* keys, not both")
        if dual and input_ids is not None:
            raise ValueError("the dual-stream encoder reads the processor's keys (phoneme_input_ids, ...), not input_ids")
        if input_ids is None:
            if "phoneme_input_ids" not in text:
                raise ValueError("no text: pass input_ids or the processor's phoneme_input_ids (and the other keys)")
            if dual:
                mask = text.get("phoneme_attention_mask")
                ids = text["phoneme_input_ids"]
                return text, self._text_mask(ids, mask, self.config.text_config.phoneme_vocab_size)
            input_ids, attention_mask = text["phoneme_input_ids"], text.get("phoneme_attention_mask")
            if self.config.blank_id is not None:
                mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
                input_ids, attention_mask = intersperse_batch(input_ids, mask, self.config.blank_id)
        return input_ids, self._text_mask(input_ids, attention_mask, self.config.vocab_size)

    # ------------------------------------------------------------------ training
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        spectrogram: torch.Tensor | None = None,
        spectrogram_lengths: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> GradTTSOutput | GradTTSSynthesisOutput | tuple:
        """The three losses on (B, T, n_mels) ground-truth log-mels ``spectrogram`` (right-padded).

        Without ``spectrogram``: :meth:`synthesize` with the remaining keyword arguments
        (``n_timesteps``, ``temperature``, …). Other keyword arguments are the processor's keys
        (``phoneme_input_ids``, ``bpe_input_ids``, …); ``phoneme_durations`` is ignored in training
        (Grad-TTS learns its own durations by monotonic alignment search).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if spectrogram is None:
            output = self.synthesize(input_ids, attention_mask, speaker_ids, speaker_embeds=speaker_embeds, **kwargs)
            return output if return_dict else output.to_tuple()
        kwargs.pop("phoneme_durations", None)
        text_keys = set(DUAL_STREAM_INPUTS)
        unknown = sorted(set(kwargs) - text_keys)
        if unknown:
            raise TypeError(f"GradTTSModel.forward got unexpected arguments: {unknown}")
        text, x_mask = self._text(input_ids, attention_mask, kwargs)
        speaker = self._speaker(speaker_ids, speaker_embeds, x_mask.shape[0])
        y = spectrogram.transpose(1, 2).float()  # (B, M, T)
        if y.shape[1] != self.config.n_mels:
            raise ValueError(f"spectrogram must be (batch, frames, {self.config.n_mels}), got {tuple(spectrogram.shape)}")
        if spectrogram_lengths is None:
            spectrogram_lengths = torch.full((y.shape[0],), y.shape[-1], device=y.device)
        y_mask = length_mask(spectrogram_lengths, y.shape[-1]).float()[:, None, :]  # (B, 1, T)
        mu_x, log_w = self.encoder(text, x_mask, speaker)
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
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        n_timesteps: int = 10,
        temperature: float = 1.5,
        length_scale: float = 1.0,
        stochastic: bool = False,
        generator: torch.Generator | None = None,
        durations: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        **text: torch.Tensor,
    ) -> GradTTSSynthesisOutput:
        """Mel spectrograms of the text: predicted (or given) durations, then ``n_timesteps`` reverse steps.

        Args:
            input_ids / attention_mask / text: the text inputs (see the class docstring).
            n_timesteps: Euler steps of the probability-flow ODE (or of the reverse SDE with
                ``stochastic=True``). temperature: the starting point is μ + ε / temperature.
            length_scale: multiplies the (ceiled) durations: > 1 speaks slower.
            generator: seeds the starting noise (and the SDE's noise).
            durations: (B, N) frames per token to use instead of the predictor's (e.g. ground
                truth, to measure the decoder alone): on the token axis, or, when the text came as
                ``phoneme_input_ids`` and blanks are interspersed, on the phoneme axis (blanks get 0).
        """
        if n_timesteps < 1:
            raise ValueError(f"n_timesteps must be >= 1, got {n_timesteps}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if length_scale <= 0:
            raise ValueError(f"length_scale must be > 0, got {length_scale}")
        unknown = sorted(set(text) - set(DUAL_STREAM_INPUTS) - {"phoneme_durations"})
        if unknown:
            raise TypeError(f"GradTTSModel.synthesize got unexpected arguments: {unknown}")
        text.pop("phoneme_durations", None)
        phoneme_axis = input_ids is None and self.config.encoder_type == "grad_tts" and self.config.blank_id is not None
        tokens, x_mask = self._text(input_ids, attention_mask, text)
        speaker = self._speaker(speaker_ids, speaker_embeds, x_mask.shape[0])
        mu_x, log_w = self.encoder(tokens, x_mask, speaker)
        if durations is None:
            durations = self._ceil_durations(log_w, x_mask) * length_scale  # (B, N)
        else:
            durations = self._given_durations(durations, x_mask, phoneme_axis) * length_scale
        lengths = torch.clamp_min(torch.sum(durations, dim=1), 1).long()  # (B,)
        frames = int(lengths.max())
        padded = fix_len_compatibility(frames, self.config.decoder_levels)
        y_mask = length_mask(lengths, padded)[:, None, :].to(mu_x)
        path = path_from_durations(durations, x_mask.transpose(1, 2) * y_mask)
        mu_y = torch.matmul(path.transpose(1, 2), mu_x.transpose(1, 2)).transpose(1, 2)  # (B, M, T)
        noise = torch.randn(mu_y.shape, generator=generator, device=mu_y.device, dtype=mu_y.dtype)
        z = mu_y + noise / temperature
        y = self._reverse_by_length(z, y_mask, mu_y, lengths, n_timesteps, stochastic, speaker, generator)
        return GradTTSSynthesisOutput(
            spectrogram=y[:, :, :frames].transpose(1, 2),
            spectrogram_lengths=lengths,
            durations=durations,
            encoder_spectrogram=mu_y[:, :, :frames].transpose(1, 2),
        )

    def _reverse_by_length(
        self,
        z: torch.Tensor,
        y_mask: torch.Tensor,
        mu_y: torch.Tensor,
        lengths: torch.Tensor,
        n_timesteps: int,
        stochastic: bool,
        speaker: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """The reverse process run on each item's own padded length, items of one length together.

        Why: the official U-Net's GroupNorm and linear attention have no mask, so padded frames
        would shift every statistic; it is trained on full crops and sampled one utterance at a
        time. Measured on a trained tiny model: held-out mel L1 2.08 item by item, 10.8 in padded
        batches of 8 before this grouping.
        """
        levels = self.config.decoder_levels
        own = [fix_len_compatibility(int(n), levels) for n in lengths.tolist()]
        y = torch.zeros_like(z)
        for size in sorted(set(own)):
            rows = torch.tensor([b for b, s in enumerate(own) if s == size], device=z.device)
            spk = None if speaker is None else speaker[rows]
            y[rows, :, :size] = self.decoder.reverse(
                z[rows, :, :size], y_mask[rows, :, :size], mu_y[rows, :, :size], n_timesteps, stochastic, spk, generator
            )
        return y

    @staticmethod
    def _ceil_durations(log_w: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        return torch.ceil(torch.exp(log_w) * x_mask).squeeze(1)

    @torch.no_grad()
    def predict_durations(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        **text: torch.Tensor,
    ) -> torch.Tensor:
        """(B, N) frames per token the duration predictor gives (``ceil(w)``; 0 on padding), no decoder run."""
        text.pop("phoneme_durations", None)
        tokens, x_mask = self._text(input_ids, attention_mask, text)
        speaker = self._speaker(speaker_ids, speaker_embeds, x_mask.shape[0])
        _, log_w = self.encoder(tokens, x_mask, speaker)
        return self._ceil_durations(log_w, x_mask)

    @torch.no_grad()
    def align(
        self,
        spectrogram: torch.Tensor,
        spectrogram_lengths: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        **text: torch.Tensor,
    ) -> torch.Tensor:
        """(B, N) frames per token of the monotonic alignment of the text to the (B, T, n_mels)
        ``spectrogram`` under the encoder's μ (the durations training uses), on the token axis."""
        text.pop("phoneme_durations", None)
        tokens, x_mask = self._text(input_ids, attention_mask, text)
        speaker = self._speaker(speaker_ids, speaker_embeds, x_mask.shape[0])
        y = spectrogram.transpose(1, 2).float()
        if spectrogram_lengths is None:
            spectrogram_lengths = torch.full((y.shape[0],), y.shape[-1], device=y.device)
        y_mask = length_mask(spectrogram_lengths, y.shape[-1]).float()[:, None, :]
        mu_x, _ = self.encoder(tokens, x_mask, speaker)
        path = maximum_path(alignment_log_prior(mu_x, y), x_mask.transpose(1, 2) * y_mask)
        return durations_from_path(path)

    @staticmethod
    def _given_durations(durations: torch.Tensor, x_mask: torch.Tensor, phoneme_axis: bool) -> torch.Tensor:
        """Given (B, N) frames per token; on the phoneme axis (N phonemes, blanks interspersed
        by the model) blanks get 0 frames, on the token axis (2N + 1) they are used as given."""
        durations = durations.to(x_mask)
        if phoneme_axis and durations.shape[1] != x_mask.shape[-1]:
            blanks = durations.new_zeros(durations.shape[0], 2 * durations.shape[1] + 1)
            blanks[:, 1::2] = durations
            durations = blanks
        if durations.shape != x_mask.shape[::2]:
            raise ValueError(f"durations must be (batch, tokens) = {tuple(x_mask.shape[::2])}, got {tuple(durations.shape)}")
        if bool((durations < 0).any()):
            raise ValueError("durations must be >= 0 frames")
        return durations * x_mask.squeeze(1)
