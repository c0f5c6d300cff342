"""Mel-cepstral distortion (MCD), with or without a time warp, and the warp itself.

::

    reference cepstra  c (T_r, D) ─┐
                                   ├─ dtw_path (exact DTW, Euclidean, steps (1,0) (0,1) (1,1)) ─► path (N, 2)
    synthesised cepstra ĉ (T_s, D) ┘
      MCD = mean over the path of (10 / ln 10) · sqrt(2 · Σ_d (c_d − ĉ_d)²)    [dB]

``align="none"`` pairs frame t with frame t (same-length inputs, e.g. vocoder copy synthesis).
The warp is librosa's exact dynamic programme; the ``mel-cepstral-distance`` package (fastdtw
with a radius that covers both sequences, hence also exact) gives the same distance on the same
cepstra up to the constant (it reports ``sqrt(Σ Δc²)``), which the tests check. One caveat of
every DTW-MCD: where many frames are identical (digital silence at the log floor), several
paths share the minimal cost but differ in length, and the mean over the path depends on
which one the tie-breaking picks (the two implementations then differ by a few per cent).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .analysis import AnalysisSettings, analysis_waveform, mel_cepstra

__all__ = ["MCD_DB_SCALE", "cepstrum_matrix", "dtw_path", "log_mel_cepstra", "mcd_from_audio", "mel_cepstral_distortion"]

#: 10 / ln 10 · sqrt(2): natural-log cepstral distance → dB
MCD_DB_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)


def cepstrum_matrix(n_mels: int) -> np.ndarray:
    """``(n_mels, n_mels)`` cosine-series matrix ``C``, ``c = C @ L`` (see :mod:`.analysis`).

    ``c_0 = (1/N) Σ_n L_n`` (the mean level) and ``c_d = (2/N) Σ_n L_n cos(π d (n + ½) / N)``, so
    that ``L_n = c_0 + Σ_{d≥1} c_d cos(π d (n + ½) / N)``; rows ``d ≥ 1`` equal
    ``scipy.fft.dct(L, type=2) / N``.
    """
    n = np.arange(n_mels, dtype=np.float64)
    matrix = np.cos(math.pi / n_mels * (n[None, :] + 0.5) * n[:, None]) * (2.0 / n_mels)
    matrix[0] /= 2.0
    return matrix


def log_mel_cepstra(log_mel: np.ndarray, coefficients: int = 13) -> np.ndarray:
    """Cepstra ``c_1..c_D`` ``(T, D)`` of a ``(T, n_mels)`` natural-log mel spectrogram."""
    log_mel = np.asarray(log_mel, dtype=np.float64)
    if log_mel.ndim != 2:
        raise ValueError(f"need a (frames, n_mels) log-mel spectrogram, got shape {log_mel.shape}")
    if not 1 <= coefficients < log_mel.shape[1]:
        raise ValueError(f"coefficients must be in [1, {log_mel.shape[1] - 1}], got {coefficients}")
    return log_mel @ cepstrum_matrix(log_mel.shape[1])[1 : coefficients + 1].T


def dtw_path(reference: np.ndarray, synthesized: np.ndarray) -> np.ndarray:
    """Exact DTW path ``(N, 2)`` (reference frame, synthesised frame), in time order, Euclidean cost."""
    import librosa

    reference, synthesized = _two_tracks(reference, synthesized)
    _, path = librosa.sequence.dtw(X=reference.T, Y=synthesized.T, metric="euclidean", backtrack=True)
    return np.ascontiguousarray(path[::-1], dtype=np.int64)


def mel_cepstral_distortion(
    reference: np.ndarray,
    synthesized: np.ndarray,
    *,
    align: Literal["dtw", "none"] = "dtw",
    path: np.ndarray | None = None,
) -> float:
    """Mean MCD (dB) between two cepstral tracks ``(T, D)`` (see the module doc).

    Args:
        reference / synthesized: cepstra ``c_1..c_D`` (e.g. from :func:`~.analysis.mel_cepstra`).
        align: ``"dtw"`` warps the tracks; ``"none"`` needs equal lengths and pairs frames in order.
        path: a precomputed warp (from :func:`dtw_path`), reused instead of warping again.
    """
    reference, synthesized = _two_tracks(reference, synthesized)
    if path is None:
        if align == "dtw":
            path = dtw_path(reference, synthesized)
        elif align == "none":
            if len(reference) != len(synthesized):
                raise ValueError(
                    f"align='none' needs equal frame counts, got {len(reference)} and {len(synthesized)}: "
                    "use align='dtw'"
                )
            path = np.repeat(np.arange(len(reference))[:, None], 2, axis=1)
        else:
            raise ValueError(f"align must be 'dtw' or 'none', got {align!r}")
    difference = reference[path[:, 0]] - synthesized[path[:, 1]]
    return float(MCD_DB_SCALE * np.sqrt(np.square(difference).sum(-1)).mean())


def mcd_from_audio(
    reference: np.ndarray,
    synthesized: np.ndarray,
    reference_rate: int,
    synthesized_rate: int,
    settings: AnalysisSettings | None = None,
) -> float:
    """MCD (dB, DTW) of two waveforms, each at its own rate (both analysed at ``settings.sampling_rate``)."""
    settings = settings or AnalysisSettings()
    ref = mel_cepstra(analysis_waveform(reference, reference_rate, settings), settings)
    syn = mel_cepstra(analysis_waveform(synthesized, synthesized_rate, settings), settings)
    return mel_cepstral_distortion(ref, syn)


def _two_tracks(reference: np.ndarray, synthesized: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    synthesized = np.asarray(synthesized, dtype=np.float64)
    if reference.ndim != 2 or synthesized.ndim != 2 or reference.shape[1] != synthesized.shape[1]:
        raise ValueError(
            f"need two (frames, coefficients) tracks with the same coefficients, got {reference.shape} "
            f"and {synthesized.shape}"
        )
    if len(reference) == 0 or len(synthesized) == 0:
        raise ValueError(f"empty cepstral track ({len(reference)} and {len(synthesized)} frames)")
    if not (np.isfinite(reference).all() and np.isfinite(synthesized).all()):
        raise ValueError("cepstral tracks hold NaN or inf")
    return reference, synthesized
