"""Stages 2 and 3: SigLIP contrastive learning of phoneme occurrences against audio segments.

The same Trainer runs both stages; only the batch sampler differs:

* ``batch_sampler="mixed"`` (stage 2): :class:`MixedPhonemeBatchSampler`, many identities per
  batch (at most ``max_per_phoneme`` occurrences each) — the model must tell phonemes apart;
* ``batch_sampler="same"`` (stage 3): :class:`SamePhonemeBatchSampler`, one identity per batch
  from distinct utterances — only prosody/context separates positives from negatives.

``per_device_train_batch_size`` counts *occurrences* (text–audio pairs) per rank. With several
ranks the model scores every rank's audio segments as negatives
(``config.gather_negatives_across_ranks``); the samplers build each global batch once and slice
it by rank, so a same-phoneme global batch stays one identity across ranks.

Streamed corpora: pass a :class:`StreamingOccurrenceBatches` (it yields whole batches).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset
from transformers import Trainer

from ..data.collators import DualStreamCollator, OccurrenceCollator
from ..data.occurrences import OccurrenceDataset
from ..data.samplers import MixedPhonemeBatchSampler, SamePhonemeBatchSampler
from .common import RestoreRngOnResume, SamplerEpochCallback, SubMetricsMixin, batch_sampler_dataloader

__all__ = ["BATCH_SAMPLERS", "ContrastiveTrainer"]

#: Names accepted by ``ContrastiveTrainer(batch_sampler=...)``.
BATCH_SAMPLERS: tuple[str, ...] = ("mixed", "same")


class ContrastiveTrainer(SubMetricsMixin, Trainer):
    """``Trainer`` for ``ProsodyContrastiveModel`` over sampled phoneme occurrences.

    Logs, besides ``loss``: ``logit_scale`` (t = exp t′), ``logit_bias``, ``batch_r1`` (share of
    text anchors whose best-scoring audio segment in the rank's batch is their own),
    ``positive_logit`` / ``negative_logit`` (mean logits of matching / other pairs) and
    ``negatives`` (audio segments each anchor is scored against, all ranks included).

    Args:
        batch_sampler: ``"mixed"`` (stage 2) or ``"same"`` (stage 3).
        max_per_phoneme / max_per_utterance: caps of the mixed sampler.
        processor: a ``DualStreamProcessor`` (pad ids for the default collator; saved with checkpoints).
        speaker_to_id: fixed speaker → id mapping for ``speaker_source="ids"`` models.
        Other arguments as ``transformers.Trainer``; ``train_dataset`` is an
        :class:`OccurrenceDataset` or a :class:`StreamingOccurrenceBatches`.
    """

    def __init__(
        self,
        *args: Any,
        batch_sampler: str = "mixed",
        max_per_phoneme: int = 1,
        max_per_utterance: int | None = None,
        processor: Any = None,
        speaker_to_id: dict[str, int] | None = None,
        **kwargs: Any,
    ) -> None:
        if batch_sampler not in BATCH_SAMPLERS:
            raise ValueError(f"batch_sampler must be one of {BATCH_SAMPLERS}, got {batch_sampler!r}")
        self.batch_sampler_name = batch_sampler
        self.max_per_phoneme, self.max_per_utterance = max_per_phoneme, max_per_utterance
        model = kwargs.get("model", args[0] if args else None)
        with_ids = getattr(getattr(model, "config", None), "speaker_source", None) == "ids"
        if "data_collator" not in kwargs:
            base = DualStreamCollator.from_processor(processor, speaker_to_id=speaker_to_id) if processor else (
                DualStreamCollator(speaker_to_id=speaker_to_id)
            )
            kwargs["data_collator"] = OccurrenceCollator(base, with_speaker_ids=with_ids)
        if with_ids and speaker_to_id is None:
            raise ValueError("a speaker_source='ids' model needs a fixed speaker_to_id (same on every rank)")
        if processor is not None:
            kwargs.setdefault("processing_class", processor)
        super().__init__(*args, **kwargs)
        self.sampler: MixedPhonemeBatchSampler | SamePhonemeBatchSampler | None = None

    def make_sampler(self, dataset: OccurrenceDataset) -> MixedPhonemeBatchSampler | SamePhonemeBatchSampler:
        """The rank-aware batch sampler for ``dataset`` named by ``batch_sampler``."""
        common = dict(
            seed=self.args.data_seed if self.args.data_seed is not None else self.args.seed,
            rank=self.args.process_index,
            world_size=self.args.world_size,
        )
        size = self.args.per_device_train_batch_size
        if self.batch_sampler_name == "mixed":
            return MixedPhonemeBatchSampler(
                dataset.index,
                size,
                max_per_phoneme=self.max_per_phoneme,
                max_per_utterance=self.max_per_utterance,
                **common,
            )
        return SamePhonemeBatchSampler(dataset.index, size, **common)

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """As ``Trainer.train``; a streamed dataset resumed from its own state also gets the RNG states back."""
        if resume_from_checkpoint and self.args.ignore_data_skip and isinstance(self.train_dataset, IterableDataset):
            if not isinstance(resume_from_checkpoint, str):
                raise ValueError("resuming a streamed dataset needs the checkpoint path (restore its state from it first)")
            self.add_callback(RestoreRngOnResume(self, resume_from_checkpoint))
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)

    def get_train_dataloader(self) -> DataLoader:
        dataset = self.train_dataset
        if dataset is None:
            raise ValueError("ContrastiveTrainer: training requires a train_dataset")
        if isinstance(dataset, IterableDataset):  # yields whole batches; our own loader: Accelerate never re-shards it
            return DataLoader(
                dataset, batch_size=None, collate_fn=self.data_collator, num_workers=self.args.dataloader_num_workers
            )
        if not isinstance(dataset, OccurrenceDataset):
            raise TypeError(
                "ContrastiveTrainer's train_dataset must be an OccurrenceDataset (map-style) or a "
                f"StreamingOccurrenceBatches (streamed), got {type(dataset).__name__}"
            )
        if self.sampler is None:
            self.sampler = self.make_sampler(dataset)
            self.add_callback(SamplerEpochCallback(self.sampler))
        return batch_sampler_dataloader(dataset, self.sampler, self.data_collator, self.args)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
        outputs = model(**inputs, return_loss=True, return_dict=True)
        with torch.no_grad():
            logits = outputs.logits_per_text  # (N, N) this rank's pairs
            n = logits.shape[0]
            eye = torch.eye(n, dtype=torch.bool, device=logits.device)
            negatives = torch.tensor(float(n), device=logits.device)
            unwrapped = self.accelerator.unwrap_model(model)
            if dist.is_available() and dist.is_initialized() and unwrapped.config.gather_negatives_across_ranks:
                dist.all_reduce(negatives)  # every rank's segments are scored
            self._record(
                {
                    "logit_scale": unwrapped.logit_scale.exp().squeeze(),
                    "logit_bias": unwrapped.logit_bias.squeeze(),
                    "batch_r1": (logits.argmax(-1) == torch.arange(n, device=logits.device)).float().mean(),
                    "positive_logit": logits[eye].mean(),
                    "negative_logit": logits[~eye].mean() if n > 1 else logits.new_zeros(()),
                    "negatives": negatives - 1,
                }
            )
        return (outputs.loss, outputs) if return_outputs else outputs.loss
