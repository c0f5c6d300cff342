"""Prosody of synthesised speech against a reference: F0 error, voicing, durations, speaking rate.

::

    reference x_r, synthesised x_s  (analysis rate, :mod:`.analysis`)
      ─ mel cepstra ─ dtw_path ─► path (N, 2)  pairs of (reference frame, synthesised frame)
      ─ pYIN ─► f0_r (T_r,), f0_s (T_s,), voiced_r, voiced_s
        pairs where both are voiced:  cents = 1200 · log2(f0_s / f0_r)
          F0 RMSE  = sqrt(mean cents²)                               [cents]
          F0 corr  = Pearson r of log2 f0_r and log2 f0_s
        voicing decision error (VDE) = share of path pairs whose voicing differs
    durations d_r, d_s (P,) frames per phoneme, same phoneme sequence
          duration error = mean |d_s − d_r|                          [frames]
    speaking rate = phonemes / seconds of speech (leading/trailing silence trimmed)

A +2-semitone pitch shift of the same recording gives an F0 RMSE of ≈ 200 cents and r ≈ 1.
Where fewer than ``min_voiced_pairs`` pairs are voiced on both sides, F0 RMSE and r are NaN
(reported and counted, not dropped silently); r is also NaN when either contour is flat.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .analysis import AnalysisSettings, analysis_waveform, f0_contour, mel_cepstra
from .mcd import dtw_path, mel_cepstral_distortion

__all__ = [
    "AcousticScores",
    "duration_error",
    "f0_scores",
    "score_acoustics",
    "speaking_rate",
    "speech_seconds",
]

#: fewest voiced-on-both-sides pairs for an F0 RMSE / correlation
MIN_VOICED_PAIRS = 3


@dataclass
class AcousticScores:
    """The reference-based acoustic scores of one utterance pair (see the module doc)."""

    mcd_db: float
    f0_rmse_cents: float
    f0_correlation: float
    voicing_decision_error: float
    voiced_pairs: int
    path_length: int
    reference_seconds: float
    synthesized_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def f0_scores(
    reference_f0: np.ndarray,
    synthesized_f0: np.ndarray,
    path: np.ndarray,
    *,
    min_voiced_pairs: int = MIN_VOICED_PAIRS,
) -> dict[str, float | int]:
    """F0 RMSE (cents), F0 correlation and VDE along a frame ``path`` (NaN F0 = unvoiced)."""
    path = np.asarray(path, dtype=np.int64)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path must be a non-empty (N, 2) array, got shape {path.shape}")
    if path[:, 0].max() >= len(reference_f0) or path[:, 1].max() >= len(synthesized_f0):
        raise ValueError(
            f"path reaches frame {path[:, 0].max()}/{path[:, 1].max()} but the F0 tracks have "
            f"{len(reference_f0)}/{len(synthesized_f0)} frames: same hop on both tracks?"
        )
    ref = np.asarray(reference_f0, dtype=np.float64)[path[:, 0]]
    syn = np.asarray(synthesized_f0, dtype=np.float64)[path[:, 1]]
    ref_voiced, syn_voiced = np.isfinite(ref) & (ref > 0), np.isfinite(syn) & (syn > 0)
    both = ref_voiced & syn_voiced
    scores: dict[str, float | int] = {
        "voicing_decision_error": float(np.mean(ref_voiced != syn_voiced)),
        "voiced_pairs": int(both.sum()),
        "f0_rmse_cents": math.nan,
        "f0_correlation": math.nan,
    }
    if both.sum() >= min_voiced_pairs:
        log_ref, log_syn = np.log2(ref[both]), np.log2(syn[both])
        scores["f0_rmse_cents"] = float(np.sqrt(np.mean(np.square(1200.0 * (log_syn - log_ref)))))
        if log_ref.std() > 0 and log_syn.std() > 0:
            scores["f0_correlation"] = float(np.corrcoef(log_ref, log_syn)[0, 1])
    return scores


def speech_seconds(
    waveform: np.ndarray, sampling_rate: int, top_db: float = 40.0, frame_length: int = 512, hop_length: int = 128
) -> float:
    """Seconds between the first and last non-silent frame (librosa ``effects.trim`` at ``top_db``)."""
    import librosa

    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.size == 0 or not np.any(waveform):
        return 0.0
    _, (start, end) = librosa.effects.trim(waveform, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    return float(end - start) / float(sampling_rate)


def speaking_rate(num_phonemes: int, waveform: np.ndarray, sampling_rate: int, top_db: float = 40.0) -> float:
    """Phonemes per second of speech (silence at both ends trimmed); NaN for silent audio."""
    if num_phonemes < 0:
        raise ValueError(f"num_phonemes must be >= 0, got {num_phonemes}")
    seconds = speech_seconds(waveform, sampling_rate, top_db)
    return float(num_phonemes) / seconds if seconds > 0 else math.nan


def duration_error(reference: Any, synthesized: Any) -> float:
    """Mean absolute per-phoneme duration error (frames) of two duration sequences of one phoneme string."""
    ref, syn = np.asarray(reference, dtype=np.float64), np.asarray(synthesized, dtype=np.float64)
    if ref.ndim != 1 or syn.ndim != 1 or len(ref) != len(syn):
        raise ValueError(
            f"need two 1-D duration sequences of equal length (one phoneme string), got shapes "
            f"{ref.shape} and {syn.shape}"
        )
    if len(ref) == 0:
        raise ValueError("empty duration sequences")
    return float(np.abs(syn - ref).mean())


def score_acoustics(
    reference: np.ndarray,
    synthesized: np.ndarray,
    reference_rate: int,
    synthesized_rate: int,
    settings: AnalysisSettings | None = None,
) -> tuple[AcousticScores, dict[str, np.ndarray]]:
    """MCD (DTW) and F0/voicing scores of one pair, one warp for both; also the tracks for figures.

    Returns ``(scores, tracks)`` with ``tracks`` = ``{"path", "reference_f0", "synthesized_f0"}``.
    """
    settings = settings or AnalysisSettings()
    ref = analysis_waveform(reference, reference_rate, settings)
    syn = analysis_waveform(synthesized, synthesized_rate, settings)
    ref_cep, syn_cep = mel_cepstra(ref, settings), mel_cepstra(syn, settings)
    path = dtw_path(ref_cep, syn_cep)
    ref_f0, _ = f0_contour(ref, settings)
    syn_f0, _ = f0_contour(syn, settings)
    frames = min(len(ref_f0), len(ref_cep)), min(len(syn_f0), len(syn_cep))
    keep = (path[:, 0] < frames[0]) & (path[:, 1] < frames[1])  # pYIN and the STFT may differ by a frame
    f0 = f0_scores(ref_f0, syn_f0, path[keep])
    scores = AcousticScores(
        mcd_db=mel_cepstral_distortion(ref_cep, syn_cep, path=path),
        f0_rmse_cents=float(f0["f0_rmse_cents"]),
        f0_correlation=float(f0["f0_correlation"]),
        voicing_decision_error=float(f0["voicing_decision_error"]),
        voiced_pairs=int(f0["voiced_pairs"]),
        path_length=len(path),
        reference_seconds=len(ref) / settings.sampling_rate,
        synthesized_seconds=len(syn) / settings.sampling_rate,
    )
    return scores, {"path": path, "reference_f0": ref_f0, "synthesized_f0": syn_f0}
