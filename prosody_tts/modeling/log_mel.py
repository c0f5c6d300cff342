"""A differentiable log-mel spectrogram in torch, framed like the feature extractor (for training losses).

::

    waveform (B, S) ─ reflect-pad (n_fft - hop) / 2 ─ STFT (center=False, periodic Hann)
      ─ sqrt(|X|² + eps) ─ mel filterbank ─ log(clamp(·, log_floor)) ─► (B, S // hop, n_mels)

:class:`~prosody_tts.processing.feature_extraction.MelFeatureExtractor` computes the same frames
for data (numpy in, no autograd, batched end to end); this module keeps the graph, so a vocoder's
mel loss can backpropagate into the waveform. ``eps`` (the original HiFi-GAN's 1e-9) keeps the
magnitude's gradient finite at silent bins.

Example:
    >>> LogMelSpectrogram(22050, 1024, 256, 1024, 80)(torch.zeros(2, 2560)).shape
    torch.Size([2, 10, 80])
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import initialization as init

from ..processing.feature_extraction import mel_filterbank

__all__ = ["LogMelSpectrogram"]


class LogMelSpectrogram(nn.Module):
    """Log-mels of waveforms with autograd (see the module docstring).

    Args:
        sampling_rate / n_fft / hop_length / win_length / num_mel_bins / f_min / f_max /
            mel_scale / mel_norm / log_floor: the mel settings (a vocoder config's, see
            :data:`~prosody_tts.configuration.vocoder.MEL_SETTINGS`).
        eps: added to |X|² before the square root.
    """

    def __init__(
        self,
        sampling_rate: int,
        n_fft: int,
        hop_length: int,
        win_length: int,
        num_mel_bins: int,
        f_min: float = 0.0,
        f_max: float | None = None,
        mel_scale: str = "slaney",
        mel_norm: str | None = "slaney",
        log_floor: float = 1e-5,
        eps: float = 1e-9,
    ) -> None:
        super().__init__()
        if (n_fft - hop_length) % 2 or win_length > n_fft:
            raise ValueError("need win_length <= n_fft and an even n_fft - hop_length (the extractor's framing)")
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        self.log_floor, self.eps = log_floor, eps
        self._settings = (sampling_rate, n_fft, num_mel_bins, f_min, f_max, mel_scale, mel_norm)
        filters, window = self._derived()
        # derived from the settings: not saved, rebuilt by reset_buffers on load
        self.register_buffer("filters", filters, persistent=False)  # (n_mels, F)
        self.register_buffer("window", window, persistent=False)

    def _derived(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(mel_filterbank(*self._settings)), torch.hann_window(self.win_length, periodic=True)

    def reset_buffers(self) -> None:
        """Set the filterbank and window again (a model holding this module calls it from
        ``_init_weights``: ``from_pretrained`` leaves non-persistent buffers uninitialised)."""
        for buffer, value in zip((self.filters, self.window), self._derived(), strict=True):
            init.copy_(buffer, value)

    @classmethod
    def from_config(cls, config: object, f_max: float | None = None, eps: float = 1e-9, keep_f_max: bool = True) -> LogMelSpectrogram:
        """The log-mels of a vocoder config's mel settings (``f_max`` replaced unless ``keep_f_max``)."""
        settings = dict(config.mel_settings())  # type: ignore[attr-defined]
        if not keep_f_max:
            settings["f_max"] = f_max
        return cls(eps=eps, **settings)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) waveforms → (B, S // hop, n_mels) log-mels."""
        if waveform.dim() != 2:
            raise ValueError(f"waveform must be (batch, samples), got {tuple(waveform.shape)}")
        pad = (self.n_fft - self.hop_length) // 2
        padded = nn.functional.pad(waveform[:, None, :], (pad, pad), mode="reflect")[:, 0]
        spec = torch.stft(
            padded, self.n_fft, self.hop_length, self.win_length, self.window,
            center=False, normalized=False, onesided=True, return_complex=True,
        )  # fmt: skip  # (B, F, frames)
        power = torch.view_as_real(spec).square().sum(-1)
        magnitude = torch.sqrt(power + self.eps)
        mel = torch.matmul(self.filters, magnitude)  # (B, n_mels, frames)
        return torch.log(torch.clamp(mel, min=self.log_floor)).transpose(1, 2)
