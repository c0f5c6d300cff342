"""Contrastive batches from a streamed corpus: occurrences bucketed by identity in a bounded buffer.

::

    rank-sharded RobustExampleStream(with_occurrences=True)
      ─► buffer of utterances (buffer_size) ─► pools per phoneme identity
      ─► a batch as soon as one can be formed ("mixed": distinct identities, "same": one identity)
      ─► [{"example": example, "occurrence": PhonemeOccurrence}] ─► collators.OccurrenceCollator

The map-style samplers (``samplers.py``) index a prepared corpus up front; this module is their
streamed counterpart. Its caveats are in docs/samplers.md.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..text.inventory import PHONEMES, phoneme_identity
from .occurrences import PhonemeOccurrence
from .samplers import _check_positive, _check_seed

#: ``mode`` values of :class:`StreamingOccurrenceBatches`.
STREAMING_MODES: tuple[str, ...] = ("mixed", "same")


# ---------------------------------------------------------------------------------- streaming
class _Pool:
    """Available occurrences of one identity, per buffered utterance (O(1) random utterance)."""

    __slots__ = ("count", "positions", "slots", "where")

    def __init__(self) -> None:
        self.slots: list[int] = []
        self.where: dict[int, int] = {}
        self.positions: dict[int, list[int]] = {}
        self.count = 0

    def add(self, slot: int, position: int) -> None:
        if slot not in self.where:
            self.where[slot] = len(self.slots)
            self.slots.append(slot)
            self.positions[slot] = []
        self.positions[slot].append(position)
        self.count += 1

    def remove(self, slot: int) -> int:
        """Forget an utterance; returns how many of its occurrences were still available here."""
        if slot not in self.where:
            return 0
        j, last = self.where.pop(slot), self.slots.pop()
        if last != slot:
            self.slots[j], self.where[last] = last, j
        removed = len(self.positions.pop(slot))
        self.count -= removed
        return removed

    def take(self, slot: int, rng: np.random.Generator) -> int:
        """Remove and return a random available position of utterance ``slot``."""
        positions = self.positions[slot]
        j = int(rng.integers(len(positions)))
        positions[j], positions[-1] = positions[-1], positions[j]
        position = positions.pop()
        self.count -= 1
        if not positions:
            self.remove(slot)
        return position


@dataclass
class _Held:
    """A buffered utterance."""

    example: Mapping[str, Any]
    occurrences: list[PhonemeOccurrence]
    identities: set[str] = field(default_factory=set)
    remaining: int = 0


class StreamingOccurrenceBatches(torch.utils.data.IterableDataset):
    """Contrastive batches from a streamed corpus, formed in a bounded buffer of utterances.

    Wraps an iterable of examples that carry their occurrences (dicts with ``"id"`` and
    ``"occurrences"``, e.g. a ``RobustExampleStream(..., with_occurrences=True)``, already
    rank-sharded) and yields whole batches (use ``DataLoader(batcher, batch_size=None)``): lists
    of ``{"example": example, "occurrence": PhonemeOccurrence}``, the items of
    :class:`~prosody_tts.data.collators.OccurrenceCollator`.

    Available occurrences are bucketed by identity. After each new utterance, batches are
    emitted as long as one can be formed (a seeded choice among the possible ones):

    * ``mode="mixed"``: ``batch_size`` occurrences, at most ``max_per_phoneme`` per identity;
    * ``mode="same"``: ``batch_size`` occurrences of one identity from distinct utterances.

    The buffer holds at most ``buffer_size`` utterances: an utterance leaves it when all its
    occurrences are used, or, when the buffer is full, the oldest leaves (its unused occurrences
    are dropped). When the source ends, the batches that can still be formed are emitted.
    Every occurrence is used at most once per pass. Statistics of the last pass are in
    :attr:`stats` (``utterances``, ``occurrences``, ``used``, ``dropped``, ``batches``,
    ``evicted_oldest``) and :attr:`max_buffered`.

    Caveats: resume is not exact (the buffer is not checkpointed: a resumed stream starts with an
    empty one); batches are per rank, so ``mode="same"`` with negatives gathered across ranks
    mixes identities (each rank buckets its own shard). With DataLoader workers each worker
    batches its own part of the source (seeded by worker id) and keeps its own statistics.

    Args:
        source: the examples.
        batch_size: occurrences per batch (this rank's).
        mode: ``"mixed"`` or ``"same"``.
        max_per_phoneme: identity cap of ``"mixed"``.
        buffer_size: most utterances held at once.
        keep_stress: identities keep the stress mark (``ˈa`` apart from ``a``).
        phonemes: identities to draw from (default: all).
        seed: base seed; the generator is seeded with ``(seed, epoch, worker)``.
    """

    def __init__(
        self,
        source: Iterable[Mapping[str, Any]],
        batch_size: int,
        *,
        mode: str = "mixed",
        max_per_phoneme: int = 1,
        buffer_size: int = 256,
        keep_stress: bool = True,
        phonemes: Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if mode not in STREAMING_MODES:
            raise ValueError(f"mode must be one of {STREAMING_MODES}, got {mode!r}")
        self.source = source
        self.batch_size = _check_positive("batch_size", batch_size)
        self.mode = mode
        self.max_per_phoneme = _check_positive("max_per_phoneme", max_per_phoneme)
        self.buffer_size = _check_positive("buffer_size", buffer_size)
        self.keep_stress = keep_stress
        self.seed = _check_seed(seed)
        self.epoch = 0
        if isinstance(phonemes, str):
            raise ValueError(f"phonemes must be a sequence of identities, got the string {phonemes!r}")
        self.phonemes = None if phonemes is None else frozenset(phonemes)
        possible = {phoneme_identity(p, keep_stress) for p in PHONEMES}
        if self.phonemes is not None:
            unknown = sorted(self.phonemes - possible)
            if unknown:
                raise ValueError(
                    f"phonemes {unknown} are not identities of the inventory (keep_stress={keep_stress})"
                )
            possible = set(self.phonemes)
        if mode == "mixed" and self.batch_size > len(possible) * self.max_per_phoneme:
            raise ValueError(
                f"a mixed batch of {self.batch_size} can never be filled: {len(possible)} identities x "
                f"max_per_phoneme {self.max_per_phoneme}; lower batch_size or raise max_per_phoneme"
            )
        if mode == "same" and self.batch_size > self.buffer_size:
            raise ValueError(
                f"a same-phoneme batch needs {self.batch_size} distinct utterances but buffer_size is "
                f"{self.buffer_size}; raise buffer_size"
            )
        self.stats: Counter[str] = Counter()
        self.max_buffered = 0

    def set_epoch(self, epoch: int) -> None:
        """Reseed (and forward to the source when it has ``set_epoch``)."""
        self.epoch = int(epoch)
        if hasattr(self.source, "set_epoch"):
            self.source.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, self.epoch, info.id if info is not None else 0])
        self.stats, self.max_buffered = Counter(), 0
        buffer: OrderedDict[int, _Held] = OrderedDict()
        pools: dict[str, _Pool] = {}
        for slot, example in enumerate(self.source):
            held = self._hold(example)
            if held is None:
                continue
            if len(buffer) >= self.buffer_size:
                old_slot, oldest = buffer.popitem(last=False)
                self.stats["dropped"] += sum(pools[k].remove(old_slot) for k in oldest.identities)
                self.stats["evicted_oldest"] += 1
            buffer[slot] = held
            for position, occurrence in enumerate(held.occurrences):
                pools.setdefault(occurrence.identity(self.keep_stress), _Pool()).add(slot, position)
            self.max_buffered = max(self.max_buffered, len(buffer))
            yield from self._drain(buffer, pools, rng)
        yield from self._drain(buffer, pools, rng)
        self.stats["dropped"] += sum(held.remaining for held in buffer.values())

    def _hold(self, example: Mapping[str, Any]) -> _Held | None:
        """A new utterance's record, or ``None`` when it has no occurrence to offer."""
        if "occurrences" not in example or "id" not in example:
            raise ValueError(
                "StreamingOccurrenceBatches needs examples with 'id' and 'occurrences' "
                "(e.g. RobustExampleStream(..., with_occurrences=True))"
            )
        self.stats["utterances"] += 1
        occurrences = [
            occ
            for occ in example["occurrences"]
            if self.phonemes is None or occ.identity(self.keep_stress) in self.phonemes
        ]
        self.stats["occurrences"] += len(occurrences)
        if not occurrences:
            return None
        identities = {occ.identity(self.keep_stress) for occ in occurrences}
        return _Held(example, occurrences, identities, len(occurrences))

    def _drain(
        self, buffer: OrderedDict[int, _Held], pools: dict[str, _Pool], rng: np.random.Generator
    ) -> Iterator[list[dict[str, Any]]]:
        """Emit batches while one can be formed; utterances whose occurrences are all used leave."""
        while True:
            picks = self._pick_mixed(pools, rng) if self.mode == "mixed" else self._pick_same(pools, rng)
            if picks is None:
                return
            batch = []
            for slot, position in picks:
                held = buffer[slot]
                batch.append({"example": held.example, "occurrence": held.occurrences[position]})
                held.remaining -= 1
                if held.remaining == 0:
                    del buffer[slot]
            self.stats["used"] += len(batch)
            self.stats["batches"] += 1
            yield batch

    def _pick_mixed(self, pools: dict[str, _Pool], rng: np.random.Generator) -> list[tuple[int, int]] | None:
        """``batch_size`` (slot, position) pairs, at most ``max_per_phoneme`` per identity, or ``None``."""
        seats = [name for name, pool in pools.items() for _ in range(min(pool.count, self.max_per_phoneme))]
        if len(seats) < self.batch_size:
            return None
        picks = []
        for j in rng.choice(len(seats), size=self.batch_size, replace=False):
            pool = pools[seats[j]]
            slot = pool.slots[int(rng.integers(len(pool.slots)))]
            picks.append((slot, pool.take(slot, rng)))
        return picks

    def _pick_same(self, pools: dict[str, _Pool], rng: np.random.Generator) -> list[tuple[int, int]] | None:
        """``batch_size`` (slot, position) pairs of one identity from distinct utterances, or ``None``."""
        ready = [name for name, pool in pools.items() if len(pool.slots) >= self.batch_size]
        if not ready:
            return None
        pool = pools[ready[int(rng.integers(len(ready)))]]
        slots = [pool.slots[j] for j in rng.choice(len(pool.slots), size=self.batch_size, replace=False)]
        return [(slot, pool.take(slot, rng)) for slot in slots]
