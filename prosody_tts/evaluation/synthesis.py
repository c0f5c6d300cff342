"""Evaluate any TTS system's outputs against references: pair files, score each pair, summarise.

::

    reference DIR  {id}.wav ─┐                             texts FILE (optional): id → text,
    synthesized DIR {id}.wav ┴─ pair_files ─► pairs, problems      phonemes, durations
      per pair ─ SynthesisEvaluator.score_pair ─► record {mcd_db, f0_rmse_cents, f0_correlation,
               voicing_decision_error, sim_o, p808_mos_proxy, ovrl_mos_proxy, wer, cer,
               duration_error_frames, speaking_rate_*, …, errors}
      records ─ bootstrap (:mod:`.bootstrap`) ─► summary {metric: mean [95 % interval], count, missing}

Nothing is dropped silently: a file without its partner, one that cannot be decoded, and a metric
that is undefined for an utterance (silence, no voiced frames) are listed with the reason and
counted. :mod:`.synthesis_report` writes the records, summary, markdown table and figures.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import AnalysisSettings
from .bootstrap import Interval, bootstrap_ratio, summarize

__all__ = [
    "AUDIO_EXTENSIONS",
    "SUMMARY_METRICS",
    "PairProblem",
    "SynthesisEvaluation",
    "SynthesisEvaluationOptions",
    "SynthesisEvaluator",
    "evaluate_pairs",
    "metric_label",
    "pair_files",
    "read_texts",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

#: per-utterance metrics summarised as bootstrap means (WER/CER/PER are pooled instead)
SUMMARY_METRICS = (
    "mcd_db",
    "f0_rmse_cents",
    "f0_correlation",
    "voicing_decision_error",
    "duration_error_frames",
    "speaking_rate_ratio",
    "sim_o",
    "p808_mos_proxy",
    "ovrl_mos_proxy",
)
#: pooled ratios: (name, edits key, reference-length key)
POOLED_METRICS = (
    ("wer", "word_edits", "reference_words"),
    ("cer", "char_edits", "reference_chars"),
    ("per", "phoneme_edits", "reference_phonemes"),
    ("per_ground_truth", "ground_truth_phoneme_edits", "reference_phonemes"),
)


@dataclass(frozen=True)
class SynthesisEvaluationOptions:
    """What to measure and with which models (``None`` skips a model-based metric)."""

    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    speaker_encoder: str | None = "resemblyzer"
    asr: str | None = None
    recognizer: str | None = None
    mos_proxy: bool = True
    confidence: float = 0.95
    resamples: int = 1000
    seed: int = 0
    device: str | None = None


@dataclass(frozen=True)
class PairProblem:
    """An utterance that could not be (fully) evaluated, and why."""

    id: str
    reason: str


def _audio_files(folder: Path) -> tuple[dict[str, Path], list[PairProblem]]:
    if not folder.is_dir():
        raise FileNotFoundError(f"not a directory: {folder}")
    found: dict[str, Path] = {}
    problems = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in AUDIO_EXTENSIONS or not path.is_file():
            continue
        if path.stem in found:
            problems.append(PairProblem(path.stem, f"two audio files in {folder}: {found[path.stem].name}, {path.name}"))
            continue
        found[path.stem] = path
    return found, problems


def pair_files(reference_dir: str | os.PathLike, synthesized_dir: str | os.PathLike) -> tuple[list[tuple[str, Path, Path]], list[PairProblem]]:
    """Pair ``{id}.<ext>`` files of the two folders by name; every unpaired file is a problem."""
    references, problems = _audio_files(Path(reference_dir))
    synthesized, more = _audio_files(Path(synthesized_dir))
    problems += more
    pairs = [(key, references[key], synthesized[key]) for key in sorted(references) if key in synthesized]
    problems += [PairProblem(key, f"no synthesized file in {synthesized_dir}") for key in sorted(references) if key not in synthesized]
    problems += [PairProblem(key, f"no reference file in {reference_dir}") for key in sorted(synthesized) if key not in references]
    if not references and not synthesized:
        raise ValueError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {reference_dir} or {synthesized_dir}")
    return pairs, problems


def read_texts(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``id → {text, [phonemes], [reference_durations], [synthesized_durations]}`` from JSON lines
    (``{"id": ..., "text": ...}``) or tab-separated ``id<TAB>text`` lines."""
    entries: dict[str, dict[str, Any]] = {}
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if path.suffix == ".jsonl":
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not JSON: {err}") from err
                if "id" not in entry:
                    raise ValueError(f"{path}:{number}: no 'id' field")
                key = str(entry.pop("id"))
            else:
                key, tab, text = line.rstrip("\n").partition("\t")
                if not tab:
                    raise ValueError(f"{path}:{number}: expected 'id<TAB>text'")
                entry = {"text": text}
            if key in entries:
                raise ValueError(f"{path}:{number}: id {key!r} appears twice")
            entries[key] = entry
    return entries


class SynthesisEvaluator:
    """Scores one pair at a time; models (speaker encoder, ASR, DNSMOS, G2P) load on first use."""

    def __init__(self, options: SynthesisEvaluationOptions | None = None) -> None:
        self.options = options or SynthesisEvaluationOptions()
        self._models: dict[str, Any] = {}

    def _model(self, name: str) -> Any:
        if name not in self._models:
            options = self.options
            if name == "speaker":
                from .speaker_similarity import load_speaker_encoder

                self._models[name] = load_speaker_encoder(options.speaker_encoder, options.device)
            elif name == "asr":
                from .intelligibility import AsrTranscriber

                self._models[name] = AsrTranscriber(options.asr, device=options.device)
            elif name == "dnsmos":
                from .mos_proxy import DnsMos

                self._models[name] = DnsMos()
            elif name == "recognizer":
                from .recognition import PhonemeRecognizer

                self._models[name] = PhonemeRecognizer(options.recognizer, options.device)
            elif name == "frontend":
                from ..text.frontend import RussianFrontend

                self._models[name] = RussianFrontend()
        return self._models[name]

    def score_pair(
        self,
        reference: np.ndarray,
        synthesized: np.ndarray,
        reference_rate: int,
        synthesized_rate: int,
        meta: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """One utterance's record (see the module doc) and its tracks (DTW path, F0) for figures."""
        from .prosody import score_acoustics

        meta = dict(meta or {})
        record: dict[str, Any] = {}
        errors: dict[str, str] = {}
        acoustics, tracks = score_acoustics(reference, synthesized, reference_rate, synthesized_rate, self.options.settings)
        record.update(acoustics.to_dict())
        phonemes = self._phonemes(meta, errors)
        if phonemes is not None:
            self._speaking_rate(record, phonemes, reference, synthesized, reference_rate, synthesized_rate)
            if self.options.recognizer:
                self._guarded("per", errors, record, lambda: self._per(phonemes, reference, synthesized, reference_rate, synthesized_rate))
        self._durations(record, meta, errors)
        if self.options.speaker_encoder:
            self._guarded("sim_o", errors, record, lambda: self._sim_o(reference, synthesized, reference_rate, synthesized_rate))
        if self.options.mos_proxy:
            self._guarded("mos_proxy", errors, record, lambda: self._mos(synthesized, synthesized_rate))
        if self.options.asr and "text" in meta:
            self._guarded("wer", errors, record, lambda: self._wer(meta["text"], synthesized, synthesized_rate))
        record["errors"] = errors
        return record, tracks

    @staticmethod
    def _guarded(name: str, errors: dict[str, str], record: dict[str, Any], compute: Any) -> None:
        try:
            record.update(compute())
        except ValueError as err:  # undefined for this utterance (e.g. silence): reported, not raised
            errors[name] = str(err)

    def _sim_o(self, reference: np.ndarray, synthesized: np.ndarray, ref_rate: int, syn_rate: int) -> dict[str, Any]:
        from .speaker_similarity import speaker_similarity

        return {"sim_o": speaker_similarity(self._model("speaker"), synthesized, reference, syn_rate, ref_rate)}

    def _mos(self, synthesized: np.ndarray, rate: int) -> dict[str, Any]:
        scores = self._model("dnsmos").score(synthesized, rate)
        return {
            "p808_mos_proxy": scores["p808_mos"], "ovrl_mos_proxy": scores["ovrl_mos"],
            "sig_mos_proxy": scores["sig_mos"], "bak_mos_proxy": scores["bak_mos"],
            "clipped_samples": scores["clipped_samples"],
        }  # fmt: skip

    def _wer(self, text: str, synthesized: np.ndarray, rate: int) -> dict[str, Any]:
        from .intelligibility import error_rates

        transcript = self._model("asr").transcribe(synthesized, rate)
        return {"transcript": transcript, **error_rates(text, transcript)}

    def _phonemes(self, meta: Mapping[str, Any], errors: dict[str, str]) -> list[str] | None:
        """The utterance's phonemes: given, else from its text through our front-end, else None."""
        if meta.get("phonemes") is not None:
            return [str(p) for p in meta["phonemes"]]
        if "text" not in meta:
            return None
        try:
            return list(self._model("frontend")(meta["text"]).phonemes)
        except ValueError as err:
            errors["phonemes"] = f"cannot phonemise the text (no speaking rate, no PER): {err}"
            return None

    @staticmethod
    def _speaking_rate(record, phonemes, reference, synthesized, ref_rate, syn_rate) -> None:
        from ..text.inventory import is_phoneme
        from .prosody import speaking_rate

        count = sum(1 for p in phonemes if is_phoneme(p))
        ref = speaking_rate(count, reference, ref_rate)
        syn = speaking_rate(count, synthesized, syn_rate)
        ratio = syn / ref if ref > 0 else math.nan
        record.update(speaking_rate_reference=ref, speaking_rate_synthesized=syn, speaking_rate_ratio=ratio, phoneme_count=count)

    def _per(self, phonemes, reference, synthesized, ref_rate, syn_rate) -> dict[str, Any]:
        recognizer = self._model("recognizer")
        edits, length = recognizer.edits(synthesized, syn_rate, phonemes)
        truth, _ = recognizer.edits(reference, ref_rate, phonemes)
        return {"phoneme_edits": edits, "ground_truth_phoneme_edits": truth, "reference_phonemes": length}

    @staticmethod
    def _durations(record: dict[str, Any], meta: Mapping[str, Any], errors: dict[str, str]) -> None:
        from .prosody import duration_error

        if "reference_durations" in meta and "synthesized_durations" in meta:
            try:
                record["duration_error_frames"] = duration_error(meta["reference_durations"], meta["synthesized_durations"])
            except ValueError as err:
                errors["duration_error"] = str(err)


@dataclass
class SynthesisEvaluation:
    """Per-utterance records, the problems, and the bootstrap summary."""

    records: list[dict[str, Any]]
    problems: list[PairProblem]
    summary: dict[str, Interval]
    options: SynthesisEvaluationOptions

    def to_dict(self) -> dict[str, Any]:
        return {
            "utterances": len(self.records),
            "problems": [asdict(p) for p in self.problems],
            "summary": {name: _json_safe(interval.to_dict()) for name, interval in self.summary.items()},
            "options": {**asdict(self.options), "settings": self.options.settings.to_dict()},
        }

    def to_markdown(self, digits: int = 3) -> str:
        """A table: metric | mean [95 % interval] | n | missing."""
        confidence = round(100 * self.options.confidence)
        lines = [f"| metric | mean [{confidence} % interval] | n | undefined |", "| --- | --- | --- | --- |"]
        for name, interval in self.summary.items():
            lines.append(f"| {metric_label(name)} | {interval.format(digits)} | {interval.count} | {interval.missing} |")
        return "\n".join(lines)


def summarize_records(records: list[Mapping[str, Any]], options: SynthesisEvaluationOptions) -> dict[str, Interval]:
    """Bootstrap means of :data:`SUMMARY_METRICS` and pooled WER/CER, for the metrics present."""
    kwargs = {"confidence": options.confidence, "resamples": options.resamples, "seed": options.seed}
    present = [name for name in SUMMARY_METRICS if any(name in record for record in records)]
    summary: dict[str, Interval] = summarize(records, present, **kwargs)
    for name, edits, length in POOLED_METRICS:
        scored = [record for record in records if edits in record]
        if scored:
            summary[name] = bootstrap_ratio([r[edits] for r in scored], [r[length] for r in scored], **kwargs)
    return summary


def evaluate_pairs(
    items: Iterable[tuple[str, Any, Any]],
    options: SynthesisEvaluationOptions | None = None,
    *,
    texts: Mapping[str, Mapping[str, Any]] | None = None,
    problems: list[PairProblem] | None = None,
    show_progress: bool = True,
    keep_tracks: int = 4,
) -> tuple[SynthesisEvaluation, dict[str, dict[str, np.ndarray]]]:
    """Score ``(id, reference, synthesized)`` items (paths, or ``(waveform, rate)`` tuples).

    Returns the evaluation and the tracks (DTW path, F0, cepstra inputs) of the first
    ``keep_tracks`` utterances, for figures.
    """
    from tqdm.auto import tqdm

    from ..processing.audio import AudioError, load_audio

    evaluator = SynthesisEvaluator(options)
    problems = list(problems or [])
    texts = texts or {}
    records, tracks = [], {}
    items = list(items)
    for key, reference, synthesized in tqdm(items, desc="evaluating pairs", disable=not show_progress):
        try:
            ref, ref_rate = reference if isinstance(reference, tuple) else load_audio(reference)
            syn, syn_rate = synthesized if isinstance(synthesized, tuple) else load_audio(synthesized)
            record, track = evaluator.score_pair(ref, syn, ref_rate, syn_rate, texts.get(key))
        except (AudioError, FileNotFoundError, ValueError) as err:
            problems.append(PairProblem(key, f"not evaluated: {err}"))
            continue
        records.append({"id": key, **record})
        if len(tracks) < keep_tracks:
            tracks[key] = {**track, "reference": (ref, ref_rate), "synthesized": (syn, syn_rate)}
    missing_text = [record["id"] for record in records if texts and record["id"] not in texts]
    problems += [PairProblem(key, "no text for this id: WER and speaking rate not computed") for key in missing_text]
    evaluation = SynthesisEvaluation(records, problems, summarize_records(records, evaluator.options), evaluator.options)
    return evaluation, tracks


_LABELS = {
    "mcd_db": "MCD (dB)",
    "f0_rmse_cents": "F0 RMSE (cents)",
    "f0_correlation": "F0 correlation",
    "voicing_decision_error": "voicing decision error",
    "duration_error_frames": "duration error (frames/phoneme)",
    "speaking_rate_ratio": "speaking rate, synthesized / reference",
    "sim_o": "SIM-o",
    "p808_mos_proxy": "DNSMOS P.808 (MOS proxy)",
    "ovrl_mos_proxy": "DNSMOS OVRL (MOS proxy)",
    "wer": "WER (pooled)",
    "cer": "CER (pooled)",
    "per": "PER of the synthesized audio (recogniser proxy, pooled)",
    "per_ground_truth": "PER of the references (the same recogniser on ground truth)",
}


def metric_label(name: str) -> str:
    """The human-readable name of a summary metric (proxies named as proxies)."""
    return _LABELS.get(name, name)


def _json_safe(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in mapping.items()}
