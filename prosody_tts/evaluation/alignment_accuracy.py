"""Accuracy of phoneme alignments: boundary errors against reference timings.

::

    hypothesis: aligned example {phonemes, phoneme_durations, edge_silence_frames}
      ─ phoneme_segments ─► [(symbol, start_s, end_s)] for phonemes only (# and punctuation keep
        their time but are not compared; folded edge silence is taken back out)
    reference:  the embedded corpus's espeak timings (the same phonemes, in frames)
            or  festvox-ru's .lab phones, mapped onto our symbols with FESTVOX_TO_IPA (pau dropped)
      ─ match_segments: the two symbol sequences aligned by Levenshtein (jiwer); equal and
        substituted pairs are compared (an approximate phone map still lines up), insertions and
        deletions are counted, not compared
      ─► |Δ onset| and |Δ offset| of every matched phone ─► BoundaryErrors: median / mean in ms,
         share within 20 ms and 50 ms, matched share of the reference phones

Frames are ``hop_length / sampling_rate`` seconds long (11.6 ms at 22.05 kHz, hop 256): a
frame-quantised alignment cannot do better than a few ms on average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BoundaryErrors",
    "aligned_record_segments",
    "boundary_errors",
    "evaluate_alignment",
    "festvox_segments",
    "match_segments",
    "phoneme_segments",
    "records_accuracy",
    "reference_segments",
    "summarize_boundary_errors",
]

Segment = tuple[str, float, float]
#: the thresholds the issue reports (ms)
WITHIN_MS: tuple[float, ...] = (20.0, 50.0)


def phoneme_segments(
    phonemes: Sequence[str], durations: Sequence[int], frame_seconds: float, edge_silence: Sequence[int] = (0, 0)
) -> list[Segment]:
    """``[(phoneme, start_s, end_s)]`` of the phonemes of a duration sequence (non-phonemes skipped).

    ``edge_silence``: the frames of leading / trailing silence folded into the first / last symbol
    (``prosody-tts align`` writes them as ``edge_silence_frames``); they are taken back out so the
    first phoneme starts after the leading silence.

    Example:
        >>> phoneme_segments(["p", "#", "a", "."], [2, 0, 3, 1], 0.01, edge_silence=(1, 1))
        [('p', 0.01, 0.02), ('a', 0.02, 0.05)]
    """
    from ..text.inventory import is_phoneme

    if len(phonemes) != len(durations):
        raise ValueError(f"{len(phonemes)} phonemes but {len(durations)} durations")
    frames = [int(d) for d in durations]
    lead, trail = (int(e) for e in edge_silence)
    if frames and lead + trail > sum(frames):
        raise ValueError(f"edge silence {lead} + {trail} frames exceeds the {sum(frames)} frames")
    segments: list[Segment] = []
    start, total = 0, sum(frames)
    for symbol, d in zip(phonemes, frames, strict=True):
        end = start + d
        a, b = max(start, lead), min(end, total - trail)
        if is_phoneme(symbol):
            segments.append((symbol, round(a * frame_seconds, 9), round(max(a, b) * frame_seconds, 9)))
        start = end
    return segments


def festvox_segments(lab: Iterable[tuple[str, float, float]]) -> list[Segment]:
    """festvox ``.lab`` phones as our symbols (``FESTVOX_TO_IPA``; ``pau`` dropped)."""
    from ..data.sources.festvox import FESTVOX_TO_IPA

    out: list[Segment] = []
    for phone, start, end in lab:
        if phone not in FESTVOX_TO_IPA:
            raise ValueError(f"festvox phone {phone!r} is not in FESTVOX_TO_IPA")
        symbol = FESTVOX_TO_IPA[phone]
        if symbol is not None:
            out.append((symbol, float(start), float(end)))
    return out


def match_segments(reference: Sequence[Segment], hypothesis: Sequence[Segment]) -> tuple[list[tuple[Segment, Segment]], int]:
    """Pairs of reference / hypothesis segments (equal or substituted symbols), and the unmatched count.

    The symbol sequences are aligned by Levenshtein distance with :mod:`jiwer`; inserted and
    deleted phones have no counterpart and are returned as a count.
    """
    import jiwer

    if not reference or not hypothesis:
        return [], len(reference) + len(hypothesis)
    out = jiwer.process_words(" ".join(s[0] for s in reference), " ".join(s[0] for s in hypothesis))
    pairs: list[tuple[Segment, Segment]] = []
    unmatched = 0
    for chunk in out.alignments[0]:
        if chunk.type in ("equal", "substitute"):
            for k in range(chunk.ref_end_idx - chunk.ref_start_idx):
                pairs.append((reference[chunk.ref_start_idx + k], hypothesis[chunk.hyp_start_idx + k]))
        else:
            unmatched += max(chunk.ref_end_idx - chunk.ref_start_idx, chunk.hyp_end_idx - chunk.hyp_start_idx)
    return pairs, unmatched


def boundary_errors(reference: Sequence[Segment], hypothesis: Sequence[Segment]) -> tuple[list[float], int]:
    """``(hypothesis − reference onset and offset in seconds of every matched phone, unmatched phones)``.

    Signed: negative when the hypothesis puts the boundary earlier (the summary takes magnitudes
    and reports the median signed error apart, a systematic offset).
    """
    pairs, unmatched = match_segments(reference, hypothesis)
    errors: list[float] = []
    for (_, r_start, r_end), (_, h_start, h_end) in pairs:
        errors += [h_start - r_start, h_end - r_end]
    return errors, unmatched


@dataclass
class BoundaryErrors:
    """Boundary-error summary over a corpus (times in ms)."""

    utterances: int
    boundaries: int
    median_ms: float
    mean_ms: float
    within_ms: dict[str, float] = field(default_factory=dict)
    #: matched phones / reference phones (1 when the two symbol sequences line up one to one)
    matched_share: float = 1.0
    #: median of hypothesis − reference (negative: boundaries placed early), a systematic offset
    median_signed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_boundary_errors(per_utterance: Sequence[tuple[Sequence[float], int, int]]) -> BoundaryErrors:
    """``per_utterance``: ``(signed errors in s, unmatched phones, reference phones)`` per utterance."""
    signed = np.asarray([e for errs, _, _ in per_utterance for e in errs], dtype=np.float64) * 1000.0
    errors = np.abs(signed)
    if errors.size == 0:
        raise ValueError("no matched phone boundaries to summarise")
    reference = sum(n for _, _, n in per_utterance)
    matched = sum(len(errs) // 2 for errs, _, _ in per_utterance)
    return BoundaryErrors(
        utterances=len(per_utterance), boundaries=int(errors.size), median_ms=round(float(np.median(errors)), 3),
        mean_ms=round(float(errors.mean()), 3),
        within_ms={f"{t:g}": round(float((errors <= t + 1e-6).mean()), 4) for t in WITHIN_MS},  # 1e-6: float noise
        matched_share=round(matched / max(reference, 1), 4), median_signed_ms=round(float(np.median(signed)), 3),
    )  # fmt: skip


def aligned_record_segments(record: Mapping[str, Any], frame_seconds: float) -> list[Segment]:
    """The phoneme segments of an aligned example (``prosody-tts align`` output)."""
    return phoneme_segments(record["phonemes"], record["phoneme_durations"], frame_seconds,
                            record.get("edge_silence_frames") or (0, 0))  # fmt: skip


#: ``reference`` values of :func:`evaluate_alignment`
REFERENCES: tuple[str, ...] = ("stored_durations", "festvox_labels")


def reference_segments(example: Mapping[str, Any], reference: str, frame_seconds: float) -> list[Segment] | None:
    """The reference phone segments of a source example (None when it has no timings of that kind)."""
    if reference == "stored_durations":
        if example.get("phonemes") is None or example.get("phoneme_durations") is None:
            return None
        return phoneme_segments(example["phonemes"], example["phoneme_durations"], frame_seconds)
    if reference == "festvox_labels":
        from ..data.sources.festvox import festvox_label_segments

        return festvox_segments(festvox_label_segments(example))
    raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")


def records_accuracy(
    records: Iterable[Mapping[str, Any]], sources: Mapping[str, Mapping[str, Any]], reference: str, frame_seconds: float
) -> tuple[BoundaryErrors | None, list[str]]:
    """Boundary errors of aligned records against their source examples' ``reference`` timings.

    Returns ``(summary or None when nothing had a reference, ids without a reference)``.
    """
    per_utterance: list[tuple[list[float], int, int]] = []
    missing: list[str] = []
    for record in records:
        ref = reference_segments(sources[str(record["id"])], reference, frame_seconds)
        if ref is None:
            missing.append(str(record["id"]))
            continue
        errors, unmatched = boundary_errors(ref, aligned_record_segments(record, frame_seconds))
        per_utterance.append((errors, unmatched, len(ref)))
    return (summarize_boundary_errors(per_utterance) if per_utterance else None), missing


def score_quantiles(scores: Sequence[float]) -> dict[str, float]:
    """min / p10 / median / p90 / max of alignment scores."""
    q = np.quantile(np.asarray(scores, dtype=np.float64), [0.0, 0.1, 0.5, 0.9, 1.0])
    return dict(zip(("min", "p10", "median", "p90", "max"), (round(float(v), 4) for v in q), strict=True))


def evaluate_alignment(
    model: Any,
    processor: Any,
    examples: Sequence[Mapping[str, Any]],
    *,
    reference: str = "stored_durations",
    batch_size: int = 16,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Align ``examples`` (no score threshold) and compare the boundaries with ``reference``.

    Returns a JSON-ready dict: ``boundary_errors`` (:class:`BoundaryErrors`), ``alignment_score``
    quantiles, the rejected ids with reasons, utterances without a reference, and the speed
    (``utterances_per_second`` of :func:`~prosody_tts.data.alignment.align_examples`, one process).
    """
    import time

    from tqdm.auto import tqdm

    from ..data.alignment import align_examples

    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    extractor = processor.feature_extractor
    frame_seconds = int(extractor.hop_length) / int(extractor.sampling_rate)
    records: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    started = time.perf_counter()
    results = align_examples(model, processor, examples, batch_size=batch_size, min_score=0.0)
    for kind, record in tqdm(results, total=len(examples), desc="aligning", unit="utt", disable=not show_progress):
        (records if kind == "aligned" else rejected).append(record)
    seconds = time.perf_counter() - started
    summary, missing = records_accuracy(records, {str(e["id"]): e for e in examples}, reference, frame_seconds)
    return {
        "reference": reference,
        "utterances": len(examples),
        "aligned": len(records),
        "rejected": rejected,
        "no_reference": missing,
        "frame_ms": round(frame_seconds * 1000, 3),
        "utterances_per_second": round(len(examples) / max(seconds, 1e-9), 3),
        "alignment_score": score_quantiles([r["alignment_score"] for r in records]) if records else None,
        "boundary_errors": summary.to_dict() if summary is not None else None,
    }
