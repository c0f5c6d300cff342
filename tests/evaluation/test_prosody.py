"""Prosody metrics: F0 RMSE of a +2-semitone shift ≈ 200 cents, F0 scores on paths, durations, rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prosody_tts.evaluation.analysis import AnalysisSettings, analysis_waveform, f0_contour
from prosody_tts.evaluation.prosody import (
    duration_error,
    f0_scores,
    score_acoustics,
    speaking_rate,
    speech_seconds,
)


def test_f0_scores_on_a_known_path():
    ref = np.array([100.0, 100.0, np.nan, 200.0, 200.0])
    syn = ref * 2 ** (100 / 1200)  # +100 cents everywhere, same voicing
    path = np.repeat(np.arange(5)[:, None], 2, axis=1)
    scores = f0_scores(ref, syn, path)
    assert scores["f0_rmse_cents"] == pytest.approx(100.0)
    assert scores["f0_correlation"] == pytest.approx(1.0)
    assert scores["voicing_decision_error"] == 0.0
    assert scores["voiced_pairs"] == 4
    flipped = syn.copy()
    flipped[0] = np.nan  # one voicing disagreement in five pairs
    assert f0_scores(ref, flipped, path)["voicing_decision_error"] == pytest.approx(0.2)


def test_f0_scores_need_enough_voiced_pairs_and_a_valid_path():
    ref = np.array([np.nan, 120.0, np.nan])
    path = np.repeat(np.arange(3)[:, None], 2, axis=1)
    scores = f0_scores(ref, ref, path)
    assert math.isnan(scores["f0_rmse_cents"]) and math.isnan(scores["f0_correlation"])
    assert scores["voiced_pairs"] == 1
    with pytest.raises(ValueError, match="same hop"):
        f0_scores(ref, ref, np.array([[0, 0], [5, 1]]))
    with pytest.raises(ValueError, match="non-empty"):
        f0_scores(ref, ref, np.zeros((0, 2), dtype=int))


def test_pyin_finds_a_sine_and_no_voice_in_noise():
    settings = AnalysisSettings()
    t = np.arange(settings.sampling_rate) / settings.sampling_rate
    f0, voiced = f0_contour((0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), settings)
    assert voiced[5:-5].all()
    assert np.nanmedian(f0) == pytest.approx(150.0, rel=0.01)
    noise = np.random.default_rng(0).standard_normal(settings.sampling_rate).astype(np.float32) * 0.1
    _, voiced = f0_contour(noise, settings)
    assert voiced.mean() < 0.1


def test_two_semitones_up_is_about_200_cents(corpus_utterances):
    """The issue's check: a +2-semitone pitch shift of a recording gives F0 RMSE ≈ 200 cents."""
    import librosa

    waveform, rate, _ = next(iter(corpus_utterances.values()))[0]
    shifted = librosa.effects.pitch_shift(waveform, sr=rate, n_steps=2.0)
    scores, tracks = score_acoustics(waveform, shifted, rate, rate)
    assert 170.0 < scores.f0_rmse_cents < 230.0
    assert scores.f0_correlation > 0.9
    assert scores.voicing_decision_error < 0.15
    assert scores.voiced_pairs > 50
    itself, _ = score_acoustics(waveform, waveform, rate, rate)
    assert itself.f0_rmse_cents == pytest.approx(0.0, abs=1e-9) and itself.mcd_db == 0.0
    assert itself.voicing_decision_error == 0.0
    assert set(tracks) == {"path", "reference_f0", "synthesized_f0"}


def test_duration_error_and_its_errors():
    assert duration_error([3, 5, 2], [4, 5, 0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal length"):
        duration_error([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        duration_error([], [])


def test_speaking_rate_ignores_silence_at_both_ends():
    rate = 16000
    tone = (0.3 * np.sin(2 * np.pi * 200 * np.arange(rate) / rate)).astype(np.float32)  # 1 s
    padded = np.concatenate([np.zeros(rate, np.float32), tone, np.zeros(rate // 2, np.float32)])
    assert speech_seconds(padded, rate) == pytest.approx(1.0, abs=0.05)
    assert speaking_rate(12, padded, rate) == pytest.approx(12.0, rel=0.05)
    assert math.isnan(speaking_rate(12, np.zeros(rate, np.float32), rate))
    with pytest.raises(ValueError, match="num_phonemes"):
        speaking_rate(-1, tone, rate)


def test_analysis_waveform_resamples_and_refuses_bad_audio():
    from prosody_tts.processing.audio import AudioError

    settings = AnalysisSettings()
    assert len(analysis_waveform(np.zeros(22050, np.float32) + 0.1, 22050, settings)) == 16000
    with pytest.raises(AudioError):
        analysis_waveform(np.full(100, np.nan, np.float32), 16000, settings)
