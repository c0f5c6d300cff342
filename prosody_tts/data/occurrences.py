"""Phoneme occurrences: the unit the stage-2 and stage-3 batch samplers draw from.

One occurrence is one phoneme sound in one utterance, with its identity, frame span and word.
They come from an example's ``phonemes`` and ``phoneme_durations`` (canonical schema):
frame spans are cumulative durations, and the word index counts the ``#`` boundaries before the
symbol (the front-end puts one ``#`` before every word but the first), so it equals the
processor's ``phoneme_word_ids`` for that position.

::

    example (phonemes, phoneme_durations) ─► phoneme_occurrences ─► [PhonemeOccurrence]
    examples / a prepared corpus          ─► OccurrenceIndex (by identity, by utterance)
    index + prepared corpus               ─► OccurrenceDataset[i] = {"example": row, "occurrence": occ}
                                             (what the batch samplers of ``samplers.py`` draw from)
    a stream with occurrences             ─► iter_occurrences (streamed, no index)
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..text.frontend import word_indices
from ..text.inventory import is_phoneme, phoneme_identity
from .schema import example_problems

if TYPE_CHECKING:  # the prepared corpus is a row store built later in the data flow
    from .prepared import PreparedCorpus


@dataclass(frozen=True)
class PhonemeOccurrence:
    """One phoneme in one utterance.

    Attributes:
        utterance_id: the example's ``id``.
        position: index of the symbol in the example's ``phonemes`` (no ``<s>``); the
            processor's phoneme stream has it at ``position + 1``.
        phoneme: the symbol (stress included, e.g. ``ˈa``).
        start_frame / end_frame: the mel frame span, end exclusive.
        word_index: index of the word the phoneme belongs to.
        speaker: the example's speaker.
    """

    utterance_id: str
    position: int
    phoneme: str
    start_frame: int
    end_frame: int
    word_index: int
    speaker: str

    @property
    def num_frames(self) -> int:
        return self.end_frame - self.start_frame

    def identity(self, keep_stress: bool = True) -> str:
        return phoneme_identity(self.phoneme, keep_stress)


def phoneme_occurrences(example: Mapping[str, Any], min_frames: int = 1) -> list[PhonemeOccurrence]:
    """Every phoneme sound of an example that lasts at least ``min_frames`` frames."""
    phonemes, durations = example.get("phonemes"), example.get("phoneme_durations")
    if phonemes is None or durations is None:
        raise ValueError(f"example {example.get('id')!r} has no phonemes/phoneme_durations to index")
    if len(phonemes) != len(durations):
        raise ValueError(f"example {example.get('id')!r}: {len(durations)} durations for {len(phonemes)} phonemes")
    occurrences, start = [], 0
    for position, (symbol, duration, word) in enumerate(zip(phonemes, durations, word_indices(phonemes), strict=True)):
        end = start + int(duration)
        if is_phoneme(symbol) and duration >= min_frames:
            occurrences.append(
                PhonemeOccurrence(str(example["id"]), position, symbol, start, end, word, str(example["speaker"]))
            )
        start = end
    return occurrences


# ---------------------------------------------------------------------------------- the index
class OccurrenceIndex:
    """Every :class:`PhonemeOccurrence` of a set of canonical examples, with lookups.

    Built from examples' ``phonemes`` + ``phoneme_durations`` only (no audio is read); examples
    without them, or with a problem :func:`example_problems` reports, are skipped and counted
    in :attr:`skipped`. ``keep_stress=False`` groups ``ˈa`` with ``a``.
    """

    def __init__(
        self, examples: Iterable[Mapping[str, Any]], min_frames: int = 1, keep_stress: bool = True
    ) -> None:
        self.keep_stress = keep_stress
        self.occurrences: list[PhonemeOccurrence] = []
        self.skipped: Counter[str] = Counter()
        self._by_phoneme: dict[str, list[int]] = {}
        self._by_utterance: dict[str, list[int]] = {}
        for example in examples:
            if example.get("phonemes") is None or example.get("phoneme_durations") is None:
                self.skipped["no_durations"] += 1
                continue
            if example_problems(example):
                self.skipped["schema"] += 1
                continue
            for occurrence in phoneme_occurrences(example, min_frames):
                self._add(occurrence)
            self._by_utterance.setdefault(str(example["id"]), [])

    @classmethod
    def from_occurrences(
        cls, occurrences: Iterable[PhonemeOccurrence], keep_stress: bool = True
    ) -> OccurrenceIndex:
        """An index over already extracted occurrences (kept in order; no schema check)."""
        index = cls((), keep_stress=keep_stress)
        for occurrence in occurrences:
            index._add(occurrence)
        return index

    def _add(self, occurrence: PhonemeOccurrence) -> None:
        index = len(self.occurrences)
        self.occurrences.append(occurrence)
        self._by_phoneme.setdefault(occurrence.identity(self.keep_stress), []).append(index)
        self._by_utterance.setdefault(occurrence.utterance_id, []).append(index)

    def __len__(self) -> int:
        return len(self.occurrences)

    def __getitem__(self, index: int) -> PhonemeOccurrence:
        return self.occurrences[index]

    def __iter__(self) -> Iterator[PhonemeOccurrence]:
        return iter(self.occurrences)

    @property
    def phonemes(self) -> list[str]:
        """Identities present, sorted."""
        return sorted(self._by_phoneme)

    @property
    def utterance_ids(self) -> list[str]:
        return list(self._by_utterance)

    def by_phoneme(self, identity: str) -> list[PhonemeOccurrence]:
        """Occurrences of one identity (``"ˈa"``; ``"a"`` covers both with ``keep_stress=False``)."""
        return [self.occurrences[i] for i in self._by_phoneme.get(identity, [])]

    def indices_by_phoneme(self, identity: str) -> list[int]:
        """Positions in :attr:`occurrences` of one identity (what a sampler draws from)."""
        return list(self._by_phoneme.get(identity, []))

    def by_utterance(self, utterance_id: str) -> list[PhonemeOccurrence]:
        return [self.occurrences[i] for i in self._by_utterance.get(utterance_id, [])]

    def counts(self) -> Counter[str]:
        """Occurrences per identity."""
        return Counter({identity: len(ids) for identity, ids in self._by_phoneme.items()})

    def speakers_of(self, identity: str) -> Counter[str]:
        """Occurrences per speaker for one identity."""
        return Counter(self.occurrences[i].speaker for i in self._by_phoneme.get(identity, []))

    def frame_quantiles(self, identity: str, q: Sequence[float] = (0.1, 0.5, 0.9)) -> list[float]:
        """Duration quantiles (frames) of one identity; empty list when absent."""
        frames = [self.occurrences[i].num_frames for i in self._by_phoneme.get(identity, [])]
        return [float(x) for x in np.quantile(frames, q)] if frames else []


def iter_occurrences(
    examples: Iterable[Mapping[str, Any]], min_frames: int = 1
) -> Iterator[tuple[Mapping[str, Any], list[PhonemeOccurrence]]]:
    """Streamed occurrence index: ``(example, occurrences)`` for every indexable example.

    Works on a :class:`RobustExampleStream` built with ``with_occurrences=True`` (its outputs
    already carry them) or on raw canonical examples; examples without durations are passed over.
    """
    for example in examples:
        if "occurrences" in example:
            yield example, example["occurrences"]
        elif example.get("phonemes") is not None and example.get("phoneme_durations") is not None:
            yield example, phoneme_occurrences(example, min_frames)


# ---------------------------------------------------------------------------------- prepared corpora
def _row_occurrences(row: Mapping[str, Any], min_frames: int) -> list[PhonemeOccurrence]:
    durations = list(row["phoneme_durations"])[1:-1]  # drop <s>, </s>
    example = {"id": str(row["id"]), "speaker": str(row["speaker"]), "phonemes": list(row["phonemes"])}
    example["phoneme_durations"] = [int(d) for d in durations]
    return phoneme_occurrences(example, min_frames)


def occurrence_index(corpus: PreparedCorpus, min_frames: int = 1, keep_stress: bool = True) -> OccurrenceIndex:
    """Every phoneme occurrence of a prepared corpus (no features are read)."""
    rows = corpus.rows
    if hasattr(rows, "select_columns"):
        rows = rows.select_columns(["id", "speaker", "phonemes", "phoneme_durations"]).with_format(None)
    occurrences = [occ for row in rows for occ in _row_occurrences(row, min_frames)]
    return OccurrenceIndex.from_occurrences(occurrences, keep_stress=keep_stress)


class OccurrenceDataset(torch.utils.data.Dataset):
    """``dataset[i]`` → ``{"example": prepared row, "occurrence": index[i]}`` for the samplers.

    The phoneme batch samplers yield occurrence indices; an utterance with several sampled
    occurrences is read once per batch thanks to a small row cache.
    """

    def __init__(self, corpus: PreparedCorpus, index: OccurrenceIndex, cache_size: int = 256) -> None:
        self.corpus, self.index, self.cache_size = corpus, index, cache_size
        missing = {occ.utterance_id for occ in index} - set(corpus.row_of)
        if missing:
            raise ValueError(f"{len(missing)} indexed utterances are not in the prepared corpus, e.g. {sorted(missing)[:3]}")
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index: int) -> dict[str, Any]:
        occurrence = self.index[int(index)]
        key = occurrence.utterance_id
        row = self._cache.get(key)
        if row is None:
            row = self.corpus.row(key)
            self._cache[key] = row
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return {"example": row, "occurrence": occurrence}
