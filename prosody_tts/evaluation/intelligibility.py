"""Intelligibility: WER / CER of an ASR transcript of synthesised speech, after one normalisation.

::

    text ─ normalize_transcript ─► words          synthesised audio ─ AsrTranscriber ─► hypothesis
      1. stress marks (``+``, U+0301) removed
      2. our Russian normaliser (numbers, dates, units, abbreviations → words)
      3. lower case, ё → е
      4. every character that is not a letter or a digit → space (hyphens and punctuation too)
      5. runs of spaces collapsed
    jiwer.process_words(reference words, hypothesis words)       → WER = (S + D + I) / N_words
    jiwer.process_characters(reference, hypothesis)              → CER over characters (spaces included)

Both sides go through the same normalisation, so a transcript that writes "25" where the text
says "двадцать пять" is not an error. A reference text the normaliser refuses is an error
(fix the text); an ASR hypothesis it refuses (``<unk>`` tokens, Latin words) skips step 2 only,
so recogniser noise is scored, not raised. Corpus figures (:func:`corpus_error_rates`) pool the
edits of all utterances (Σ edits / Σ reference length), as ASR papers report them.
The ASR model is any transformers speech-recognition checkpoint — a local directory or a Hub id
(Whisper, wav2vec2-CTC, …); for Whisper the language is set to Russian.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..processing.audio import prepare_waveform

__all__ = ["AsrTranscriber", "corpus_error_rates", "error_rates", "normalize_transcript", "phoneme_edits"]

_NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_STRESS = ("+", "\u0301")


def normalize_transcript(text: str, *, expand: bool = True, strict: bool = True) -> str:
    """The WER normalisation of the module doc.

    Args:
        expand: run our normaliser (step 2); ``False`` skips it.
        strict: a text the normaliser refuses raises ``ValueError``; ``False`` skips step 2 for it.
    """
    from ..text.errors import FrontendError

    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFD", text)
    for mark in _STRESS:
        text = text.replace(mark, "")
    text = unicodedata.normalize("NFC", text)
    if expand:
        from ..text.normalizer import normalize_text

        try:
            text = normalize_text(text)
        except FrontendError as err:
            if strict:
                raise ValueError(f"cannot normalise {text!r} for scoring: {err}") from err
    text = text.lower().replace("ё", "е")
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


def error_rates(reference: str, hypothesis: str, *, normalize: bool = True) -> dict[str, float | int]:
    """WER and CER of one utterance, with the edit counts (``reference`` must not normalise to empty)."""
    import jiwer

    ref, hyp = _pair(reference, hypothesis, normalize)
    words = jiwer.process_words(ref, hyp) if hyp else None
    chars = jiwer.process_characters(ref, hyp) if hyp else None
    n_words, n_chars = len(ref.split()), len(ref)
    word_edits = n_words if words is None else words.substitutions + words.deletions + words.insertions
    char_edits = n_chars if chars is None else chars.substitutions + chars.deletions + chars.insertions
    return {
        "wer": word_edits / n_words,
        "cer": char_edits / n_chars,
        "word_edits": int(word_edits),
        "reference_words": n_words,
        "char_edits": int(char_edits),
        "reference_chars": n_chars,
    }


def corpus_error_rates(
    references: Sequence[str], hypotheses: Sequence[str], *, normalize: bool = True
) -> dict[str, float | int]:
    """Pooled WER and CER over utterances (Σ edits / Σ reference words or characters)."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references:
        raise ValueError("no utterances to score")
    per = [error_rates(r, h, normalize=normalize) for r, h in zip(references, hypotheses, strict=True)]
    words = sum(p["reference_words"] for p in per)
    chars = sum(p["reference_chars"] for p in per)
    return {
        "wer": sum(p["word_edits"] for p in per) / words,
        "cer": sum(p["char_edits"] for p in per) / chars,
        "utterances": len(per),
        "reference_words": words,
        "reference_chars": chars,
    }


def phoneme_edits(reference: Sequence[str], hypothesis: Sequence[str]) -> tuple[int, int]:
    """``(edits, reference length)`` between two phoneme sequences (Levenshtein over symbols).

    The phoneme error rate is Σ edits / Σ reference lengths; it measures a phoneme recogniser's
    view of the audio, not word intelligibility, and is never reported as WER.
    """
    import jiwer

    for name, seq in (("reference", reference), ("hypothesis", hypothesis)):
        bad = [p for p in seq if not isinstance(p, str) or not p or any(c.isspace() for c in p)]
        if bad:
            raise ValueError(f"{name} phonemes must be non-empty strings without spaces, got {bad[:3]}")
    if not reference:
        raise ValueError("empty reference phoneme sequence")
    if not hypothesis:
        return len(reference), len(reference)
    out = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    return int(out.substitutions + out.deletions + out.insertions), len(reference)


def _pair(reference: str, hypothesis: str, normalize: bool) -> tuple[str, str]:
    ref = normalize_transcript(reference) if normalize else reference.strip()
    hyp = normalize_transcript(hypothesis, strict=False) if normalize else hypothesis.strip()
    if not ref:
        raise ValueError(f"reference text {reference!r} is empty after normalisation")
    return ref, hyp


class AsrTranscriber:
    """A transformers ASR pipeline over a local directory or a Hub id; ``transcribe(waveform, rate)``."""

    def __init__(self, model: str | os.PathLike, device: str | int | None = None, **pipeline_kwargs: Any) -> None:
        from transformers import pipeline

        self.name = os.fspath(model)
        self._pipe = pipeline("automatic-speech-recognition", model=self.name, device=device, **pipeline_kwargs)
        self.sampling_rate = int(self._pipe.feature_extractor.sampling_rate)
        is_whisper = getattr(self._pipe.model.config, "model_type", "") == "whisper"
        self._generate_kwargs = {"language": "russian", "task": "transcribe"} if is_whisper else None

    def transcribe(self, waveform: np.ndarray, sampling_rate: int) -> str:
        audio = prepare_waveform(np.asarray(waveform), int(sampling_rate), self.sampling_rate)
        kwargs = {"generate_kwargs": self._generate_kwargs} if self._generate_kwargs else {}
        out = self._pipe({"raw": audio, "sampling_rate": self.sampling_rate}, **kwargs)
        return str(out["text"]).strip()
