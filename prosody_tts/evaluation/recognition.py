"""Phoneme error rate (PER) of a trained CTC recogniser: on prepared rows, or on waveforms.

::

    log-mels ─ PhonemeRecognizerModel.recognize ─► phonemes ─┐
    reference phonemes (word boundaries dropped) ─────────────┴─ phoneme_edits ─► PER = Σ edits / Σ length

:func:`recognizer_per` scores prepared held-out ground truth (the number to report beside every
use of the recogniser on synthesised speech); :class:`PhonemeRecognizer` loads a recogniser
directory and transcribes waveforms at any rate (through the feature extractor saved with it).
The PER is an intelligibility *proxy* for the recogniser's own training voice(s), never WER.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .bootstrap import bootstrap_ratio
from .intelligibility import phoneme_edits

__all__ = ["PhonemeRecognizer", "recognizer_per", "reference_phonemes"]


def reference_phonemes(model: Any, phonemes: Sequence[str]) -> list[str]:
    """The recogniser's view of reference phonemes: boundaries dropped, stress folded if it folds it."""
    return [model.config.phonemes[i - 1] for i in model.symbol_ids(phonemes)]


@torch.no_grad()
def recognizer_per(
    model: Any, rows: Any, *, batch_size: int = 16, seed: int = 0, show_progress: bool = True
) -> dict[str, Any]:
    """PER (pooled, with a bootstrap 95 % interval) of ``model`` on prepared rows' ground-truth log-mels."""
    from tqdm.auto import tqdm

    from ..data.recognition import RecognizerCollator
    from ..modeling.loading import evaluating

    if len(rows) == 0:
        raise ValueError("no rows to score")
    collator = RecognizerCollator()
    edits, lengths, examples = [], [], []
    with evaluating(model):
        for start in tqdm(range(0, len(rows), batch_size), desc="PER", disable=not show_progress):
            chunk = [rows[i] for i in range(start, min(start + batch_size, len(rows)))]
            refs = [reference_phonemes(model, [str(p) for p in np.asarray(r["phonemes"]).tolist()]) for r in chunk]
            batch = collator([{"input_features": r["input_features"], "labels": [1]} for r in chunk])
            hyps = model.recognize(batch["input_features"].to(model.device), batch["feature_attention_mask"].to(model.device))
            for row, ref, hyp in zip(chunk, refs, hyps, strict=True):
                if not ref:
                    continue
                e, n = phoneme_edits(ref, hyp)
                edits.append(e)
                lengths.append(n)
                if len(examples) < 3:
                    examples.append({"id": str(row.get("id", "")), "reference": " ".join(ref), "recognized": " ".join(hyp)})
    interval = bootstrap_ratio(edits, lengths, seed=seed)
    return {"per": interval.mean, "per_ci_low": interval.low, "per_ci_high": interval.high,
            "utterances": len(edits), "phonemes": int(sum(lengths)), "examples": examples}  # fmt: skip


class PhonemeRecognizer:
    """A recogniser directory (model + its ``MelFeatureExtractor``): ``recognize(waveform, rate)``."""

    def __init__(self, path: str | os.PathLike, device: str | None = None) -> None:
        from ..modeling.phoneme_recognizer import PhonemeRecognizerModel
        from ..processing import MelFeatureExtractor

        if not os.path.isdir(path):
            raise FileNotFoundError(f"recogniser directory not found: {os.fspath(path)} (train one: prosody-tts train recognizer)")
        self.model = PhonemeRecognizerModel.from_pretrained(os.fspath(path)).to(device or "cpu").eval()
        self.feature_extractor = MelFeatureExtractor.from_pretrained(os.fspath(path))
        self.name = os.fspath(path)

    def recognize(self, waveform: np.ndarray, sampling_rate: int) -> list[str]:
        features = self.feature_extractor(np.asarray(waveform), sampling_rate=int(sampling_rate), return_tensors="pt")
        device = self.model.device
        return self.model.recognize(features["input_features"].to(device), features["attention_mask"].to(device))[0]

    def edits(self, waveform: np.ndarray, sampling_rate: int, phonemes: Sequence[str]) -> tuple[int, int]:
        """``(edits, reference length)`` of one utterance against its phonemes."""
        return phoneme_edits(reference_phonemes(self.model, phonemes), self.recognize(waveform, sampling_rate))
