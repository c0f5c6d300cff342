"""DNSMOS proxy: scores in range, clean speech above noise, silence refused, clipping counted."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("speechmos")
pytest.importorskip("onnxruntime")

from prosody_tts.evaluation.mos_proxy import DnsMos


def test_clean_speech_scores_above_noisy_speech(corpus_utterances):
    waveform, rate, _ = next(iter(corpus_utterances.values()))[0]
    scorer = DnsMos()
    clean = scorer.score(waveform, rate)
    noisy = scorer.score(waveform + 0.1 * np.random.default_rng(0).standard_normal(len(waveform)).astype(np.float32), rate)
    for key in ("p808_mos", "ovrl_mos", "sig_mos", "bak_mos"):
        assert 1.0 <= clean[key] <= 5.0
    assert clean["bak_mos"] > noisy["bak_mos"] and clean["ovrl_mos"] > noisy["ovrl_mos"]
    assert noisy["clipped_samples"] >= 0 and clean["clipped_samples"] == 0


def test_silence_is_refused_and_clipping_is_counted():
    scorer = DnsMos()
    with pytest.raises(ValueError, match="silent"):
        scorer.score(np.zeros(16000, np.float32), 16000)
    loud = (1.5 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)).astype(np.float32)
    assert scorer.score(loud, 16000)["clipped_samples"] > 0
