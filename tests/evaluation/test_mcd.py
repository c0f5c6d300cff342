"""MCD: the DCT, the formula against a naive sum, DTW, and the mel-cepstral-distance package on real pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prosody_tts.evaluation.analysis import AnalysisSettings, analysis_waveform, mel_cepstra
from prosody_tts.evaluation.mcd import (
    MCD_DB_SCALE,
    cepstrum_matrix,
    dtw_path,
    log_mel_cepstra,
    mcd_from_audio,
    mel_cepstral_distortion,
)


def test_cepstrum_matrix_is_the_scaled_dct_and_inverts():
    from scipy.fft import dct

    matrix = cepstrum_matrix(80)
    x = np.random.default_rng(0).standard_normal(80)
    c = matrix @ x
    np.testing.assert_allclose(c[1:], dct(x, type=2)[1:] / 80, atol=1e-12)
    assert c[0] == pytest.approx(x.mean())
    n = np.arange(80)
    rebuilt = c[0] + sum(c[d] * np.cos(np.pi * d * (n + 0.5) / 80) for d in range(1, 80))
    np.testing.assert_allclose(rebuilt, x, atol=1e-10)


def test_full_order_mcd_is_the_rms_log_spectral_difference_in_db():
    """With all N-1 cepstra, MCD = RMS over bins of 20·log10 of the amplitude ratio, mean removed."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 80)), rng.standard_normal((5, 80))
    mcd = mel_cepstral_distortion(log_mel_cepstra(a, 79), log_mel_cepstra(b, 79), align="none")
    diff_db = 20 / math.log(10) * (a - b)
    rms = np.sqrt(np.mean(np.square(diff_db - diff_db.mean(1, keepdims=True)), axis=1)).mean()
    assert mcd == pytest.approx(rms, rel=1e-10)


def test_frame_aligned_mcd_against_a_naive_sum():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 80)), rng.standard_normal((5, 80))
    ca = [[2 / 80 * sum(a[t, n] * math.cos(math.pi * d * (n + 0.5) / 80) for n in range(80)) for d in range(14)] for t in range(5)]
    cb = [[2 / 80 * sum(b[t, n] * math.cos(math.pi * d * (n + 0.5) / 80) for n in range(80)) for d in range(14)] for t in range(5)]
    naive = np.mean([10 / math.log(10) * math.sqrt(2 * sum((ca[t][d] - cb[t][d]) ** 2 for d in range(1, 14))) for t in range(5)])
    got = mel_cepstral_distortion(log_mel_cepstra(a), log_mel_cepstra(b), align="none")
    assert got == pytest.approx(naive, rel=1e-10)
    assert mel_cepstral_distortion(log_mel_cepstra(a), log_mel_cepstra(a), align="none") == 0.0
    # a gain moves c_0 only, which MCD leaves out
    assert mel_cepstral_distortion(log_mel_cepstra(a), log_mel_cepstra(a + 3.0), align="none") == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="coefficients"):
        log_mel_cepstra(a, coefficients=80)
    with pytest.raises(ValueError, match="equal frame counts"):
        mel_cepstral_distortion(log_mel_cepstra(a), log_mel_cepstra(b[:4]), align="none")


def test_dtw_undoes_a_time_stretch():
    rng = np.random.default_rng(1)
    track = np.cumsum(rng.standard_normal((40, 13)), axis=0)
    stretched = np.repeat(track, 2, axis=0)  # every frame twice
    path = dtw_path(track, stretched)
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [39, 79]
    assert np.all(np.diff(path, axis=0) >= 0)  # monotonic
    assert mel_cepstral_distortion(track, stretched) == pytest.approx(0.0, abs=1e-12)
    assert mel_cepstral_distortion(track, stretched[::-1]) > 1.0


def test_bad_tracks_are_refused():
    with pytest.raises(ValueError, match="same coefficients"):
        mel_cepstral_distortion(np.zeros((3, 13)), np.zeros((3, 12)))
    with pytest.raises(ValueError, match="empty"):
        mel_cepstral_distortion(np.zeros((0, 13)), np.zeros((3, 13)))
    with pytest.raises(ValueError, match="NaN"):
        mel_cepstral_distortion(np.full((3, 13), np.nan), np.zeros((3, 13)))
    with pytest.raises(ValueError, match="align"):
        mel_cepstral_distortion(np.zeros((3, 13)), np.zeros((3, 13)), align="pad")


def test_settings_validate_themselves():
    with pytest.raises(ValueError, match="coefficients"):
        AnalysisSettings(coefficients=80)
    with pytest.raises(ValueError, match="fmax"):
        AnalysisSettings(fmax=9000.0)
    with pytest.raises(ValueError, match="two periods"):
        AnalysisSettings(f0_min=20.0)
    with pytest.raises(ValueError, match="hop_length"):
        AnalysisSettings(hop_length=0)


def _real_pairs(corpus_utterances):
    speakers = sorted(corpus_utterances)
    return [
        (corpus_utterances[speakers[0]][0], corpus_utterances[speakers[1]][0]),  # different speakers and texts
        (corpus_utterances[speakers[0]][1], corpus_utterances[speakers[0]][2]),  # one speaker
        (corpus_utterances[speakers[1]][3], corpus_utterances[speakers[0]][3]),
    ]


def test_mcd_matches_the_mel_cepstral_distance_package_on_real_pairs(corpus_utterances):
    """Same cepstra, same pairs: our DTW + mean equals the package's (up to the dB constant).

    A faint seeded dither keeps frames off the log floor: with digital silence many frames have
    identical cepstra, paths of equal cost but different length tie, and the two DTWs may break
    the tie differently (see the next test).
    """
    from mel_cepstral_distance import compare_mfccs

    settings = AnalysisSettings()
    rng = np.random.default_rng(0)
    for (wa, ra, _), (wb, rb, _) in _real_pairs(corpus_utterances):
        wa = wa + 1e-4 * rng.standard_normal(len(wa)).astype(np.float32)
        wb = wb + 1e-4 * rng.standard_normal(len(wb)).astype(np.float32)
        ca = mel_cepstra(analysis_waveform(wa, ra, settings), settings)
        cb = mel_cepstra(analysis_waveform(wb, rb, settings), settings)
        ours = mel_cepstral_distortion(ca, cb)
        reference, _penalty = compare_mfccs(ca.T, cb.T, s=0, D=settings.coefficients, aligning="dtw", dtw_radius=None)
        assert ours == pytest.approx(MCD_DB_SCALE * reference, rel=1e-9)
        assert ours == pytest.approx(mcd_from_audio(wa, wb, ra, rb, settings), rel=1e-9)


def test_both_warps_are_minimal_on_undithered_audio(corpus_utterances):
    """Without dither the paths may differ, but both are optimal: their total costs are equal."""
    from fastdtw import fastdtw
    from scipy.spatial.distance import euclidean

    settings = AnalysisSettings()
    for (wa, ra, _), (wb, rb, _) in _real_pairs(corpus_utterances):
        ca = mel_cepstra(analysis_waveform(wa, ra, settings), settings)
        cb = mel_cepstra(analysis_waveform(wb, rb, settings), settings)
        path = dtw_path(ca, cb)
        ours = np.linalg.norm(ca[path[:, 0]] - cb[path[:, 1]], axis=1).sum()
        theirs, _ = fastdtw(ca, cb, dist=euclidean, radius=max(len(ca), len(cb)))
        assert ours == pytest.approx(theirs, rel=1e-9)


def test_mcd_of_audio_grows_with_distortion(corpus_utterances):
    waveform, rate, _ = next(iter(corpus_utterances.values()))[0]
    rng = np.random.default_rng(0)
    same = mcd_from_audio(waveform, waveform, rate, rate)
    slightly = mcd_from_audio(waveform, waveform + 0.003 * rng.standard_normal(len(waveform)).astype(np.float32), rate, rate)
    badly = mcd_from_audio(waveform, waveform + 0.05 * rng.standard_normal(len(waveform)).astype(np.float32), rate, rate)
    assert same == 0.0
    assert 0.0 < slightly < badly
    # a rate change alone (both analysed at 16 kHz) costs little
    import soxr

    resampled = soxr.resample(waveform, rate, 16000)
    assert mcd_from_audio(waveform, resampled, rate, 16000) < slightly
