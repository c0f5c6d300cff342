"""``DualStreamCollator``: processed examples (see ``RobustExampleStream``) → one padded batch.

=========================== ============ ==================================================
key                         dtype        padding
=========================== ============ ==================================================
``phoneme_input_ids``       int64 (B, P) the phoneme tokenizer's ``pad_token_id``
``phoneme_attention_mask``  int64 (B, P) 0
``phoneme_word_ids``        int64 (B, P) -1 (``NO_WORD``)
``bpe_input_ids``           int64 (B, S) the BPE tokenizer's ``pad_token_id``
``bpe_attention_mask``      int64 (B, S) 0
``bpe_word_ids``            int64 (B, S) -1
``input_features``          f32 (B,T,M)  the feature extractor's ``padding_value`` (log 1e-5)
``feature_attention_mask``  int64 (B, T) 0
``phoneme_durations``       int64 (B, P) 0 (only when every example has durations)
``speaker_ids``             int64 (B,)   —
=========================== ============ ==================================================

Keys an example lacks are left out of the batch (e.g. no token keys for a mel-only stream).
``phoneme_durations`` must have the length of ``phoneme_input_ids`` when both are present.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..constants import NO_WORD
from ..processing.padding import pad_frames, pad_rows_tensor

__all__ = ["DualStreamCollator", "OccurrenceCollator", "TextToSpeechCollator"]

_TOKEN_STREAMS = ("phoneme", "bpe")


class DualStreamCollator:
    """Pad a list of processed examples into tensors.

    Args:
        phoneme_pad_id / bpe_pad_id: pad ids of the two tokenizers.
        feature_padding_value: value of padded mel frames (the extractor's ``padding_value``).
        speaker_to_id: fixed speaker → int mapping; without it one is built as speakers arrive
            (first seen → next int), which differs between processes — pass a mapping for
            multi-process training. An unknown speaker with a fixed mapping raises ``KeyError``
            unless ``unknown_speaker_id`` is set.
        pad_to_multiple_of: round the padded token and frame lengths up to a multiple of this.
        return_ids: also put the example ids (list of str) under ``"ids"`` (not a tensor: leave it
            off for ``Trainer``, which passes every key to the model).
    """

    def __init__(
        self,
        phoneme_pad_id: int = 0,
        bpe_pad_id: int = 0,
        feature_padding_value: float = math.log(1e-5),
        speaker_to_id: Mapping[str, int] | None = None,
        unknown_speaker_id: int | None = None,
        pad_to_multiple_of: int | None = None,
        return_ids: bool = False,
    ) -> None:
        self.phoneme_pad_id = int(phoneme_pad_id)
        self.bpe_pad_id = int(bpe_pad_id)
        self.feature_padding_value = float(feature_padding_value)
        self.frozen_speakers = speaker_to_id is not None
        self.speaker_to_id: dict[str, int] = dict(speaker_to_id or {})
        self.unknown_speaker_id = unknown_speaker_id
        self.pad_to_multiple_of = pad_to_multiple_of
        self.return_ids = return_ids

    @classmethod
    def from_processor(cls, processor: Any, **kwargs: Any) -> DualStreamCollator:
        """Pad ids and feature padding value taken from a ``DualStreamProcessor``."""
        return cls(
            phoneme_pad_id=processor.tokenizer.pad_token_id,
            bpe_pad_id=processor.bpe_tokenizer.pad_token_id,
            feature_padding_value=processor.feature_extractor.padding_value,
            **kwargs,
        )

    def speaker_id(self, speaker: str) -> int:
        """Int id of a speaker (assigning the next one when the mapping is not fixed)."""
        if speaker in self.speaker_to_id:
            return self.speaker_to_id[speaker]
        if self.frozen_speakers:
            if self.unknown_speaker_id is None:
                raise KeyError(f"speaker {speaker!r} is not in speaker_to_id")
            return self.unknown_speaker_id
        self.speaker_to_id[speaker] = len(self.speaker_to_id)
        return self.speaker_to_id[speaker]

    def _pad_rows(self, rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
        return pad_rows_tensor(rows, value, multiple_of=self.pad_to_multiple_of)

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if not examples:
            raise ValueError("DualStreamCollator got an empty list of examples")
        first = examples[0]
        batch: dict[str, Any] = {}
        for stream, pad_id in zip(_TOKEN_STREAMS, (self.phoneme_pad_id, self.bpe_pad_id), strict=True):
            key = f"{stream}_input_ids"
            if key not in first:
                continue
            ids = [ex[key] for ex in examples]
            batch[key] = self._pad_rows(ids, pad_id)
            batch[f"{stream}_attention_mask"] = self._pad_rows([[1] * len(r) for r in ids], 0)
            word_key = f"{stream}_word_ids"
            if word_key in first:
                words = [ex[word_key] for ex in examples]
                for row, word_row, ex in zip(ids, words, examples, strict=True):
                    if len(row) != len(word_row):
                        raise ValueError(
                            f"example {ex.get('id')!r}: {len(word_row)} {word_key} for {len(row)} ids"
                        )
                batch[word_key] = self._pad_rows(words, NO_WORD)
        if "input_features" in first:
            feats = [
                torch.as_tensor(np.asarray(ex["input_features"]), dtype=torch.float32) for ex in examples
            ]
            batch["input_features"], batch["feature_attention_mask"] = pad_frames(
                feats, self.feature_padding_value, self.pad_to_multiple_of
            )
        if all(ex.get("phoneme_durations") is not None for ex in examples):
            durations = [ex["phoneme_durations"] for ex in examples]
            if "phoneme_input_ids" in batch:
                for ex, row in zip(examples, durations, strict=True):
                    if len(row) != len(ex["phoneme_input_ids"]):
                        raise ValueError(
                            f"example {ex.get('id')!r}: {len(row)} durations for "
                            f"{len(ex['phoneme_input_ids'])} phoneme ids"
                        )
                width = batch["phoneme_input_ids"].shape[1]
                durations = [list(r) + [0] * (width - len(r)) for r in durations]
            batch["phoneme_durations"] = self._pad_rows(durations, 0)
        if all("speaker" in ex for ex in examples):
            batch["speaker_ids"] = torch.tensor([self.speaker_id(str(ex["speaker"])) for ex in examples])
        if self.return_ids:
            batch["ids"] = [str(ex.get("id")) for ex in examples]
        return batch


class OccurrenceCollator:
    """Sampled phoneme occurrences → one contrastive batch (stages 2 and 3).

    Takes the items of :class:`~.occurrences.OccurrenceDataset` (or of the streaming batcher):
    ``{"example": prepared row, "occurrence": PhonemeOccurrence}``. Each utterance is padded once,
    however many of its occurrences were sampled, and the pairs are returned as

    * ``occurrence_positions`` (N, 2): (batch index, position in the phoneme stream incl. ``<s>``),
    * ``segment_spans`` (N, 3): (batch index, start frame, end frame), row i pairs with row i above,

    in the order of the items, next to the padded text and mel tensors of
    :class:`DualStreamCollator` (``phoneme_durations`` is dropped: the spans carry it).

    Args:
        base: the padding collator.
        with_speaker_ids: keep ``speaker_ids`` (for ``speaker_source="ids"``); dropped otherwise.
        return_identities: also return ``"phonemes"`` (list of str, one per pair) and ``"ids"``
            — for evaluation code, not for ``Trainer`` (which passes every key to the model).
    """

    def __init__(self, base: DualStreamCollator, with_speaker_ids: bool = False, return_identities: bool = False) -> None:
        self.base = base
        self.with_speaker_ids = with_speaker_ids
        self.return_identities = return_identities

    def __call__(self, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if not items:
            raise ValueError("OccurrenceCollator got an empty list of items")
        rows: list[Mapping[str, Any]] = []
        slot: dict[str, int] = {}
        positions, spans = [], []
        for item in items:
            occurrence, example = item["occurrence"], item["example"]
            uid = occurrence.utterance_id
            if uid not in slot:
                if str(example["id"]) != uid:
                    raise ValueError(f"occurrence of {uid!r} paired with example {example['id']!r}")
                slot[uid] = len(rows)
                rows.append(example)
            num_frames = int(rows[slot[uid]]["num_frames"])
            if not 0 <= occurrence.start_frame < occurrence.end_frame <= num_frames:
                raise ValueError(
                    f"occurrence {occurrence.phoneme!r} of {uid!r} spans frames "
                    f"[{occurrence.start_frame}, {occurrence.end_frame}) outside the utterance's {num_frames}"
                )
            positions.append((slot[uid], occurrence.position + 1))  # +1: the phoneme stream starts with <s>
            spans.append((slot[uid], occurrence.start_frame, occurrence.end_frame))
        batch = self.base(rows)
        batch.pop("phoneme_durations", None)
        if not self.with_speaker_ids:
            batch.pop("speaker_ids", None)
        batch["occurrence_positions"] = torch.tensor(positions, dtype=torch.long)
        batch["segment_spans"] = torch.tensor(spans, dtype=torch.long)
        if self.return_identities:
            batch["phonemes"] = [item["occurrence"].phoneme for item in items]
            batch["ids"] = [item["occurrence"].utterance_id for item in items]
        return batch


class TextToSpeechCollator:
    """Prepared rows → one text-to-speech batch: both token streams, the target log-mels, speakers.

    =========================== ============ ==================================================
    key                         dtype        from
    =========================== ============ ==================================================
    ``phoneme_*``, ``bpe_*``    int64        as :class:`DualStreamCollator`
    ``spectrogram``             f32 (B,T,M)  ``input_features``, right-padded
    ``spectrogram_lengths``     int64 (B,)   ``num_frames`` of each row
    ``speaker_ids``             int64 (B,)   ``speaker`` through the fixed ``speaker_to_id`` (multi-speaker only)
    ``phoneme_durations``       int64 (B, P) only with ``with_durations`` (evaluation with ground-truth durations)
    =========================== ============ ==================================================

    Args:
        base: the padding collator (its ``speaker_to_id`` must be fixed for a multi-speaker model).
        with_speaker_ids: keep ``speaker_ids``; a single-speaker model gets none.
        with_durations: keep ``phoneme_durations`` (the espeak/aligner frames per phoneme id).
        spectrogram_only: keep only ``spectrogram`` and ``spectrogram_lengths`` (the Mel-VAE's batches).
    """

    def __init__(
        self,
        base: DualStreamCollator,
        with_speaker_ids: bool = False,
        with_durations: bool = False,
        spectrogram_only: bool = False,
    ) -> None:
        if with_speaker_ids and not base.frozen_speakers:
            raise ValueError("a multi-speaker collator needs a fixed speaker_to_id (the same on every rank)")
        if spectrogram_only and (with_speaker_ids or with_durations):
            raise ValueError("spectrogram_only batches carry neither speaker_ids nor durations")
        self.base = base
        self.with_speaker_ids = with_speaker_ids
        self.with_durations = with_durations
        self.spectrogram_only = spectrogram_only

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if not rows:
            raise ValueError("TextToSpeechCollator got an empty list of rows")
        missing = [str(row.get("id")) for row in rows if "input_features" not in row or "phoneme_input_ids" not in row]
        if missing:
            raise ValueError(f"rows {missing[:3]} lack input_features or phoneme_input_ids (use a prepared corpus)")
        batch = self.base(rows)
        batch["spectrogram"] = batch.pop("input_features")
        batch["spectrogram_lengths"] = batch.pop("feature_attention_mask").sum(1)
        if not self.with_durations:
            batch.pop("phoneme_durations", None)
        if not self.with_speaker_ids:
            batch.pop("speaker_ids", None)
        if self.spectrogram_only:
            return {"spectrogram": batch["spectrogram"], "spectrogram_lengths": batch["spectrogram_lengths"]}
        return batch
