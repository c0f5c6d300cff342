"""Griffin-Lim vocoder: log-mels back to a waveform with no weights, batched in torch.

::

    log-mel (B, T, n_mels) ─ exp ─► mel ─ pinv(filterbank), clamp ≥ 0 ─► |STFT| (B, F, T) ^ power
      ─► fast Griffin-Lim (n_iter × [iSTFT → STFT → keep the phase, with momentum])
      ─► iSTFT ─► shift by hop/2 to the extractor's framing ─► waveform (B, T · hop)

The filterbank, window and framing are the feature extractor's
(:mod:`prosody_tts.processing.feature_extraction`: reflect padding of ``(n_fft - hop) / 2`` and
``center=False``, so frame ``k`` is centred on sample ``k · hop + hop / 2``); the iSTFT here is
centred on ``k · hop``, hence the half-hop shift, so re-extracting the mels of the output lines
up with the input frame for frame. The magnitude is the non-negative least-squares inverse of
the filterbank (multiplicative updates from the pseudo-inverse), the phase comes from fast
Griffin-Lim (Perraudin et al. 2013), as in ``librosa.griffinlim``.

Written here because torchaudio is not usable in this project; it has no weights, so it is a
``PreTrainedModel`` only to load, save and plug into the text-to-speech chain like a neural vocoder.
"""

from __future__ import annotations

import logging

import torch
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.vocoder import GriffinLimConfig
from ..processing.feature_extraction import mel_filterbank
from .outputs import VocoderOutput

__all__ = ["GriffinLimVocoder"]

_PHASE_EPS = 1e-16  # keeps the phase normalisation finite at silent bins
logger = logging.getLogger(__name__)

_NNLS_FLOOR = 1e-10  # keeps the multiplicative updates away from 0 / 0


class GriffinLimVocoder(PreTrainedModel):
    """Weight-free vocoder for the offline chain (see the module docstring).

    Example:
        >>> vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=4))
        >>> out = vocoder(torch.full((1, 20, 80), -5.0), generator=torch.Generator().manual_seed(0))
        >>> out.waveform.shape
        torch.Size([1, 5120])
    """

    config_class = GriffinLimConfig
    main_input_name = "spectrogram"
    _no_split_modules: list[str] = []

    def __init__(self, config: GriffinLimConfig) -> None:
        super().__init__(config)
        filters, inverse, window = self._derived(config)
        # derived from the config: not saved, rebuilt on load (also inside a composite model)
        self.register_buffer("filters", filters, persistent=False)
        self.register_buffer("inverse_filters", inverse, persistent=False)
        self.register_buffer("window", window, persistent=False)
        self.post_init()

    @staticmethod
    def _derived(config: GriffinLimConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mel filterbank (n_mels, F), its pseudo-inverse (F, n_mels) and the Hann window."""
        filters = torch.from_numpy(
            mel_filterbank(
                config.sampling_rate, config.n_fft, config.num_mel_bins, config.f_min, config.f_max,
                config.mel_scale, config.mel_norm,
            )
        )  # fmt: skip
        inverse = torch.linalg.pinv(filters.double()).float()
        return filters, inverse, torch.hann_window(config.win_length, periodic=True)

    def _init_weights(self, module: torch.nn.Module) -> None:
        """No weights; the derived buffers are set again here, because a model that holds this
        vocoder (``TextToWaveformModel``) is loaded with uninitialised buffers."""
        if module is self:
            for buffer, value in zip((self.filters, self.inverse_filters, self.window), self._derived(self.config), strict=True):
                init.copy_(buffer, value)

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str,
        *args: object,
        config: GriffinLimConfig | None = None,
        **kwargs: object,
    ) -> GriffinLimVocoder:
        """The config is the whole model (``save_pretrained`` writes no weights file): load it, build."""
        if config is None:
            hub = {
                k: kwargs[k]
                for k in ("cache_dir", "force_download", "local_files_only", "token", "revision")
                if k in kwargs
            }
            config = cls.config_class.from_pretrained(pretrained_model_name_or_path, **hub)
        return cls(config)

    # transformers reads these from the first parameter; a weight-free model answers from its buffers
    @property
    def dtype(self) -> torch.dtype:
        return self.filters.dtype

    @property
    def device(self) -> torch.device:
        return self.filters.device

    def _stft(self, waveform: torch.Tensor) -> torch.Tensor:
        config = self.config
        return torch.stft(
            waveform, config.n_fft, config.hop_length, config.win_length, self.window,
            center=True, pad_mode="reflect", return_complex=True,
        )  # fmt: skip

    def _istft(self, spectrum: torch.Tensor, length: int) -> torch.Tensor:
        config = self.config
        return torch.istft(
            spectrum,
            config.n_fft,
            config.hop_length,
            config.win_length,
            self.window,
            center=True,
            length=length,
        )

    def magnitude(self, spectrogram: torch.Tensor) -> torch.Tensor:
        """(B, T, n_mels) log-mels → (B, F, T) non-negative linear magnitudes.

        Non-negative least squares ``min ||mel - filters · S||, S >= 0`` by ``config.nnls_iter``
        multiplicative updates (Lee & Seung), started from the clamped pseudo-inverse: on a
        voiced test signal the pseudo-inverse alone re-projects to mels 0.15 off (mean |log|), 100
        updates to 0.008.
        """
        spectrogram = spectrogram.float()
        if bool((spectrogram > self.config.max_log_mel).any()):
            logger.warning(
                "log-mels up to %.1f clamped to max_log_mel=%.1f (real speech stays below ~3: is the TTS model trained?)",
                float(spectrogram.max()), self.config.max_log_mel,
            )  # fmt: skip
            spectrogram = spectrogram.clamp(max=self.config.max_log_mel)
        mel = torch.exp(spectrogram).transpose(1, 2)  # (B, n_mels, T)
        filters, inverse = self.filters, self.inverse_filters  # (n_mels, F), (F, n_mels)
        estimate = torch.clamp(inverse @ mel, min=_NNLS_FLOOR)  # (B, F, T)
        numerator = filters.T @ mel  # (B, F, T)
        gram = filters.T @ filters  # (F, F)
        for _ in range(self.config.nnls_iter):
            estimate = estimate * numerator / (gram @ estimate + _NNLS_FLOOR)
        return estimate**self.config.power

    def forward(
        self,
        spectrogram: torch.Tensor,
        spectrogram_lengths: torch.Tensor | None = None,
        n_iter: int | None = None,
        generator: torch.Generator | None = None,
        return_dict: bool | None = None,
    ) -> VocoderOutput | tuple:
        """Waveforms of (B, T, n_mels) log-mels (right-padded; ``spectrogram_lengths`` (B,) frames).

        Args:
            n_iter: iterations for this call (default ``config.n_iter``).
            generator: seeds the random initial phase (``init_phase="random"``).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        config = self.config
        if spectrogram.dim() != 3 or spectrogram.shape[-1] != config.num_mel_bins:
            raise ValueError(
                f"spectrogram must be (batch, frames, {config.num_mel_bins}) log-mels, got {tuple(spectrogram.shape)}"
            )
        n_iter = config.n_iter if n_iter is None else n_iter
        if n_iter < 0:
            raise ValueError(f"n_iter must be >= 0, got {n_iter}")
        batch, frames, _ = spectrogram.shape
        if spectrogram_lengths is None:
            spectrogram_lengths = torch.full((batch,), frames, dtype=torch.long)
        lengths = spectrogram_lengths.long().cpu()
        if bool((lengths < 1).any()) or bool((lengths > frames).any()):
            raise ValueError(f"spectrogram_lengths must be in [1, {frames}], got {lengths.tolist()}")
        # items of one length run together, each on its own frames only, so an item's waveform is
        # the same alone and in any batch (the STFT's edge padding sees the item's own end)
        waveform = torch.zeros(batch, frames * config.hop_length, device=spectrogram.device)
        for length in sorted(set(lengths.tolist()), reverse=True):
            rows = torch.nonzero(lengths == length).flatten()
            waveform[rows, : length * config.hop_length] = self._vocode(
                spectrogram[rows.to(spectrogram.device), :length], n_iter, generator
            )
        samples = lengths * config.hop_length
        output = VocoderOutput(waveform=waveform, waveform_lengths=samples)
        return output if return_dict else output.to_tuple()

    def _vocode(self, spectrogram: torch.Tensor, n_iter: int, generator: torch.Generator | None) -> torch.Tensor:
        """(b, T, n_mels) log-mels of one length → (b, T · hop) samples in the extractor's framing."""
        hop = self.config.hop_length
        frames = spectrogram.shape[1]
        # a centred STFT of T·hop samples has T + 1 frames: the last one is silence
        magnitude = torch.nn.functional.pad(self.magnitude(spectrogram), (0, 1))
        waveform = self._griffin_lim(magnitude, frames * hop, n_iter, generator)
        # the extractor's frame k is centred on sample k·hop + hop/2, the centred iSTFT's on k·hop
        return torch.nn.functional.pad(waveform, (hop // 2, 0))[:, : frames * hop]

    def _griffin_lim(
        self, magnitude: torch.Tensor, length: int, n_iter: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Fast Griffin-Lim: the phase that makes the STFT of the iSTFT agree with ``magnitude``."""
        if self.config.init_phase == "random":
            phase = torch.rand(magnitude.shape, generator=generator, device=magnitude.device) * (2 * torch.pi)
            angles = torch.polar(torch.ones_like(magnitude), phase)
        else:
            angles = torch.ones_like(magnitude, dtype=torch.complex64)
        previous = torch.zeros_like(angles)
        factor = self.config.momentum / (1 + self.config.momentum)
        for _ in range(n_iter):
            rebuilt = self._stft(self._istft(magnitude * angles, length))
            angles = rebuilt - factor * previous
            angles = angles / (angles.abs() + _PHASE_EPS)
            previous = rebuilt
        return self._istft(magnitude * angles, length)
