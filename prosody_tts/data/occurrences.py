"""Phoneme occurrences: the unit the stage-2 and stage-3 batch samplers draw from.

One occurrence is one phoneme sound in one utterance, with its identity, frame span and word.
They come from an example's ``phonemes`` and ``phoneme_durations`` (canonical schema):
frame spans are cumulative durations, and the word index counts the ``#`` boundaries before the
symbol (the front-end puts one ``#`` before every word but the first), so it equals the
processor's ``phoneme_word_ids`` for that position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..processing.inventory import WORD_BOUNDARY, is_phoneme, phoneme_identity


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


def word_indices(phonemes: Sequence[str]) -> list[int]:
    """Word index of every symbol: the count of ``#`` boundaries before it."""
    indices, word = [], 0
    for symbol in phonemes:
        if symbol == WORD_BOUNDARY:
            word += 1
        indices.append(word)
    return indices


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


def index_occurrences(examples: Iterable[Mapping[str, Any]], min_frames: int = 1) -> list[PhonemeOccurrence]:
    """Occurrences of many examples, in order."""
    return [occ for example in examples for occ in phoneme_occurrences(example, min_frames)]
