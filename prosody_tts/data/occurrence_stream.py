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

from collections import Counter, OrderedDict, deque
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


@dataclass
class _Run:
    """The live state of one pass: buffer, pools, generators, counters."""

    rng: np.random.Generator
    shared_rng: np.random.Generator  # same on every rank: the identity of a synced same-phoneme batch
    buffer: OrderedDict[int, _Held] = field(default_factory=OrderedDict)
    pools: dict[str, _Pool] = field(default_factory=dict)
    next_slot: int = 0
    batches: int = 0
    exhausted: bool = False
    stopped: bool = False


def _all_gather(value: Any) -> list[Any]:
    import torch.distributed as dist

    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, value)
    return out


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

    Resume is exact: :meth:`state_dict` (``at_batches``: after any of the last ``history`` batches,
    for the Trainer's lookahead) holds the buffered utterances, the pools, both generators and the
    source's own state (a :class:`~.streaming.RobustExampleStream`'s); :meth:`load_state_dict`
    makes the next pass continue with exactly the batches the interrupted one would have given.
    :class:`OccurrenceStreamStateCallback` saves it into every Trainer checkpoint.

    Across ranks (``mode="same"``, ``torch.distributed`` initialised, more than one rank): before
    each batch the ranks exchange which identities they can fill (``sync``, an all-gather) and all
    take the same one, drawn with a generator they share, so the negatives gathered across ranks
    stay one identity; a rank that cannot fill any common identity reads on, and all stop together
    when a rank's source ends. With DataLoader workers each worker batches its own part of the
    source (seeded by worker id) and keeps its own statistics (no sync, no resume).

    Args:
        source: the examples.
        batch_size: occurrences per batch (this rank's).
        mode: ``"mixed"`` or ``"same"``.
        max_per_phoneme: identity cap of ``"mixed"``.
        buffer_size: most utterances held at once.
        keep_stress: identities keep the stress mark (``ˈa`` apart from ``a``).
        phonemes: identities to draw from (default: all).
        seed: base seed; the generator is seeded with ``(seed, epoch, worker)``.
        sync: ``(ready identities, exhausted) → every rank's pair`` for ``mode="same"``; ``"auto"``
            (default): an all-gather when ``torch.distributed`` runs more than one rank, else none.
        history: batches after which the state is kept (``state_dict(at_batches=...)``).
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
        sync: Any = "auto",
        history: int = 16,
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
        if sync == "auto":
            import torch.distributed as dist

            multi = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
            sync = _all_gather if multi and mode == "same" else None
        self.sync = sync
        self._pending: dict[str, Any] | None = None
        self._total_batches = 0
        self._history: deque[dict[str, Any]] = deque(maxlen=_check_positive("history", history))

    def set_epoch(self, epoch: int) -> None:
        """Reseed (and forward to the source when it has ``set_epoch``)."""
        self.epoch = int(epoch)
        if hasattr(self.source, "set_epoch"):
            self.source.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        pending, self._pending = self._pending, None
        if pending is not None:
            run = self._restored_run(pending)
        else:
            run = _Run(np.random.default_rng([self.seed, self.epoch, worker]), np.random.default_rng([self.seed, self.epoch]))
            run.batches = self._total_batches  # counted over passes, like the Trainer's steps
            self.stats, self.max_buffered = Counter(), 0
        self._history.clear()
        yield from self._drain(run)
        for example in self.source:
            slot = run.next_slot
            run.next_slot += 1
            held = self._hold(example)
            if held is None:
                continue
            if len(run.buffer) >= self.buffer_size:
                old_slot, oldest = run.buffer.popitem(last=False)
                self.stats["dropped"] += sum(run.pools[k].remove(old_slot) for k in oldest.identities)
                self.stats["evicted_oldest"] += 1
            run.buffer[slot] = held
            for position, occurrence in enumerate(held.occurrences):
                run.pools.setdefault(occurrence.identity(self.keep_stress), _Pool()).add(slot, position)
            self.max_buffered = max(self.max_buffered, len(run.buffer))
            yield from self._drain(run)
            if run.stopped:
                break
        run.exhausted = True
        yield from self._drain(run)
        self.stats["dropped"] += sum(held.remaining for held in run.buffer.values())
        self._total_batches = run.batches

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

    def _drain(self, run: _Run) -> Iterator[list[dict[str, Any]]]:
        """Emit batches while one can be formed; utterances whose occurrences are all used leave."""
        while not run.stopped:
            picks = self._pick_mixed(run.pools, run.rng) if self.mode == "mixed" else self._pick_same(run)
            if picks is None:
                return
            batch = []
            for slot, position in picks:
                held = run.buffer[slot]
                batch.append({"example": held.example, "occurrence": held.occurrences[position]})
                held.remaining -= 1
                if held.remaining == 0:
                    del run.buffer[slot]
            self.stats["used"] += len(batch)
            self.stats["batches"] += 1
            run.batches += 1
            self._history.append(self._snapshot(run))
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

    def _pick_same(self, run: _Run) -> list[tuple[int, int]] | None:
        """``batch_size`` (slot, position) pairs of one identity from distinct utterances, or ``None``.

        With ``sync`` (several ranks), the identity is one every rank can fill, drawn with a generator
        all ranks share; when none is common, every rank reads on (``None``), and all stop together
        once a rank's source has ended.
        """
        ready = sorted(name for name, pool in run.pools.items() if len(pool.slots) >= self.batch_size)
        if self.sync is not None and torch.utils.data.get_worker_info() is not None:
            raise RuntimeError("same-phoneme batches synced across ranks cannot run in DataLoader workers (num_workers=0)")
        if self.sync is None:
            if not ready:
                return None
            name = ready[int(run.rng.integers(len(ready)))]
        else:
            views = self.sync((ready, run.exhausted))
            common = sorted(set.intersection(*(set(r) for r, _ in views)))
            if not common:
                run.stopped = any(done for _, done in views)
                return None
            name = common[int(run.shared_rng.integers(len(common)))]
        pool = run.pools[name]
        slots = [pool.slots[j] for j in run.rng.choice(len(pool.slots), size=self.batch_size, replace=False)]
        return [(slot, pool.take(slot, run.rng)) for slot in slots]

    # ------------------------------------------------------------------------------ state
    def _snapshot(self, run: _Run) -> dict[str, Any]:
        """Everything needed to continue after the batch just emitted (examples by reference)."""
        source = self.source.state_dict() if hasattr(self.source, "state_dict") else None
        return {
            "version": 1, "epoch": self.epoch, "batches": run.batches, "next_slot": run.next_slot,
            "exhausted": run.exhausted, "rng": run.rng.bit_generator.state, "shared_rng": run.shared_rng.bit_generator.state,
            "stats": dict(self.stats), "max_buffered": self.max_buffered, "source": source,
            "buffer": [(slot, held.remaining, held) for slot, held in run.buffer.items()],
            "pools": {name: (list(pool.slots), {k: list(v) for k, v in pool.positions.items()}) for name, pool in run.pools.items()},
        }  # fmt: skip

    def state_dict(self, at_batches: int | None = None) -> dict[str, Any]:
        """The position after the last batch (or after batch ``at_batches`` of this pass).

        ``at_batches`` counts batches over all passes (the Trainer's steps × accumulation). The
        buffered utterances come as they are (``"examples"``: their dicts, arrays included);
        :func:`save_stream_batches_state` writes it as JSON + safetensors.
        """
        if not self._history:
            raise ValueError("no batch has been emitted yet: nothing to save")
        snap = self._history[-1] if at_batches is None else next((h for h in self._history if h["batches"] == at_batches), None)
        if snap is None:
            kept = [h["batches"] for h in self._history]
            raise ValueError(f"no saved position after batch {at_batches} (kept: {kept[0]}..{kept[-1]}); raise history")
        state = {k: v for k, v in snap.items() if k != "buffer"}
        state["buffer"] = [(slot, remaining) for slot, remaining, _ in snap["buffer"]]
        state["examples"] = {slot: {"example": held.example, "occurrences": held.occurrences} for slot, _, held in snap["buffer"]}
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict` output on the next ``iter()`` (same source, same shard)."""
        if state.get("version") != 1:
            raise ValueError(f"unknown occurrence-stream state version {state.get('version')!r}")
        if state.get("source") is not None:
            if not hasattr(self.source, "load_state_dict"):
                raise ValueError("the state holds a source position but this source cannot load one")
            self.source.load_state_dict(state["source"])
        self.epoch = int(state["epoch"])
        self._pending = dict(state)

    def _restored_run(self, state: Mapping[str, Any]) -> _Run:
        rng, shared = np.random.default_rng(), np.random.default_rng()
        rng.bit_generator.state, shared.bit_generator.state = state["rng"], state["shared_rng"]
        run = _Run(rng, shared, next_slot=int(state["next_slot"]), batches=int(state["batches"]),
                   exhausted=bool(state["exhausted"]))  # fmt: skip
        for slot, remaining in state["buffer"]:
            item = state["examples"][int(slot)]
            occurrences = list(item["occurrences"])
            identities = {occ.identity(self.keep_stress) for occ in occurrences}
            run.buffer[int(slot)] = _Held(item["example"], occurrences, identities, int(remaining))
        for name, (slots, positions) in state["pools"].items():
            pool = _Pool()
            pool.slots = [int(x) for x in slots]
            pool.where = {slot: j for j, slot in enumerate(pool.slots)}
            pool.positions = {int(k): [int(p) for p in v] for k, v in positions.items()}
            pool.count = sum(len(v) for v in pool.positions.values())
            run.pools[name] = pool
        self.stats, self.max_buffered = Counter(state["stats"]), int(state["max_buffered"])
        return run
