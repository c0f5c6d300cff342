"""Pieces both stage Trainers share: batch-sampler data loading, epoch sync, sub-metric logging.

Why not the Trainer's own loader: our batch samplers are already rank-aware (same seed on all
ranks, disjoint slices, equal batch counts), so Accelerate's ``BatchSamplerShard`` must not
shard them again; and exact resume needs the sampler to know the epoch even when the Trainer
fast-forwards a resumed epoch through ``accelerate.skip_first_batches`` (which builds a plain
``DataLoader`` that no longer forwards ``set_epoch``). :class:`SamplerEpochCallback` sets the
epoch from ``TrainerState`` at every epoch start, which covers both paths.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader
from transformers import TrainerCallback

__all__ = ["SamplerEpochCallback", "SubMetricsMixin", "batch_sampler_dataloader"]


def batch_sampler_dataloader(dataset: Any, batch_sampler: Any, collate_fn: Callable, args: Any) -> DataLoader:
    """A loader over ``dataset`` in the batches of a rank-aware ``batch_sampler`` (not re-sharded).

    Its epoch comes from :class:`SamplerEpochCallback`, in fresh and resumed epochs alike."""
    params: dict[str, Any] = dict(
        batch_sampler=batch_sampler,
        collate_fn=collate_fn,
        num_workers=args.dataloader_num_workers,
        pin_memory=args.dataloader_pin_memory,
    )
    if args.dataloader_num_workers > 0:
        params["persistent_workers"] = args.dataloader_persistent_workers
        if args.dataloader_prefetch_factor is not None:
            params["prefetch_factor"] = args.dataloader_prefetch_factor
    return DataLoader(dataset, **params)


class SamplerEpochCallback(TrainerCallback):
    """Tell a batch sampler the epoch the Trainer is in, including a resumed one.

    ``TrainerState.epoch`` is a whole number at every epoch start of a fresh run and
    ``epochs_trained + fraction`` in a resumed one, so its floor is the epoch being run.
    """

    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler

    def on_epoch_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        epoch = math.floor((state.epoch or 0.0) + 1e-6)
        self.sampler.set_epoch(epoch)
        return control


class SubMetricsMixin:
    """Collect named per-batch metrics in ``compute_loss`` and log their means with the loss.

    Values are kept as detached tensors (no device sync per step) and averaged when the Trainer
    logs; a metric is logged under its own name (``phoneme_loss``, ``bpe_accuracy``, …).
    """

    def _record(self, metrics: Mapping[str, torch.Tensor | float]) -> None:
        store = self.__dict__.setdefault("_sub_metrics", defaultdict(list))
        for name, value in metrics.items():
            if value is None:
                continue
            store[name].append(value.detach().float() if torch.is_tensor(value) else torch.tensor(float(value)))

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        store = self.__dict__.get("_sub_metrics")
        if store and "loss" in logs:  # a training log: add the means since the last one
            for name, values in store.items():
                logs[name] = round(float(torch.stack([v.to(values[0].device) for v in values]).mean()), 6)
            store.clear()
        super().log(logs, *args, **kwargs)  # type: ignore[misc]


class RestoreRngOnResume(TrainerCallback):
    """Load the checkpoint's RNG states at the first resumed step (dropout continues as before).

    ``transformers.Trainer`` restores them only when it fast-forwards the dataloader itself; a
    stream restored from its own saved position runs with ``ignore_data_skip=True``, and would
    otherwise resume with other random states (the same batches, different dropout). The first
    step, not the start of training: creating the dataloader's iterator draws from the torch RNG.
    """

    def __init__(self, trainer: Any, checkpoint: str) -> None:
        self.trainer, self.checkpoint, self.done = trainer, checkpoint, False

    def on_step_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if not self.done:
            self.trainer._load_rng_state(self.checkpoint)  # the Trainer's own reader of rng_state[_rank].pth
            self.done = True
        return control
