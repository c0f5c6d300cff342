"""Rank sharding of 🤗 datasets: shuffle once (the same seed on every rank), then keep this rank's part.

The rule is: exactly once. :func:`shard_for_rank` shuffles with a fixed seed, then splits with
``datasets.distributed.split_dataset_by_node``, so each rank reads only its own part. Wrap the
result in a :class:`~prosody_tts.data.streaming.RobustExampleStream` with
``rank_sharded=(rank, world_size)``.

Accelerate would shard such a stream a second time (it wraps any torch ``IterableDataset`` in
``IterableDatasetShard``, even with ``dispatch_batches=False``), so the project's trainers build
their train loaders themselves and never pass a sharded stream through ``accelerator.prepare``
(see ``prosody_tts.trainers.common`` and docs/streaming.md).
"""

from __future__ import annotations

from typing import Any

__all__ = ["shard_for_rank"]



def shard_for_rank(
    dataset: Any, rank: int, world_size: int, seed: int | None, buffer_size: int = 1000
) -> Any:
    """Shuffle (seeded, the same on every rank) and keep this rank's part.

    Works for ``datasets.Dataset`` (shuffled index, then a contiguous chunk per rank) and
    ``datasets.IterableDataset`` (shard order + a ``buffer_size`` buffer, then
    ``split_dataset_by_node``'s ``"auto"`` strategy: whole shards per rank when
    ``n_shards % world_size == 0``, otherwise every rank reads all shards and keeps one example in
    ``world_size``). ``seed=None`` skips the shuffle. The shuffle comes first so that every rank
    agrees on the order it splits.
    """
    from datasets import Dataset, IterableDataset
    from datasets.distributed import split_dataset_by_node

    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
    if isinstance(dataset, IterableDataset):
        if seed is not None:
            dataset = dataset.shuffle(seed=seed, buffer_size=buffer_size)
    elif isinstance(dataset, Dataset):
        if seed is not None:
            dataset = dataset.shuffle(seed=seed)
    else:
        raise TypeError(
            f"shard_for_rank takes a datasets Dataset or IterableDataset, got {type(dataset).__name__}"
        )
    if world_size == 1:
        return dataset
    return split_dataset_by_node(dataset, rank=rank, world_size=world_size)
