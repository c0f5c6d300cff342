"""The shipped evaluate modules: load offline from the package, alone and combined, same numbers as the functions."""

from __future__ import annotations

import numpy as np
import pytest

evaluate = pytest.importorskip("evaluate")

from prosody_tts.evaluation.metric_modules import METRIC_MODULES, metric_module_path  # noqa: E402


def test_every_module_is_shipped_and_loads_offline():
    for name in METRIC_MODULES:
        module = evaluate.load(metric_module_path(name))
        assert module.info.description
    with pytest.raises(ValueError, match="unknown metric module"):
        metric_module_path("bleu")


def test_audio_modules_combined_match_the_functions(corpus_utterances):
    from prosody_tts.evaluation.mcd import mcd_from_audio
    from prosody_tts.evaluation.prosody import score_acoustics

    (a, rate, _), (b, rate_b, _) = next(iter(corpus_utterances.values()))[:2]
    assert rate == rate_b
    combined = evaluate.combine([metric_module_path("mcd"), metric_module_path("f0")])
    result = combined.compute(predictions=[b, a], references=[a, b], sampling_rate=rate)
    mcd = [mcd_from_audio(a, b, rate, rate), mcd_from_audio(b, a, rate, rate)]
    assert result["mcd_db"] == pytest.approx(np.mean(mcd), rel=1e-5)
    assert result["mcd_db_ci_low"] <= result["mcd_db"] <= result["mcd_db_ci_high"]
    f0 = score_acoustics(a, b, rate, rate)[0].f0_rmse_cents
    assert min(result["f0_rmse_cents_ci_low"], f0) <= result["f0_rmse_cents"]
    assert result["f0_rmse_cents_missing"] == 0


def test_sim_o_and_dnsmos_modules(corpus_utterances):
    pytest.importorskip("resemblyzer")
    pytest.importorskip("speechmos")
    (a, rate, _), (b, _, _) = next(iter(corpus_utterances.values()))[:2]
    sim = evaluate.load(metric_module_path("sim_o"), encoder="resemblyzer").compute(predictions=[a], references=[b], sampling_rate=rate)
    assert 0.5 < sim["sim_o"] <= 1.0 and sim["sim_o_encoder"] == "resemblyzer"
    mos = evaluate.load(metric_module_path("dnsmos")).compute(predictions=[a, b], sampling_rate=rate)
    assert 1.0 <= mos["p808_mos_proxy"] <= 5.0 and 1.0 <= mos["ovrl_mos_proxy"] <= 5.0


def test_text_modules():
    wer = evaluate.load(metric_module_path("wer")).compute(predictions=["мама раму"], references=["Мама мыла раму."])
    assert wer["wer"] == pytest.approx(1 / 3)
    per = evaluate.load(metric_module_path("per")).compute(predictions=[["a"]], references=[["a", "b"]])
    assert per["per"] == pytest.approx(0.5)
