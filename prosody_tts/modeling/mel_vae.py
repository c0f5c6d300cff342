"""The Mel-VAE: log-mels (B, T, 80) ⇄ a latent sequence (B, T / 8, C) for the latent-diffusion TTS head.

::

    log-mel (B, T, M) ─ (mel − mel_mean) / mel_std, pad T to a multiple of r = Π downsample_factors
      ─ Conv1d(M → c₀) ─ [residual units, Conv1d(stride f) c_i → c_{i+1}] per level ─ residual units
      ─ bottleneck: "kl"  → Conv1d → mean, log σ² (B, 2C, T/r); z = mean (+ σ ε when sampling)
                    "rvq" → Conv1d → z (B, C, T/r) ─ residual codebooks ─ z_q (straight-through)
    z (B, C, T/r) ─ Conv1d(C → c_L) ─ [residual units, ConvTranspose1d(stride f)] per level
      ─ Conv1d(c₀ → M) ─ · mel_std + mel_mean ─► log-mel (B, T', M), T' = r · latent frames

Loss: L1 of the normalised mels over real frames (reported in log-mel units as
``reconstruction_loss``), plus ``kl_weight`` · KL(q ‖ N(0, I)) per latent element, or the RVQ
codebook + commitment terms. Every convolution is masked: padded frames never reach real ones
through the residual units, and no normalisation layer mixes statistics across the batch (a
padded batch encodes each item like the item alone, up to the convolution's reach at the end).

Spectrograms enter and leave as (B, frames, n_mels), latents as (B, latent frames, channels), like
the rest of the project; inside they are channels-first.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.mel_vae import MelVaeConfig
from ..processing.padding import length_mask
from .outputs import MelVaeOutput

__all__ = ["MelVaeModel", "ResidualUnit", "ResidualVectorQuantizer"]


class ResidualUnit(nn.Module):
    """``x + conv(silu(conv_dilated(silu(x))))`` on (B, C, T), masked before and after.

    Example:
        >>> unit = ResidualUnit(channels=4, kernel_size=3, dilation=2)
        >>> unit(torch.randn(2, 4, 7), torch.ones(2, 1, 7)).shape
        torch.Size([2, 4, 7])
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.dilated = nn.Conv1d(channels, channels, kernel_size, dilation=dilation, padding=dilation * (kernel_size // 2))
        self.pointwise = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, C, T), (B, 1, T) 0/1 mask → (B, C, T)."""
        h = self.dilated(F.silu(x) * mask)
        return (x + self.pointwise(F.silu(h))) * mask


class _Level(nn.Module):
    """Residual units (dilations 1, 3, 9, …) at one frame rate."""

    def __init__(self, channels: int, blocks: int, kernel_size: int) -> None:
        super().__init__()
        self.units = nn.ModuleList(ResidualUnit(channels, kernel_size, 3**i) for i in range(blocks))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for unit in self.units:
            x = unit(x, mask)
        return x


class ResidualVectorQuantizer(nn.Module):
    """Residual vector quantisation (SoundStream): each codebook quantises what the previous left.

    Returns the quantised (B, C, L) latent (straight-through gradient), the (B, K, L) codes, and the
    codebook + ``commitment_weight`` · commitment loss averaged over real positions.

    Example:
        >>> rvq = ResidualVectorQuantizer(codebooks=2, codebook_size=4, dim=3, commitment_weight=0.25)
        >>> q, codes, loss = rvq(torch.randn(1, 3, 5), torch.ones(1, 1, 5))
        >>> q.shape, codes.shape, bool(loss >= 0)
        (torch.Size([1, 3, 5]), torch.Size([1, 2, 5]), True)
    """

    def __init__(self, codebooks: int, codebook_size: int, dim: int, commitment_weight: float) -> None:
        super().__init__()
        self.codebooks = nn.ModuleList(nn.Embedding(codebook_size, dim) for _ in range(codebooks))
        self.commitment_weight = commitment_weight

    def forward(self, z: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        residual = z.transpose(1, 2)  # (B, L, C)
        quantized = torch.zeros_like(residual)
        codes, loss = [], z.new_zeros(())
        weight = mask.transpose(1, 2)  # (B, L, 1)
        count = weight.sum().clamp_min(1) * z.shape[1]
        for book in self.codebooks:
            distances = (residual.unsqueeze(-2) - book.weight).pow(2).sum(-1)  # (B, L, K)
            index = distances.argmin(-1)
            chosen = book(index)
            loss = loss + (((residual.detach() - chosen) ** 2 * weight).sum()
                           + self.commitment_weight * ((residual - chosen.detach()) ** 2 * weight).sum()) / count  # fmt: skip
            quantized = quantized + chosen
            residual = residual - chosen.detach()
            codes.append(index)
        z_q = z.transpose(1, 2) + (quantized - z.transpose(1, 2)).detach()  # straight-through
        return z_q.transpose(1, 2) * mask, torch.stack(codes, 1), loss


class MelVaeModel(PreTrainedModel):
    """Log-mel autoencoder with a KL or RVQ bottleneck (see the module docstring).

    Example:
        >>> vae = MelVaeModel(MelVaeConfig.tiny()).eval()
        >>> mel = torch.randn(1, 50, 80) - 5
        >>> latents, lengths = vae.encode(mel)
        >>> latents.shape, lengths.tolist(), vae.decode(latents).shape
        (torch.Size([1, 7, 16]), [7], torch.Size([1, 56, 80]))
    """

    config_class = MelVaeConfig
    base_model_prefix = "mel_vae"
    main_input_name = "spectrogram"
    #: the parts of the loss the trainer logs beside ``loss`` (``quantizer_loss`` with RVQ only)
    loss_parts: tuple[str, ...] = ("reconstruction_loss", "kl_loss", "quantizer_loss")

    def __init__(self, config: MelVaeConfig) -> None:
        super().__init__(config)
        widths = [config.channels * m for m in config.channel_mults]
        kernel, blocks = config.kernel_size, config.residual_blocks
        self.encoder_in = nn.Conv1d(config.n_mels, widths[0], kernel, padding=kernel // 2)
        self.encoder_levels = nn.ModuleList(_Level(w, blocks, kernel) for w in widths)
        self.downsamples = nn.ModuleList(
            nn.Conv1d(widths[i], widths[i + 1], f, stride=f) for i, f in enumerate(config.downsample_factors)
        )
        moments = 2 if config.bottleneck == "kl" else 1
        self.encoder_out = nn.Conv1d(widths[-1], moments * config.latent_channels, 1)
        if config.bottleneck == "rvq":
            self.quantizer = ResidualVectorQuantizer(
                config.rvq_codebooks, config.rvq_codebook_size, config.latent_channels, config.commitment_weight
            )
        self.decoder_in = nn.Conv1d(config.latent_channels, widths[-1], kernel, padding=kernel // 2)
        self.decoder_levels = nn.ModuleList(_Level(w, blocks, kernel) for w in reversed(widths))
        self.upsamples = nn.ModuleList(
            nn.ConvTranspose1d(widths[i + 1], widths[i], f, stride=f)
            for i, f in reversed(list(enumerate(config.downsample_factors)))
        )
        self.decoder_out = nn.Conv1d(widths[0], config.n_mels, kernel, padding=kernel // 2)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):  # RVQ codebooks: spread like the latents at init
            init.normal_(module.weight, mean=0.0, std=1.0)

    # ------------------------------------------------------------------ shapes
    def _check(self, spectrogram: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        if spectrogram.dim() != 3 or spectrogram.shape[-1] != self.config.n_mels:
            raise ValueError(f"spectrogram must be (batch, frames, {self.config.n_mels}), got {tuple(spectrogram.shape)}")
        if lengths is None:
            return torch.full((spectrogram.shape[0],), spectrogram.shape[1], device=spectrogram.device, dtype=torch.long)
        lengths = torch.as_tensor(lengths, device=spectrogram.device).long()
        if lengths.shape != (spectrogram.shape[0],) or bool((lengths < 1).any()) or int(lengths.max()) > spectrogram.shape[1]:
            raise ValueError(f"spectrogram_lengths must be ({spectrogram.shape[0]},) in [1, {spectrogram.shape[1]}], got {lengths.tolist()}")
        return lengths

    def latent_lengths(self, frame_lengths: torch.Tensor) -> torch.Tensor:
        """(B,) latent frames of (B,) mel frames."""
        rate = self.config.downsample_rate
        return torch.div(frame_lengths + rate - 1, rate, rounding_mode="floor")

    # ------------------------------------------------------------------ encoder / decoder
    def _encode_moments(self, spectrogram: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, M) → the bottleneck's input (B, moments·C, L), the (B, 1, L) latent mask, and the frame mask."""
        config = self.config
        rate = config.downsample_rate
        frames = -(-spectrogram.shape[1] // rate) * rate
        mask = length_mask(lengths, frames)[:, None, :].to(spectrogram.dtype)  # (B, 1, T')
        x = (spectrogram.transpose(1, 2) - config.mel_mean) / config.mel_std
        x = F.pad(x, (0, frames - x.shape[-1])) * mask
        x = self.encoder_in(x) * mask
        level_lengths = lengths
        for i, level in enumerate(self.encoder_levels):
            level_mask = length_mask(level_lengths, x.shape[-1])[:, None, :].to(x.dtype)
            x = level(x, level_mask)
            if i < len(self.downsamples):
                factor = config.downsample_factors[i]
                x = self.downsamples[i](x)
                level_lengths = torch.div(level_lengths + factor - 1, factor, rounding_mode="floor")
        latent_mask = length_mask(level_lengths, x.shape[-1])[:, None, :].to(x.dtype)
        return self.encoder_out(x) * latent_mask, latent_mask, mask

    def encode(
        self,
        spectrogram: torch.Tensor,
        spectrogram_lengths: torch.Tensor | None = None,
        sample: bool = False,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, M) log-mels → latents (B, L, C) (the posterior mean, a sample with ``sample=True``,
        or the RVQ-quantised latent) and their (B,) lengths; padded positions are 0."""
        lengths = self._check(spectrogram, spectrogram_lengths)
        moments, latent_mask, _ = self._encode_moments(spectrogram.float(), lengths)
        if self.config.bottleneck == "rvq":
            z, _, _ = self.quantizer(moments, latent_mask)
        else:
            mean, logvar = moments.chunk(2, dim=1)
            z = mean
            if sample:
                logvar = logvar.clamp(-self.config.logvar_clamp, self.config.logvar_clamp)
                noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
                z = mean + torch.exp(0.5 * logvar) * noise
        return (z * latent_mask).transpose(1, 2), latent_mask[:, 0].sum(-1).long()

    def decode(self, latents: torch.Tensor, latent_lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, L, C) latents → (B, L · rate, M) log-mels (frames past a length are decoded from zeros)."""
        config = self.config
        if latents.dim() != 3 or latents.shape[-1] != config.latent_channels:
            raise ValueError(f"latents must be (batch, frames, {config.latent_channels}), got {tuple(latents.shape)}")
        z = latents.transpose(1, 2).to(self.dtype)
        lengths = (
            torch.full((z.shape[0],), z.shape[-1], device=z.device, dtype=torch.long)
            if latent_lengths is None
            else torch.as_tensor(latent_lengths, device=z.device).long()
        )
        mask = length_mask(lengths, z.shape[-1])[:, None, :].to(z.dtype)
        x = self.decoder_in(z * mask) * mask
        for i, level in enumerate(self.decoder_levels):
            x = level(x, mask)
            if i < len(self.upsamples):
                factor = config.downsample_factors[len(self.upsamples) - 1 - i]
                x = self.upsamples[i](x)
                lengths = lengths * factor
                mask = length_mask(lengths, x.shape[-1])[:, None, :].to(x.dtype)
                x = x * mask
        mel = self.decoder_out(x) * config.mel_std + config.mel_mean
        return mel.transpose(1, 2)

    # ------------------------------------------------------------------ training
    def forward(
        self,
        spectrogram: torch.Tensor,
        spectrogram_lengths: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **unused: Any,
    ) -> MelVaeOutput | tuple:
        """Reconstruction of (B, T, M) log-mels and the training loss (see the module docstring).

        Other keyword arguments (a text-to-speech batch's token ids) are refused by name: the
        trainer's batches carry the log-mels alone (``TextToSpeechCollator(spectrogram_only=True)``)."""
        if unused:
            raise TypeError(f"MelVaeModel.forward got unexpected arguments: {sorted(unused)}")
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        config = self.config
        lengths = self._check(spectrogram, spectrogram_lengths)
        moments, latent_mask, frame_mask = self._encode_moments(spectrogram.float(), lengths)
        latent_count = latent_mask.sum() * config.latent_channels
        if config.bottleneck == "rvq":
            z, _, regulariser = self.quantizer(moments, latent_mask)
            kl = moments.new_zeros(())
        else:
            mean, logvar = moments.chunk(2, dim=1)
            logvar = logvar.clamp(-config.logvar_clamp, config.logvar_clamp)
            z = (mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)) * latent_mask
            kl = torch.sum(0.5 * (mean**2 + logvar.exp() - 1 - logvar) * latent_mask) / latent_count
            regulariser = config.kl_weight * kl
        reconstruction = self.decode(z.transpose(1, 2), latent_mask[:, 0].sum(-1).long())
        frames = spectrogram.shape[1]
        target = spectrogram.float()
        weight = frame_mask[:, 0, :frames, None]
        l1 = torch.sum((reconstruction[:, :frames] - target).abs() * weight) / (weight.sum() * config.n_mels)
        loss = l1 / config.mel_std + regulariser
        output = MelVaeOutput(
            loss=loss,
            reconstruction_loss=l1.detach(),
            kl_loss=kl.detach(),
            quantizer_loss=regulariser.detach() if config.bottleneck == "rvq" else None,
            reconstruction=reconstruction[:, :frames],
            latents=(z * latent_mask).transpose(1, 2),
            latent_lengths=latent_mask[:, 0].sum(-1).long(),
        )
        return output if return_dict else output.to_tuple()
