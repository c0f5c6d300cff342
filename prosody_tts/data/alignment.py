"""The phoneme aligner's data: training batches, and aligning canonical examples with a trained aligner.

Training::


    prepared row {id, phoneme_input_ids (N,), input_features (T, M)}
      ─ AlignerDataset: rows with fewer frames than aligned tokens are refused, with their ids
      ─► {id, input_ids (N,), input_features (T, M)}
    batch ─► input_ids (B, N_max) padded with pad_token_id, attention_mask (B, N_max),
             input_features (B, T_max, M) padded with the extractor's value,
             feature_attention_mask (B, T_max)                                  AlignerCollator

The aligner needs no durations: it trains on the transcribed corpus it will align.

Alignment (:func:`align_examples`, what ``prosody-tts align`` runs)::


    canonical examples {id, audio, text, speaker, …}            (any source; phonemes optional)
      ─ RobustExampleStream.process_example: decode, log-mel, our phonemes   ─ failures → rejected
      ─ batches of batch_size ─ PhonemeAlignerModel.align ─► frames per token (<s> … </s>), score
      ─ fold_edge_silence: <s> frames into the first phoneme, </s> into the last, # = 0
      ─► score < min_score → rejected {id, reason};  else the example + phonemes +
         phoneme_durations (Σ = the mel frame count exactly) + alignment_score + edge_silence_frames

Nothing is dropped silently: every input example comes out either aligned or rejected with a
reason (unreadable audio, text the front-end cannot phonemise, fewer frames than phonemes, a score
below the threshold — the usual sign of a transcript that does not match its audio).
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..processing.padding import length_mask, pad_frames, pad_rows_tensor

__all__ = [
    "AlignerCollator",
    "AlignerDataset",
    "align_examples",
    "align_processed",
    "aligned_token_count",
    "fold_edge_silence",
]


def aligned_token_count(input_ids: Sequence[int], unaligned_token_ids: Collection[int]) -> int:
    """Tokens of ``input_ids`` that get frames (all but ``unaligned_token_ids``)."""
    skip = set(unaligned_token_ids)
    return sum(1 for i in input_ids if int(i) not in skip)


class AlignerDataset(torch.utils.data.Dataset):
    """Prepared rows as aligner examples; rows that cannot be aligned are listed in ``skipped``."""

    def __init__(self, rows: Any, unaligned_token_ids: Collection[int]) -> None:
        self.rows = rows
        self.index: list[int] = []
        self.skipped: list[tuple[str, str]] = []
        for i in range(len(rows)):
            row = rows[i]
            ids = [int(t) for t in row["phoneme_input_ids"]]
            frames = int(row["num_frames"]) if "num_frames" in row else len(row["input_features"])
            tokens = aligned_token_count(ids, unaligned_token_ids)
            if frames < tokens:
                self.skipped.append((str(row.get("id", i)), f"too short: {frames} frames for {tokens} tokens"))
                continue
            self.index.append(i)
        if not self.index:
            raise ValueError(f"no usable rows for the aligner ({len(self.skipped)} skipped: {self.skipped[:3]})")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self.rows[self.index[i]]
        return {
            "id": str(row["id"]),
            "input_ids": [int(t) for t in row["phoneme_input_ids"]],
            "input_features": np.asarray(row["input_features"], dtype=np.float32),
        }


class AlignerCollator:
    """Pads ids (``pad_token_id``) and log-mels (``padding_value``); see the module docstring."""

    def __init__(self, pad_token_id: int, padding_value: float = math.log(1e-5)) -> None:
        self.pad_token_id = int(pad_token_id)
        self.padding_value = float(padding_value)

    def __call__(self, items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        rows = [item["input_ids"] for item in items]
        ids = pad_rows_tensor(rows, self.pad_token_id)
        mask = length_mask(torch.tensor([len(row) for row in rows]), ids.shape[1]).long()
        frames = [torch.as_tensor(np.asarray(item["input_features"]), dtype=torch.float32) for item in items]
        features, frame_mask = pad_frames(frames, self.padding_value)
        return {"input_ids": ids, "attention_mask": mask, "input_features": features, "feature_attention_mask": frame_mask}



def fold_edge_silence(token_durations: Sequence[int]) -> tuple[list[int], tuple[int, int]]:
    """Durations per phoneme symbol from durations per token ``<s> p₁ … p_n </s>``.

    ``<s>``'s frames (leading silence) go to ``p₁``, ``</s>``'s (trailing silence) to ``p_n``, so
    the result sums to the same frame count. Returns ``(durations, (leading, trailing))``.

    Example:
        >>> fold_edge_silence([3, 5, 0, 4, 2])
        ([8, 0, 6], (3, 2))
    """
    if len(token_durations) < 3:
        raise ValueError(f"need <s>, at least one phoneme and </s>, got {len(token_durations)} token durations")
    lead, trail = int(token_durations[0]), int(token_durations[-1])
    durations = [int(d) for d in token_durations[1:-1]]
    durations[0] += lead
    durations[-1] += trail
    return durations, (lead, trail)


def _audio_reference(example: Mapping[str, Any], audio_dir: Path | None, sampling_rate: int, base_dir: str | None) -> str:
    """An audio path for the aligned manifest: the source file when it exists, else a WAV written to ``audio_dir``."""
    audio = example.get("audio")
    path = audio.get("path") if isinstance(audio, Mapping) else audio
    if isinstance(path, str) and path:
        resolved = Path(path) if Path(path).is_absolute() or base_dir is None else Path(base_dir) / path
        if resolved.is_file():
            return str(resolved.resolve())
    if audio_dir is None:
        raise ValueError(f"example {example.get('id')!r} has no audio file on disk: give an audio_dir to write it to")
    import soundfile as sf

    from .schema import decode_example_audio

    wave = decode_example_audio(example, sampling_rate, base_dir)
    audio_dir.mkdir(parents=True, exist_ok=True)
    target = audio_dir / f"{_safe_name(str(example['id']))}.wav"
    sf.write(target, np.asarray(wave, dtype=np.float32), sampling_rate, subtype="PCM_16")
    return str(target.resolve())


def _safe_name(identifier: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in identifier)


def _aligned_record(source: Mapping[str, Any], processed: Mapping[str, Any], token_durations: list[int], score: float,
                    audio: str, tokenizer: Any) -> dict[str, Any]:  # fmt: skip
    from .schema import FIELDS

    durations, edges = fold_edge_silence(token_durations)
    phonemes = tokenizer.convert_ids_to_tokens([int(i) for i in processed["phoneme_input_ids"][1:-1]])
    record = {name: source.get(name) for name in FIELDS}
    record.update(audio=audio, phonemes=list(phonemes), phoneme_durations=durations)
    record["alignment_score"] = round(float(score), 6)
    record["edge_silence_frames"] = list(edges)
    return record


def _flush(model: Any, collator: Any, batch: list[tuple[dict, dict]], min_score: float, writer: Any) -> Iterator[tuple[str, dict]]:
    device = next(model.parameters()).device
    items = [{"id": p["id"], "input_ids": p["phoneme_input_ids"], "input_features": p["input_features"]} for _, p in batch]
    inputs = {k: v.to(device) for k, v in collator(items).items()}
    out = model.align(**inputs)
    for b, (source, processed) in enumerate(batch):
        n = len(processed["phoneme_input_ids"])
        durations = [int(d) for d in out.durations[b, :n].tolist()]
        score = float(out.alignment_scores[b])
        if sum(durations) != int(processed["num_frames"]):  # the search gives every frame to one token
            raise RuntimeError(f"{processed['id']}: durations sum to {sum(durations)}, not {processed['num_frames']} frames")
        if score < min_score:
            yield "rejected", {"id": processed["id"], "reason": f"alignment score {score:.3f} < {min_score}"}
            continue
        yield "aligned", writer(source, processed, durations, score)


@torch.no_grad()
def align_examples(
    model: Any,
    processor: Any,
    examples: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = 16,
    min_score: float | None = None,
    audio_dir: str | os.PathLike | None = None,
    base_dir: str | os.PathLike | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``("aligned", example)`` or ``("rejected", {"id", "reason"})`` for every input example, in order.

    Args:
        model: a :class:`~prosody_tts.modeling.phoneme_aligner.PhonemeAlignerModel` (put in eval mode here).
        processor: the ``DualStreamProcessor`` the aligner was trained with (its phonemes and log-mels).
        examples: canonical examples (a 🤗 dataset, streamed or not, or a list); stored ``phonemes``
            are aligned as they are, otherwise the front-end phonemises the text.
        min_score: reject alignments scoring below this (default: the model config's ``min_alignment_score``).
        audio_dir: where audio that exists only as bytes is written (as 16-bit WAV) for the manifest.
    """
    from .streaming import RobustExampleStream

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.eval()
    threshold = model.config.min_alignment_score if min_score is None else float(min_score)
    stream = RobustExampleStream([], processor, base_dir=base_dir, require_durations=False)
    collator = AlignerCollator(processor.tokenizer.pad_token_id, processor.feature_extractor.padding_value)
    unaligned = set(model.config.unaligned_token_ids)
    sampling_rate = int(processor.feature_extractor.sampling_rate)
    folder = Path(audio_dir) if audio_dir is not None else None
    base = os.fspath(base_dir) if base_dir is not None else None

    def writer(source: dict, processed: dict, durations: list[int], score: float) -> dict[str, Any]:
        audio = _audio_reference(source, folder, sampling_rate, base)
        return _aligned_record(source, processed, durations, score, audio, processor.tokenizer)

    batch: list[tuple[dict, dict]] = []
    for example in examples:
        example = dict(example)
        processed = stream.process_example(example)
        if processed is None:
            identifier = str(example.get("id"))
            reason = stream.skipped_ids.get(identifier, "error")
            yield "rejected", {"id": identifier, "reason": f"{reason}: {stream.skip_details.get(identifier, 'could not be processed')}"}
            continue
        tokens = aligned_token_count(processed["phoneme_input_ids"], unaligned)
        if processed["num_frames"] < tokens:
            yield "rejected", {"id": processed["id"], "reason": f"too short: {processed['num_frames']} frames for {tokens} tokens"}
            continue
        batch.append((example, processed))
        if len(batch) == batch_size:
            yield from _flush(model, collator, batch, threshold, writer)
            batch = []
    if batch:
        yield from _flush(model, collator, batch, threshold, writer)


@torch.no_grad()
def align_processed(model: Any, processed: Mapping[str, Any], processor: Any) -> tuple[list[int] | None, tuple[int, int], float]:
    """Align one processed example (``phoneme_input_ids``, ``input_features``) on the fly.

    Returns ``(durations per phoneme symbol, (leading, trailing) silence frames, score)``, or
    ``(None, (0, 0), 0.0)`` when it has fewer frames than aligned tokens.
    """
    ids = [int(i) for i in processed["phoneme_input_ids"]]
    if int(processed["num_frames"]) < aligned_token_count(ids, model.config.unaligned_token_ids):
        return None, (0, 0), 0.0
    collator = AlignerCollator(processor.tokenizer.pad_token_id, processor.feature_extractor.padding_value)
    device = next(model.parameters()).device
    batch = collator([{"input_ids": ids, "input_features": processed["input_features"]}])
    out = model.align(**{k: v.to(device) for k, v in batch.items()})
    durations, edges = fold_edge_silence([int(d) for d in out.durations[0].tolist()])
    return durations, edges, float(out.alignment_scores[0])
