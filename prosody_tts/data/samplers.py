"""Rank-aware batch samplers: utterances (stage 1), mixed phonemes (stage 2), one phoneme (stage 3),
frame budgets (TTS).

Rank scheme
-----------
Every rank builds the *same* list of global batches of ``batch_size * world_size`` items from a
generator seeded with ``(seed, epoch)``, and rank ``r`` keeps the slice
``[r * batch_size, (r + 1) * batch_size)`` of each. Ranks therefore never share an item within an
epoch, all ranks get the same number of batches (no rank waits in a collective for a batch that
never comes), and a constraint that holds for a global batch holds for what the ranks gather
(a same-phoneme global batch is one identity across all ranks). The index must be identical, in
the same order, on every rank. These samplers shard by themselves: do not let Accelerate wrap
them in ``BatchSamplerShard`` (see ``prosody_tts.trainers.common``).

Streamed corpora cannot be indexed up front: :class:`~prosody_tts.data.occurrence_stream.StreamingOccurrenceBatches`
forms batches from a bounded buffer of a rank-sharded stream instead (see docs/samplers.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .occurrences import OccurrenceIndex

logger = logging.getLogger(__name__)


__all__ = [
    "FrameBudgetBatchSampler",
    "MixedPhonemeBatchSampler",
    "SamePhonemeBatchSampler",
    "UtteranceBatchSampler",
]


# ---------------------------------------------------------------------------------- helpers
def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _resolve_rank(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """``rank``/``world_size``, defaulting to torch.distributed's when it is initialised, else 0/1."""
    initialised = torch.distributed.is_available() and torch.distributed.is_initialized()
    if rank is None:
        rank = torch.distributed.get_rank() if initialised else 0
    if world_size is None:
        world_size = torch.distributed.get_world_size() if initialised else 1
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
    return int(rank), int(world_size)


def _encode(index: OccurrenceIndex) -> tuple[list[int], list[int], list[str], int]:
    """Integer codes of every occurrence's identity and utterance (first-seen order, so equal on
    every rank that holds the same index), the identity names, and the number of utterances."""
    identities: dict[str, int] = {}
    utterances: dict[str, int] = {}
    identity_codes, utterance_codes = [], []
    for occurrence in index.occurrences:
        identity_codes.append(identities.setdefault(occurrence.identity(index.keep_stress), len(identities)))
        utterance_codes.append(utterances.setdefault(occurrence.utterance_id, len(utterances)))
    return identity_codes, utterance_codes, list(identities), len(utterances)


def _find_open(following: list[int], batch: int) -> int:
    """First open batch at or after ``batch`` (``len(following)`` when none): union-find with path
    compression, ``following[b] == b`` while batch ``b`` is open."""
    root = batch
    while root < len(following) and following[root] != root:
        root = following[root]
    while batch < len(following) and following[batch] != batch:
        following[batch], batch = root, following[batch]
    return root


def _pack_distinct_utterances(
    order: list[int], utterance: list[int], size: int
) -> tuple[list[list[int]], list[list[int]]]:
    """Greedy packing into batches of ``size`` with distinct utterances: each item joins the
    oldest open batch its utterance is not in yet. Returns (complete, incomplete) batches.

    An utterance's items go to strictly increasing batches, so one pointer per utterance plus a
    union-find over closed batches makes it near-linear.
    """
    members: list[list[int]] = []
    following: list[int] = []
    next_batch: dict[int, int] = {}
    complete: list[list[int]] = []
    for item in order:
        u = utterance[item]
        b = _find_open(following, next_batch.get(u, 0))
        if b == len(members):
            members.append([])
            following.append(b)
        members[b].append(item)
        next_batch[u] = b + 1
        if len(members[b]) == size:
            complete.append(members[b])
            following[b] = b + 1
    incomplete = [batch for b, batch in enumerate(members) if following[b] == b]
    return complete, incomplete


def _pack_capped(
    order: list[int],
    identity: list[int],
    utterance: list[int],
    num_identities: int,
    size: int,
    per_identity: int,
    per_utterance: int | None,
) -> tuple[list[list[int]], list[list[int]]]:
    """Greedy packing into batches of ``size`` with at most ``per_identity`` items per identity and
    (if set) ``per_utterance`` per utterance: each item joins the oldest open batch that accepts
    it, else opens a new one. Returns (complete, incomplete) batches.

    A batch that is closed or full for identity ``k`` stays so, hence one pointer per identity
    past that prefix: the cost is about ``n + num_identities * n / size`` steps, not ``n**2``.
    """
    members: list[list[int] | None] = []
    identity_counts: list[dict[int, int]] = []
    utterance_counts: list[dict[int, int]] = []
    first = [0] * num_identities
    complete: list[list[int]] = []
    for item in order:
        k, u = identity[item], utterance[item]
        b, open_batches = first[k], len(members)
        while b < open_batches and (members[b] is None or identity_counts[b].get(k, 0) >= per_identity):
            b += 1
        first[k] = b
        if per_utterance is not None:
            while b < open_batches and (
                members[b] is None
                or identity_counts[b].get(k, 0) >= per_identity
                or utterance_counts[b].get(u, 0) >= per_utterance
            ):
                b += 1
        if b == open_batches:
            members.append([])
            identity_counts.append({})
            utterance_counts.append({})
        batch = members[b]
        batch.append(item)
        identity_counts[b][k] = identity_counts[b].get(k, 0) + 1
        if per_utterance is not None:
            utterance_counts[b][u] = utterance_counts[b].get(u, 0) + 1
        if len(batch) == size:
            complete.append(batch)
            members[b] = None
            identity_counts[b], utterance_counts[b] = {}, {}  # free them; members[b] marks it closed
    incomplete = [batch for batch in members if batch is not None]
    return complete, incomplete


# ---------------------------------------------------------------------------------- base class
class _SeededEpochSampler(torch.utils.data.Sampler[list[int]]):
    """What every map-style sampler here shares: the epoch's batches are built once from
    ``(seed, epoch)`` alone (so the same on every rank), cached, and resumed by epoch and seed.
    Subclasses implement :meth:`_build` and how a rank iterates the batches."""

    def __init__(self, *, seed: int, rank: int | None, world_size: int | None) -> None:
        self.seed = _check_seed(seed)
        self.rank, self.world_size = _resolve_rank(rank, world_size)
        self.epoch = 0
        self._cache: tuple[int, list[np.ndarray], int] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch; its batches depend only on ``(seed, epoch)``."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def _build(self, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
        """The epoch's batches (all ranks') and the number of items left out of them."""
        raise NotImplementedError

    def _epoch(self) -> tuple[list[np.ndarray], int]:
        if self._cache is None or self._cache[0] != self.epoch:
            batches, dropped = self._build(np.random.default_rng([self.seed, self.epoch]))
            self._cache = (self.epoch, batches, dropped)
        return self._cache[1], self._cache[2]

    @property
    def dropped_last_epoch(self) -> int:
        """Items of the current epoch that are in no batch."""
        return self._epoch()[1]

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "seed": self.seed}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        """Restore the epoch; the seed must match (another seed would give another order)."""
        if "seed" in state and int(state["seed"]) != self.seed:
            raise ValueError(
                f"the state was saved with seed={state['seed']} but this sampler has seed={self.seed}; "
                "build it with the saved seed to resume the same order"
            )
        self.set_epoch(int(state["epoch"]))


class _GlobalBatchSampler(_SeededEpochSampler):
    """The rank scheme: the epoch's global batches are built once (the same on every rank) and
    each rank yields its slice. Subclasses implement :meth:`_build`."""

    def __init__(
        self, batch_size: int, *, seed: int, rank: int | None, world_size: int | None, drop_last: bool
    ) -> None:
        super().__init__(seed=seed, rank=rank, world_size=world_size)
        self.batch_size = _check_positive("batch_size", batch_size)
        self.drop_last = bool(drop_last)

    @property
    def global_batch_size(self) -> int:
        """Items per global batch: ``batch_size * world_size``."""
        return self.batch_size * self.world_size

    def global_batches(self) -> list[np.ndarray]:
        """The current epoch's global batches (identical on every rank; computed once per epoch)."""
        return self._epoch()[0]

    def _keep_incomplete(self, batches: Iterable[Sequence[int]]) -> list[np.ndarray]:
        """Incomplete global batches kept by ``drop_last=False``: those every rank gets a part of."""
        if self.drop_last:
            return []
        return [np.asarray(batch, dtype=np.int64) for batch in batches if len(batch) >= self.world_size]

    def rank_slice(self, batch: np.ndarray) -> np.ndarray:
        """This rank's part of a global batch (near-equal contiguous parts for an incomplete one)."""
        if len(batch) == self.global_batch_size:
            return batch[self.rank * self.batch_size : (self.rank + 1) * self.batch_size]
        return np.array_split(batch, self.world_size)[self.rank]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches():
            yield self.rank_slice(batch).tolist()

    def __len__(self) -> int:
        """Batches this rank yields in the current epoch (the same on every rank)."""
        return len(self.global_batches())


def _shuffled(batches: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Batches in a seeded order, each with its members in a seeded order (so rank slices are
    random subsets, not the items that happened to arrive first)."""
    return [rng.permutation(batches[j]) for j in rng.permutation(len(batches))]


# ---------------------------------------------------------------------------------- stage 1
class UtteranceBatchSampler(_GlobalBatchSampler):
    """Stage-1 (MLM) batches of example row indices, rank-aware.

    Args:
        num_examples: rows in the dataset.
        batch_size: rows per batch on each rank.
        shuffle: a seeded permutation per epoch (else row order).
        seed, rank, world_size: see the module docstring; rank/world_size default to
            torch.distributed's when initialised, else 0/1.
        drop_last: drop the final incomplete global batch; with ``False`` it is split into
            ``world_size`` near-equal parts (a remainder smaller than ``world_size`` is dropped).
    """

    def __init__(
        self,
        num_examples: int,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        drop_last: bool = True,
    ) -> None:
        super().__init__(batch_size, seed=seed, rank=rank, world_size=world_size, drop_last=drop_last)
        self.num_examples = _check_positive("num_examples", num_examples)
        self.shuffle = bool(shuffle)
        if self.drop_last and self.num_examples < self.global_batch_size:
            raise ValueError(
                f"{self.num_examples} examples cannot fill one global batch of {self.global_batch_size} "
                f"(batch_size {self.batch_size} x world_size {self.world_size}); lower batch_size or "
                "use drop_last=False"
            )

    def _build(self, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
        order = rng.permutation(self.num_examples) if self.shuffle else np.arange(self.num_examples)
        size = self.global_batch_size
        full = self.num_examples // size
        batches = [order[j * size : (j + 1) * size] for j in range(full)]
        batches += self._keep_incomplete([order[full * size :]] if self.num_examples % size else [])
        return batches, self.num_examples - sum(len(batch) for batch in batches)


# ---------------------------------------------------------------------------------- stage 2
class MixedPhonemeBatchSampler(_GlobalBatchSampler):
    """Stage-2 contrastive batches: occurrences of many distinct phoneme identities.

    Yields lists of indices into ``index.occurrences``. In a global batch no identity
    (``occurrence.identity(index.keep_stress)``) appears more than ``max_per_phoneme`` times and,
    if set, no utterance more than ``max_per_utterance`` times. Each epoch greedily packs a seeded
    permutation of all occurrences into open batches (each occurrence joins the oldest batch that
    accepts it); occurrences left in incomplete batches are dropped for that epoch and counted in
    :attr:`dropped_last_epoch` — on a skewed identity distribution that is most of the frequent
    identities' occurrences (docs/samplers.md has figures).

    Args:
        index: the :class:`OccurrenceIndex` (same content and order on every rank).
        batch_size: occurrences per batch on each rank.
        max_per_phoneme: cap per identity in a global batch.
        max_per_utterance: cap per utterance in a global batch (``None``: no cap).
        seed, rank, world_size: see the module docstring.
        drop_last: ``False`` also yields the incomplete batches (split into ``world_size``
            near-equal parts; they respect the caps but may hold few identities).
    """

    def __init__(
        self,
        index: OccurrenceIndex,
        batch_size: int,
        *,
        max_per_phoneme: int = 1,
        max_per_utterance: int | None = None,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        drop_last: bool = True,
    ) -> None:
        super().__init__(batch_size, seed=seed, rank=rank, world_size=world_size, drop_last=drop_last)
        self.index = index
        self.max_per_phoneme = _check_positive("max_per_phoneme", max_per_phoneme)
        self.max_per_utterance = (
            None if max_per_utterance is None else _check_positive("max_per_utterance", max_per_utterance)
        )
        self._identity, self._utterance, self.phonemes, num_utterances = _encode(index)
        size = self.global_batch_size
        what = f"a global batch of {size} occurrences (batch_size {self.batch_size} x world_size {self.world_size})"
        if len(index) < size:
            raise ValueError(f"{what} cannot be filled: the index holds {len(index)} occurrences")
        if size > len(self.phonemes) * self.max_per_phoneme:
            raise ValueError(
                f"{what} can never be filled: the index has {len(self.phonemes)} phoneme identities x "
                f"max_per_phoneme {self.max_per_phoneme} = {len(self.phonemes) * self.max_per_phoneme} "
                "occurrences at most per batch; lower batch_size or raise max_per_phoneme"
            )
        if self.max_per_utterance is not None and size > num_utterances * self.max_per_utterance:
            raise ValueError(
                f"{what} can never be filled: the index has {num_utterances} utterances x "
                f"max_per_utterance {self.max_per_utterance}; lower batch_size or raise max_per_utterance"
            )

    def _build(self, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
        order = rng.permutation(len(self._identity)).tolist()
        complete, incomplete = _pack_capped(
            order,
            self._identity,
            self._utterance,
            len(self.phonemes),
            self.global_batch_size,
            self.max_per_phoneme,
            self.max_per_utterance,
        )
        batches = [np.asarray(batch, dtype=np.int64) for batch in complete] + self._keep_incomplete(
            incomplete
        )
        dropped = len(order) - sum(len(batch) for batch in batches)
        logger.info(
            "MixedPhonemeBatchSampler epoch %d: %d global batches, %d of %d occurrences dropped",
            self.epoch,
            len(batches),
            dropped,
            len(order),
        )
        return _shuffled(batches, rng), dropped


# ---------------------------------------------------------------------------------- stage 3
class SamePhonemeBatchSampler(_GlobalBatchSampler):
    """Stage-3 contrastive batches: one phoneme identity, every occurrence from another utterance.

    Yields lists of indices into ``index.occurrences``. A global batch holds
    ``batch_size * world_size`` occurrences of one identity from distinct utterances, so what the
    ranks gather is still one identity. Each epoch, per identity: a seeded shuffle of its
    occurrences, greedily packed into batches of distinct utterances (incomplete ones dropped);
    then all batches in a seeded order. Identities with fewer distinct utterances than a global
    batch never fill one: they are listed in :attr:`unfillable_phonemes`.

    Args:
        index: the :class:`OccurrenceIndex` (same content and order on every rank).
        batch_size: occurrences per batch on each rank.
        phonemes: identities to draw from (default: all in the index).
        seed, rank, world_size: see the module docstring.
        drop_last: ``False`` also yields the incomplete batches (split into ``world_size``
            near-equal parts), unfillable identities included.
    """

    def __init__(
        self,
        index: OccurrenceIndex,
        batch_size: int,
        *,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        phonemes: Sequence[str] | None = None,
        drop_last: bool = True,
    ) -> None:
        super().__init__(batch_size, seed=seed, rank=rank, world_size=world_size, drop_last=drop_last)
        self.index = index
        identity, self._utterance, names, _ = _encode(index)
        members: dict[str, list[int]] = {name: [] for name in names}
        for item, code in enumerate(identity):
            members[names[code]].append(item)
        if phonemes is not None:
            if isinstance(phonemes, str):
                raise ValueError(f"phonemes must be a sequence of identities, got the string {phonemes!r}")
            unknown = sorted(set(phonemes) - set(members))
            if unknown:
                raise ValueError(
                    f"phonemes {unknown} are not identities of the index (keep_stress={index.keep_stress}); "
                    f"it has {sorted(members)}"
                )
            members = {name: members[name] for name in dict.fromkeys(phonemes)}
        self.phonemes: list[str] = sorted(members)
        self._members = {name: np.asarray(members[name], dtype=np.int64) for name in self.phonemes}
        #: Distinct utterances per identity.
        self.utterances_per_phoneme: dict[str, int] = {
            name: len({self._utterance[i] for i in members[name]}) for name in self.phonemes
        }
        size = self.global_batch_size
        #: Identities with fewer distinct utterances than a global batch: they contribute no batch.
        self.unfillable_phonemes: list[str] = [
            name for name in self.phonemes if self.utterances_per_phoneme[name] < size
        ]
        if len(self.unfillable_phonemes) == len(self.phonemes):
            best = max(self.phonemes, key=self.utterances_per_phoneme.__getitem__, default=None)
            most = f"; the most is {self.utterances_per_phoneme[best]} ({best!r})" if best is not None else ""
            raise ValueError(
                f"no phoneme identity occurs in {size} distinct utterances (batch_size {self.batch_size} x "
                f"world_size {self.world_size}), so no same-phoneme batch can be filled{most}"
            )

    def _build(self, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
        size = self.global_batch_size
        unfillable = set(self.unfillable_phonemes) if self.drop_last else set()
        batches: list[np.ndarray] = []
        total = 0
        for name in self.phonemes:
            items = self._members[name]
            total += len(items)
            if name in unfillable:
                continue
            complete, incomplete = _pack_distinct_utterances(
                rng.permutation(items).tolist(), self._utterance, size
            )
            batches += [np.asarray(batch, dtype=np.int64) for batch in complete]
            batches += self._keep_incomplete(incomplete)
        return _shuffled(batches, rng), total - sum(len(batch) for batch in batches)



# ---------------------------------------------------------------------------------- TTS
class FrameBudgetBatchSampler(_SeededEpochSampler):
    """TTS batches filled up to a padded-frame budget, lengths bucketed to cut padding, rank-aware.

    Per epoch, from ``(seed, epoch)`` alone (so the same on every rank): a seeded permutation; in
    windows of ``bucket_size`` items, a sort by length; greedy packing while
    ``len(batch) · max(length) <= max_frames`` (the frames the padded batch holds); a seeded
    shuffle of the batches. Rank ``r`` takes batch ``r`` of each round of ``world_size``
    consecutive batches, so ranks never share an item and yield the same number of batches; the
    last incomplete round is left out (counted in :attr:`dropped_last_epoch`).

    Args:
        lengths: frames of each item (dataset row order).
        max_frames: padded frames per batch on each rank. An item longer than this is refused at
            construction, with its index (never silently dropped or truncated).
        bucket_size: items sorted together (larger: less padding, less randomness).
        seed / rank / world_size: as for the other samplers (rank and world size default to
            torch.distributed's when initialised, else 0 and 1).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        max_frames: int,
        *,
        bucket_size: int = 256,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        self.lengths = np.asarray([int(n) for n in lengths], dtype=np.int64)
        if self.lengths.size == 0 or bool((self.lengths < 1).any()):
            raise ValueError("lengths must be a non-empty list of positive frame counts")
        self.max_frames = _check_positive("max_frames", max_frames)
        too_long = np.flatnonzero(self.lengths > self.max_frames)
        if too_long.size:
            i = int(too_long[0])
            raise ValueError(
                f"{too_long.size} item(s) exceed max_frames={self.max_frames}, e.g. item {i} with "
                f"{int(self.lengths[i])} frames: raise max_frames or leave them out of the dataset"
            )
        self.bucket_size = _check_positive("bucket_size", bucket_size)
        super().__init__(seed=seed, rank=rank, world_size=world_size)

    def _build(self, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
        """The packed batches of whole rounds of ``world_size``; the last incomplete round is left out."""
        batches = self._pack(rng)
        kept = batches[: len(batches) // self.world_size * self.world_size]
        return kept, int(sum(len(batch) for batch in batches[len(kept) :]))

    def _pack(self, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(self.lengths.size)
        batches: list[np.ndarray] = []
        for start in range(0, order.size, self.bucket_size):
            window = order[start : start + self.bucket_size]
            window = window[np.argsort(self.lengths[window], kind="stable")]
            batch: list[int] = []
            for index in window:
                longest = int(self.lengths[index])  # the window is sorted: the newcomer is the longest
                if batch and (len(batch) + 1) * longest > self.max_frames:
                    batches.append(np.asarray(batch, dtype=np.int64))
                    batch = []
                batch.append(int(index))
            batches.append(np.asarray(batch, dtype=np.int64))
        return [batches[i] for i in rng.permutation(len(batches))]

    def all_batches(self) -> list[np.ndarray]:
        """Every rank's batches of the current epoch, in order (identical on every rank)."""
        return self._epoch()[0]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.all_batches()[self.rank :: self.world_size]:
            yield batch.tolist()

    def __len__(self) -> int:
        return len(self.all_batches()) // self.world_size
