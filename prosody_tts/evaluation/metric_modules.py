"""The synthesis metrics as ``evaluate`` modules, shipped inside the package and loaded offline.

::

    evaluate.load(metric_module_path("mcd"))            # a local script: no network
      └─ prosody_tts/evaluation/modules/mcd/mcd.py ─ imports ─► MelCepstralDistortion (here)
    evaluate.combine([metric_module_path(n) for n in ("mcd", "f0", "sim_o", "dnsmos")])
      .compute(predictions=[synthesised waveforms], references=[original waveforms], sampling_rate=22050)

Every module returns each metric's mean with its bootstrap 95 % interval (``<name>``,
``<name>_ci_low``, ``<name>_ci_high``) and the number of utterances where it was undefined
(``<name>_missing``). Audio modules take float waveforms at one ``sampling_rate`` (the only
keyword they share, so :func:`evaluate.combine` can pass it to all); options that differ
(the SIM-o encoder, the interval's seed) are given to ``evaluate.load(path, ...)``.

=============== ===================================== =========================================
module          predictions / references              metrics
=============== ===================================== =========================================
``mcd``         synthesised / original audio          ``mcd_db`` (DTW)
``f0``          synthesised / original audio          ``f0_rmse_cents``, ``f0_correlation``,
                                                      ``voicing_decision_error``
``sim_o``       synthesised / original audio          ``sim_o`` (``encoder=``: see
                                                      :mod:`.speaker_similarity`)
``dnsmos``      synthesised audio (references unused) ``p808_mos_proxy``, ``ovrl_mos_proxy``
``wer``         ASR transcripts / texts               ``wer``, ``cer`` (pooled)
``per``         recognised / reference phoneme lists  ``per`` (pooled; a proxy, never WER)
=============== ===================================== =========================================
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import datasets
import evaluate
import numpy as np

from .analysis import AnalysisSettings
from .bootstrap import Interval, bootstrap_interval, bootstrap_ratio

__all__ = [
    "METRIC_MODULES",
    "DnsMosProxy",
    "F0Error",
    "MelCepstralDistortion",
    "PhonemeErrorRate",
    "SpeakerSimilarity",
    "WordErrorRate",
    "metric_module_path",
]

#: the module names under ``prosody_tts/evaluation/modules/``
METRIC_MODULES = ("mcd", "f0", "sim_o", "dnsmos", "wer", "per")

_AUDIO = datasets.Sequence(datasets.Value("float32"))
_CITATION = "prosody_tts (see docs/evaluation.md for the method and its references)"


def metric_module_path(name: str) -> str:
    """The directory of one shipped module, for ``evaluate.load``."""
    if name not in METRIC_MODULES:
        raise ValueError(f"unknown metric module {name!r}; shipped: {', '.join(METRIC_MODULES)}")
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "modules", name)


def _interval_fields(name: str, interval: Interval) -> dict[str, float | int]:
    return {
        name: interval.mean,
        f"{name}_ci_low": interval.low,
        f"{name}_ci_high": interval.high,
        f"{name}_missing": interval.missing,
    }


def _info(description: str, features: datasets.Features) -> evaluate.MetricInfo:
    return evaluate.MetricInfo(
        description=description, citation=_CITATION, inputs_description=description, features=features,
        module_type="metric",
    )  # fmt: skip


def _audio_pairs(predictions: Sequence[Any], references: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    return [(np.asarray(p, dtype=np.float32), np.asarray(r, dtype=np.float32)) for p, r in zip(predictions, references, strict=True)]


class _SeededModule(evaluate.Metric):
    """Keeps the interval's settings given to ``evaluate.load(path, confidence=..., resamples=...)``."""

    def __init__(self, *args: Any, confidence: float = 0.95, resamples: int = 1000, **kwargs: Any) -> None:
        self._interval = {"confidence": confidence, "resamples": resamples}
        super().__init__(*args, **kwargs)

    def _bootstrap(self, values: Sequence[float]) -> Interval:
        return bootstrap_interval(values, seed=0, **self._interval)


class MelCepstralDistortion(_SeededModule):
    """MCD (dB) with DTW on 13 mel cepstra (:mod:`.mcd`)."""

    def _info(self) -> evaluate.MetricInfo:
        return _info("Mel-cepstral distortion (dB, DTW) of synthesised vs original audio.",
                     datasets.Features({"predictions": _AUDIO, "references": _AUDIO}))  # fmt: skip

    def _compute(self, predictions: Sequence[Any], references: Sequence[Any], sampling_rate: int) -> dict[str, Any]:
        from .mcd import mcd_from_audio

        settings = AnalysisSettings()
        values = [mcd_from_audio(r, p, sampling_rate, sampling_rate, settings) for p, r in _audio_pairs(predictions, references)]
        return _interval_fields("mcd_db", self._bootstrap(values))


class F0Error(_SeededModule):
    """F0 RMSE (cents), F0 correlation and voicing decision error on DTW-aligned frames (:mod:`.prosody`)."""

    def _info(self) -> evaluate.MetricInfo:
        return _info("F0 RMSE (cents), F0 correlation and voicing decision error (pYIN, DTW-aligned).",
                     datasets.Features({"predictions": _AUDIO, "references": _AUDIO}))  # fmt: skip

    def _compute(self, predictions: Sequence[Any], references: Sequence[Any], sampling_rate: int) -> dict[str, Any]:
        from .prosody import score_acoustics

        scores = [score_acoustics(r, p, sampling_rate, sampling_rate)[0] for p, r in _audio_pairs(predictions, references)]
        out: dict[str, Any] = {}
        for name in ("f0_rmse_cents", "f0_correlation", "voicing_decision_error"):
            out.update(_interval_fields(name, self._bootstrap([getattr(s, name) for s in scores])))
        return out


class SpeakerSimilarity(_SeededModule):
    """SIM-o: cosine of speaker embeddings (``evaluate.load(path, encoder="resemblyzer" | "ecapa:DIR" | DIR)``)."""

    def __init__(self, *args: Any, encoder: str = "resemblyzer", **kwargs: Any) -> None:
        self._encoder_spec = encoder
        self._encoder = None
        super().__init__(*args, **kwargs)

    def _info(self) -> evaluate.MetricInfo:
        return _info("SIM-o: cosine similarity of speaker embeddings of synthesised and original audio.",
                     datasets.Features({"predictions": _AUDIO, "references": _AUDIO}))  # fmt: skip

    def _compute(self, predictions: Sequence[Any], references: Sequence[Any], sampling_rate: int) -> dict[str, Any]:
        from .speaker_similarity import load_speaker_encoder, speaker_similarity

        if self._encoder is None:
            self._encoder = load_speaker_encoder(self._encoder_spec)
        values = [
            speaker_similarity(self._encoder, p, r, sampling_rate, sampling_rate)
            for p, r in _audio_pairs(predictions, references)
        ]
        return {**_interval_fields("sim_o", self._bootstrap(values)), "sim_o_encoder": self._encoder.name}


class DnsMosProxy(_SeededModule):
    """DNSMOS P.808 and overall scores — a MOS *proxy* (:mod:`.mos_proxy`); ``references`` are not used."""

    def _info(self) -> evaluate.MetricInfo:
        return _info("DNSMOS P.808 / P.835 overall scores of synthesised audio: a MOS proxy, not MOS.",
                     datasets.Features({"predictions": _AUDIO}))  # fmt: skip

    def _compute(self, predictions: Sequence[Any], sampling_rate: int, references: Any = None) -> dict[str, Any]:
        from .mos_proxy import DnsMos

        scorer = DnsMos()
        scores = [scorer.score(np.asarray(p, dtype=np.float32), sampling_rate) for p in predictions]
        out: dict[str, Any] = {}
        for key, name in (("p808_mos", "p808_mos_proxy"), ("ovrl_mos", "ovrl_mos_proxy")):
            out.update(_interval_fields(name, self._bootstrap([s[key] for s in scores])))
        out["clipped_samples"] = int(sum(s["clipped_samples"] for s in scores))
        return out


class WordErrorRate(_SeededModule):
    """Pooled WER and CER of transcripts against texts, after :func:`.intelligibility.normalize_transcript`."""

    def _info(self) -> evaluate.MetricInfo:
        return _info("WER and CER (pooled over utterances) after the documented Russian normalisation.",
                     datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}))  # fmt: skip

    def _compute(self, predictions: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
        from .intelligibility import error_rates

        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        per = [error_rates(r, p) for p, r in zip(predictions, references, strict=True)]
        out: dict[str, Any] = {}
        for name, edits, length in (("wer", "word_edits", "reference_words"), ("cer", "char_edits", "reference_chars")):
            interval = bootstrap_ratio([x[edits] for x in per], [x[length] for x in per], seed=0, **self._interval)
            out.update(_interval_fields(name, interval))
        return out


class PhonemeErrorRate(_SeededModule):
    """Pooled phoneme error rate of recognised phoneme sequences (the offline intelligibility proxy)."""

    def _info(self) -> evaluate.MetricInfo:
        phonemes = datasets.Sequence(datasets.Value("string"))
        return _info("Phoneme error rate (pooled) of recognised vs reference phonemes: a proxy, never WER.",
                     datasets.Features({"predictions": phonemes, "references": phonemes}))  # fmt: skip

    def _compute(self, predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, Any]:
        from .intelligibility import phoneme_edits

        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        pairs = [phoneme_edits(list(r), list(p)) for p, r in zip(predictions, references, strict=True)]
        interval = bootstrap_ratio([e for e, _ in pairs], [n for _, n in pairs], seed=0, **self._interval)
        return _interval_fields("per", interval)

