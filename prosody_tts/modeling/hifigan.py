"""HiFi-GAN vocoder: transformers' ``SpeechT5HifiGan`` generator, plus what the original has and it lacks.

::

    log-mel (B, T, n_mels) ─ conv_pre (k 7) ─► (B, C, T)
      ─ for each upsample rate r_i: LeakyReLU ─ ConvTranspose (×r_i) ─ mean of the MRF blocks ─►
      ─ LeakyReLU ─ conv_post (k 7) ─ tanh ─► waveform (B, T · hop)          hop = Π r_i

The generator is ``SpeechT5HifiGan``'s (same layers, same numerics as the original repository's
``Generator``). Written here, because transformers lacks them:

* ``ResBlock2`` (one dilated convolution per dilation, the original V3);
* lengths: a padded batch is vocoded per item length (the convolutions see each item's own end, so
  an item's waveform is the same alone and in any batch) and returned as a :class:`VocoderOutput`
  with ``waveform_lengths``, like the Griffin-Lim vocoder, so both plug into the same slot;
* weight norm on and off with ``torch.nn.utils.parametrizations`` (``SpeechT5HifiGan.remove_weight_norm``
  calls the old API, which fails on the parametrisation its own ``apply_weight_norm`` adds).

Example:
    >>> from prosody_tts.configuration import HifiGanConfig
    >>> vocoder = HifiGanVocoder(HifiGanConfig.tiny()).eval()
    >>> vocoder(torch.zeros(2, 5, 80), torch.tensor([5, 3])).waveform_lengths.tolist()
    [1280, 768]
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize
from transformers import SpeechT5HifiGan

from ..configuration.hifigan import HifiGanConfig
from .outputs import VocoderOutput

__all__ = ["HifiGanResidualBlock2", "HifiGanVocoder", "fold_weight_norm"]

#: (gain, direction) suffixes of a weight-norm pair: the old ``torch.nn.utils.weight_norm`` API
#: (original checkpoints) and ``torch.nn.utils.parametrizations.weight_norm`` (our training).
_WEIGHT_NORM_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".weight_g", ".weight_v"),
    (".parametrizations.weight.original0", ".parametrizations.weight.original1"),
)


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict with every weight-norm pair folded into ``<module>.weight = g · v / ‖v‖``.

    The norm is over every dimension but the first (``weight_norm(dim=0)``, the default of both
    APIs), for convolutions and transposed convolutions alike. An incomplete pair is an error.
    """
    folded: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        pair = next(((g, v) for g, v in _WEIGHT_NORM_SUFFIXES if key.endswith(g) or key.endswith(v)), None)
        if pair is None:
            folded[key] = value
            continue
        gain_suffix, direction_suffix = pair
        if key.endswith(gain_suffix):
            if key[: -len(gain_suffix)] + direction_suffix not in state:
                raise ValueError(f"{key} has no matching {direction_suffix[1:]}: a weight-norm pair is incomplete")
            continue
        prefix = key[: -len(direction_suffix)]
        gain = state.get(prefix + gain_suffix)
        if gain is None:
            raise ValueError(f"{key} has no {prefix}{gain_suffix}: a weight-norm pair is incomplete")
        folded[f"{prefix}.weight"] = torch._weight_norm(value, gain, 0)
    return folded


def _padding(kernel_size: int, dilation: int) -> int:
    """'Same' padding of a dilated odd-size convolution."""
    return (kernel_size * dilation - dilation) // 2


class HifiGanResidualBlock2(nn.Module):
    """The original ``ResBlock2``: ``x = x + conv_d(LeakyReLU(x))`` for each dilation ``d``.

    Args:
        channels: input = output channels.
        kernel_size: odd kernel size of every convolution.
        dilation: one convolution per dilation (V3: (1, 2), (2, 6), (3, 12)).
        leaky_relu_slope: negative slope of the LeakyReLU before each convolution.

    Example:
        >>> HifiGanResidualBlock2(8, 3, (1, 2))(torch.zeros(1, 8, 20)).shape
        torch.Size([1, 8, 20])
    """

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3), leaky_relu_slope: float = 0.1) -> None:
        super().__init__()
        self.leaky_relu_slope = leaky_relu_slope
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=_padding(kernel_size, d)) for d in dilation
        )

    def apply_weight_norm(self) -> None:
        for conv in self.convs:
            nn.utils.parametrizations.weight_norm(conv)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            hidden_states = hidden_states + conv(nn.functional.leaky_relu(hidden_states, self.leaky_relu_slope))
        return hidden_states


class HifiGanVocoder(SpeechT5HifiGan):
    """HiFi-GAN generator with lengths and ``VocoderOutput`` (see the module docstring).

    Args:
        config: a :class:`~prosody_tts.configuration.hifigan.HifiGanConfig`.
    """

    config_class = HifiGanConfig
    config: HifiGanConfig

    def __init__(self, config: HifiGanConfig) -> None:
        super().__init__(config)  # builds ResBlock1 blocks and runs post_init
        if config.resblock == "2":
            channels = [config.upsample_initial_channel // 2 ** (i + 1) for i in range(len(config.upsample_rates))]
            self.resblocks = nn.ModuleList(
                HifiGanResidualBlock2(c, k, tuple(d), config.leaky_relu_slope)
                for c in channels
                for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes, strict=True)
            )
            self.post_init()  # initialises the new blocks (the others are marked as done)

    def _weighted(self) -> Iterator[nn.Module]:
        """Every convolution of the generator (the ones the original wraps in weight norm)."""
        yield from (m for m in self.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)))

    def remove_weight_norm(self) -> None:
        """Fold the weight-norm parametrisation (``apply_weight_norm``) back into plain weights."""
        for module in self._weighted():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)

    def folded_copy(self) -> HifiGanVocoder:
        """A new vocoder with this one's weights, weight norm folded (``deepcopy`` of a
        parametrised module shares its generated class, so removing the copy's norm would break
        this one)."""
        copy = type(self)(self.config)
        copy.load_state_dict(fold_weight_norm(self.state_dict()), strict=True)
        return copy.to(self.device)

    @property
    def has_weight_norm(self) -> bool:
        """Whether ``apply_weight_norm`` is in effect (a trainer's generator; saved ones are folded)."""
        return any(parametrize.is_parametrized(m, "weight") for m in self._weighted())

    def forward(
        self,
        spectrogram: torch.Tensor,
        spectrogram_lengths: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: object,
    ) -> VocoderOutput | tuple:
        """Waveforms of (B, T, n_mels) log-mels (right-padded; ``spectrogram_lengths`` (B,) frames).

        Returns a :class:`VocoderOutput`: ``waveform`` (B, T · hop), zero past each item's
        ``waveform_lengths`` (frames · hop).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        config = self.config
        if spectrogram.dim() != 3 or spectrogram.shape[-1] != config.model_in_dim:
            raise ValueError(
                f"spectrogram must be (batch, frames, {config.model_in_dim}) log-mels, got {tuple(spectrogram.shape)}"
            )
        batch, frames, _ = spectrogram.shape
        if spectrogram_lengths is None:
            spectrogram_lengths = torch.full((batch,), frames, dtype=torch.long)
        lengths = spectrogram_lengths.long().cpu()
        if lengths.shape != (batch,) or bool((lengths < 1).any()) or bool((lengths > frames).any()):
            raise ValueError(f"spectrogram_lengths must be (batch,) in [1, {frames}], got {lengths.tolist()}")
        hop = config.hop_length
        if bool((lengths == frames).all()):
            waveform = super().forward(spectrogram)
        else:
            waveform = spectrogram.new_zeros(batch, frames * hop)
            for length in sorted(set(lengths.tolist()), reverse=True):
                rows = torch.nonzero(lengths == length).flatten().to(spectrogram.device)
                waveform[rows, : length * hop] = super().forward(spectrogram[rows, :length])
        output = VocoderOutput(waveform=waveform, waveform_lengths=lengths * hop)
        return output if return_dict else output.to_tuple()
