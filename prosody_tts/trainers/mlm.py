"""Stage 1: masked language modelling of both streams (``DualStreamForMaskedLM``).

Batches of utterances (map-style data) come from a rank-aware :class:`UtteranceBatchSampler`;
a streamed source (``IterableDataset``, already rank-sharded) is batched by the stock loader.
The masks are drawn from a generator seeded per batch — by ``(seed, epoch, batch number)`` for
map-style data, by the batch's example ids for streams — so a resumed run masks exactly as the
uninterrupted one did, whatever the global RNG state and the number of dataloader workers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset
from transformers import Trainer

from ..constants import IGNORE_INDEX
from ..data.mlm import DualStreamMLMCollator
from ..data.samplers import UtteranceBatchSampler
from .common import SamplerEpochCallback, SubMetricsMixin, batch_sampler_dataloader

__all__ = ["KeyedBatchSampler", "MaskedLMTrainer", "SeededMLMCollator", "masked_accuracy"]

BATCH_KEY = "_batch_key"


def _seed_from(*parts: Any) -> int:
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


class KeyedBatchSampler:
    """Wrap a batch sampler so each index carries its batch's key ``(epoch, batch number)``."""

    def __init__(self, sampler: Any) -> None:
        self.sampler, self.epoch = sampler, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for number, batch in enumerate(self.sampler):
            yield [(self.epoch, number, int(index)) for index in batch]


class _KeyedRows(torch.utils.data.Dataset):
    """``rows[(epoch, batch, i)]`` → ``rows[i]`` plus its batch key."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: tuple[int, int, int]) -> dict[str, Any]:
        epoch, batch, index = key
        return {**dict(self.rows[index]), BATCH_KEY: (epoch, batch)}


class SeededMLMCollator:
    """Run a :class:`DualStreamMLMCollator` with a generator seeded for this batch only."""

    def __init__(self, collator: DualStreamMLMCollator, seed: int = 0) -> None:
        self.collator, self.seed = collator, seed

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        if BATCH_KEY in examples[0]:
            key: Any = examples[0][BATCH_KEY]
        else:  # a stream: the batch's example ids
            key = tuple(str(example.get("id")) for example in examples)
        self.collator.generator = torch.Generator().manual_seed(_seed_from(self.seed, key))
        return self.collator(examples)


def masked_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Share of labelled positions whose arg-max prediction is the label (NaN-free: 0 when none)."""
    selected = labels != IGNORE_INDEX
    correct = (logits.argmax(-1) == labels) & selected
    return correct.sum().float() / selected.sum().clamp_min(1).float()


class MaskedLMTrainer(SubMetricsMixin, Trainer):
    """``Trainer`` for stage 1: logs ``phoneme_loss``, ``bpe_loss``, ``phoneme_accuracy``, ``bpe_accuracy``.

    Args:
        processor: the ``DualStreamProcessor``; builds the default collator and is saved with
            checkpoints (``processing_class``).
        mlm_collator: a configured :class:`DualStreamMLMCollator` (default: ``from_processor``
            with ``whole_word``).
        whole_word: select whole words for masking (when the collator is built here).
        mask_seed: base seed of the per-batch masks (default ``args.seed``).
        Other arguments as ``transformers.Trainer``; ``train_dataset`` is map-style (a prepared
        corpus, a 🤗 ``Dataset`` or a list of token dicts) or an ``IterableDataset`` that each rank
        reads its own part of (e.g. a :class:`~prosody_tts.data.text_stream.TextTokenStream` over
        :func:`~prosody_tts.data.sharding.shard_for_rank`); then ``args.max_steps`` is required.
    """

    def __init__(
        self,
        *args: Any,
        processor: Any = None,
        mlm_collator: DualStreamMLMCollator | None = None,
        whole_word: bool = False,
        mask_seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if mlm_collator is None:
            if processor is None:
                raise ValueError("MaskedLMTrainer needs a processor or an mlm_collator")
            mlm_collator = DualStreamMLMCollator.from_processor(processor, whole_word=whole_word)
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        seed = mask_seed if mask_seed is not None else getattr(training_args, "seed", 0)
        kwargs.setdefault("data_collator", SeededMLMCollator(mlm_collator, seed))
        if processor is not None:
            kwargs.setdefault("processing_class", processor)
        super().__init__(*args, **kwargs)
        self.batch_sampler: KeyedBatchSampler | None = None

    def get_train_dataloader(self) -> DataLoader:
        dataset = self.train_dataset
        if dataset is None:
            raise ValueError("MaskedLMTrainer: training requires a train_dataset")
        if isinstance(dataset, IterableDataset):
            # a rank-sharded stream: our own loader, so Accelerate neither dispatches nor re-shards it
            return DataLoader(
                dataset,
                batch_size=self.args.per_device_train_batch_size,
                collate_fn=self.data_collator,
                num_workers=self.args.dataloader_num_workers,
                pin_memory=self.args.dataloader_pin_memory,
            )
        rows = dataset.rows if hasattr(dataset, "rows") and hasattr(dataset, "row_of") else dataset
        if self.batch_sampler is None:
            sampler = UtteranceBatchSampler(
                len(rows),
                self.args.per_device_train_batch_size,
                shuffle=True,
                seed=self.args.data_seed if self.args.data_seed is not None else self.args.seed,
                rank=self.args.process_index,
                world_size=self.args.world_size,
                drop_last=True,
            )
            self.batch_sampler = KeyedBatchSampler(sampler)
            self.add_callback(SamplerEpochCallback(self.batch_sampler))
        return batch_sampler_dataloader(_KeyedRows(rows), self.batch_sampler, self.data_collator, self.args)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
        outputs = model(**inputs, return_dict=True)
        metrics: dict[str, Any] = {"phoneme_loss": outputs.phoneme_loss, "bpe_loss": outputs.bpe_loss}
        with torch.no_grad():
            for stream in ("phoneme", "bpe"):
                labels, logits = inputs.get(f"{stream}_labels"), getattr(outputs, f"{stream}_logits")
                if labels is not None and logits is not None:
                    metrics[f"{stream}_accuracy"] = masked_accuracy(logits, labels)
        self._record(metrics)
        return (outputs.loss, outputs) if return_outputs else outputs.loss
