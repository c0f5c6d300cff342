"""Acoustic analysis shared by the synthesis metrics: one rate, one hop, mel cepstra and F0.

::

    waveform (samples,) @ any rate ─ prepare_waveform ─► x (samples',) @ settings.sampling_rate
      x ─ |STFT| (n_fft, hop) ─ mel filterbank (n_mels, fmin..fmax) ─ ln(max(·, floor)) ─► L (T, n_mels)
        ─ c_d = (2/N) Σ_n L_n cos(π d (n + ½) / N) ─ c_1 .. c_D (c_0, the level, left out) ─► (T, D)
      x ─ librosa pYIN (f0_min..f0_max, frame_length, hop) ─► f0 (T',) Hz, NaN where unvoiced;
                                                              voiced (T',) bool

Both tracks use the same hop, so a time warp found on the cepstra (:func:`~.mcd.dtw_path`)
pairs F0 frames too. The cepstra are the one-sided cosine series of the natural-log *amplitude*
mel spectrum, ``L(ω) = c_0 + Σ_{d≥1} c_d cos(d ω)`` on the mel axis — the convention of SPTK's
mel-cepstra — so ``(10 / ln 10) · sqrt(2 · Σ_{d=1..D} Δc_d²)`` is the RMS over mel bins of the
log-amplitude difference in dB after its mean is removed (exactly so for ``D = N − 1``): the
usual mel-cepstral distortion on the scale of SPTK-based figures. (An orthonormal DCT, as in
MFCCs, would inflate it by ``sqrt(N / 2)``, 6.3× for 80 mels.) Reference
and synthesised audio are both brought to ``sampling_rate`` (16 kHz by default, the rate of the
speaker and MOS-proxy models too), so systems at different rates are compared on one band.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..processing.audio import prepare_waveform

__all__ = ["AnalysisSettings", "analysis_waveform", "f0_contour", "log_mel", "mel_cepstra"]


@dataclass(frozen=True)
class AnalysisSettings:
    """Every number of the analysis front (defaults: 16 kHz, 10 ms hop, 80 mels, 13 cepstra).

    Args:
        sampling_rate: both sides are resampled to this rate (Hz).
        n_fft: STFT size (samples) of the mel spectrum.
        hop_length: frame hop (samples) of the cepstra and of F0.
        n_mels / fmin / fmax: the mel filterbank (``fmax=None``: Nyquist).
        coefficients: ``D``, cepstra ``c_1 .. c_D`` kept (13: the usual MCD).
        floor: amplitude floor before the log (silence does not dominate the distance).
        f0_min / f0_max: pYIN search range (Hz); 50–600 covers male and female speech.
        f0_frame_length: pYIN frame (samples); must hold two periods of ``f0_min``.
    """

    sampling_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 160
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    coefficients: int = 13
    floor: float = 1e-5
    f0_min: float = 50.0
    f0_max: float = 600.0
    f0_frame_length: int = 1024

    def __post_init__(self) -> None:
        for name in ("sampling_rate", "n_fft", "hop_length", "n_mels", "coefficients", "f0_frame_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"AnalysisSettings.{name} must be a positive integer, got {value!r}")
        nyquist = self.sampling_rate / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if not 0 <= self.fmin < fmax <= nyquist:
            raise ValueError(f"need 0 <= fmin < fmax <= {nyquist:g} Hz, got fmin={self.fmin}, fmax={self.fmax}")
        if self.coefficients >= self.n_mels:
            raise ValueError(f"coefficients ({self.coefficients}) must be below n_mels ({self.n_mels})")
        if not self.floor > 0:
            raise ValueError(f"floor must be > 0, got {self.floor}")
        if not 0 < self.f0_min < self.f0_max < nyquist:
            raise ValueError(f"need 0 < f0_min < f0_max < {nyquist:g} Hz, got {self.f0_min}..{self.f0_max}")
        if self.f0_frame_length < 2 * self.sampling_rate / self.f0_min:
            raise ValueError(
                f"f0_frame_length {self.f0_frame_length} holds less than two periods of f0_min "
                f"{self.f0_min:g} Hz at {self.sampling_rate} Hz: raise it or f0_min"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def frame_seconds(self) -> float:
        return self.hop_length / self.sampling_rate


def analysis_waveform(waveform: Any, sampling_rate: int, settings: AnalysisSettings) -> np.ndarray:
    """Mono float32 at ``settings.sampling_rate`` (raises :class:`~prosody_tts.processing.audio.AudioError`)."""
    return prepare_waveform(np.asarray(waveform), int(sampling_rate), settings.sampling_rate)


def log_mel(waveform: np.ndarray, settings: AnalysisSettings) -> np.ndarray:
    """``(T, n_mels)`` natural-log amplitude mel spectrum ``L`` of an analysis-rate waveform."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(waveform, dtype=np.float32), sr=settings.sampling_rate, n_fft=settings.n_fft,
        hop_length=settings.hop_length, n_mels=settings.n_mels, fmin=settings.fmin, fmax=settings.fmax,
        power=1.0, center=True,
    )  # fmt: skip  (n_mels, T)
    return np.log(np.maximum(mel, settings.floor)).T


def mel_cepstra(waveform: np.ndarray, settings: AnalysisSettings) -> np.ndarray:
    """``(T, coefficients)`` mel cepstra ``c_1..c_D`` of an analysis-rate waveform (see the module doc)."""
    import scipy.fft

    cepstra = scipy.fft.dct(log_mel(waveform, settings).astype(np.float64), type=2, axis=-1) / settings.n_mels  # (2/N) Σ L cos
    return cepstra[:, 1 : settings.coefficients + 1]


def f0_contour(waveform: np.ndarray, settings: AnalysisSettings) -> tuple[np.ndarray, np.ndarray]:
    """pYIN F0 ``(T,)`` in Hz (NaN where unvoiced) and the voicing decision ``(T,)`` bool."""
    import librosa

    f0, voiced, _ = librosa.pyin(
        np.asarray(waveform, dtype=np.float64), fmin=settings.f0_min, fmax=settings.f0_max,
        sr=settings.sampling_rate, frame_length=settings.f0_frame_length, hop_length=settings.hop_length,
        center=True,
    )  # fmt: skip
    voiced = np.asarray(voiced, dtype=bool) & np.isfinite(f0)
    return np.where(voiced, f0, math.nan), voiced
