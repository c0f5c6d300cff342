"""Stages 2/3 on a streamed corpus: occurrence batches formed on the fly, resumable, rank-consistent.

::

    DataArguments.stream_corpus: a registered corpus (golos_crowd, common_voice_ru, …; local files
      in its layout with stream_data_files) or "manifest" (a prosody-tts align output, say)
      ─ streamed (🤗 IterableDataset), shuffled and sharded per rank (shard_for_rank)
      ─ RobustExampleStream(with_occurrences=True; aligner=ALIGNER_DIR gives durations on the fly
        to examples without them; bad files skipped and counted)
      ─ StreamingOccurrenceBatches(mode "mixed" | "same"; same-phoneme identities agreed across
        ranks; buffer, generators and stream position saved in every checkpoint)
      ─► ContrastiveTrainer (max_steps required: a stream has no length)

Resume with ``resume_from_checkpoint``: each rank's buffer and stream position are restored from
``checkpoint-N/occurrence_stream_rank{r}.*`` and the Trainer does not skip batches again, so the
batches after the checkpoint are exactly those of an uninterrupted run.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["restore_for_resume", "streamed_occurrence_batches"]


def _stream_source(data_args: Any, split: str) -> Any:
    from ..data.sources.adapters import load_corpus
    from ..data.sources.local import load_manifest

    files = [f for f in (data_args.stream_data_files or "").split(",") if f] or None
    if data_args.stream_corpus == "manifest":
        if not files or len(files) != 1:
            raise ValueError("stream_corpus='manifest' needs stream_data_files: one manifest file")
        return load_manifest(files[0], streaming=True)
    return load_corpus(data_args.stream_corpus, split=split, streaming=True, data_files=files)


def streamed_occurrence_batches(
    data_args: Any, stage_args: Any, training_args: Any, processor: Any
) -> tuple[Any, Any]:
    """``(StreamingOccurrenceBatches, RobustExampleStream)`` of this rank (see the module docstring)."""
    from ..data.occurrence_stream import StreamingOccurrenceBatches
    from ..data.sharding import shard_for_rank
    from ..data.streaming import RobustExampleStream

    if training_args.max_steps <= 0:
        raise ValueError("a streamed corpus has no length: set max_steps")
    if training_args.dataloader_num_workers:
        raise ValueError("streamed occurrence batches resume exactly only in the main process: dataloader_num_workers=0")
    aligner = None
    if data_args.aligner:
        from ..modeling.phoneme_aligner import PhonemeAlignerModel

        aligner = PhonemeAlignerModel.from_pretrained(data_args.aligner)
    rank, world = training_args.process_index, training_args.world_size
    source = shard_for_rank(_stream_source(data_args, data_args.train_split), rank, world, training_args.seed,
                            data_args.shuffle_buffer)  # fmt: skip
    stream = RobustExampleStream(
        source, processor, require_durations=aligner is None, with_occurrences=True, rank_sharded=(rank, world),
        aligner=aligner,
    )  # fmt: skip
    mode = "mixed" if stage_args.batch_sampler == "mixed" else "same"
    batcher = StreamingOccurrenceBatches(
        stream, training_args.per_device_train_batch_size, mode=mode, max_per_phoneme=stage_args.max_per_phoneme,
        buffer_size=data_args.stream_buffer_size, seed=training_args.seed,
    )  # fmt: skip
    logger.info("streamed %s batches from %s (rank %d/%d, aligner: %s)", mode, data_args.stream_corpus, rank, world,
                data_args.aligner or "stored durations")  # fmt: skip
    return batcher, stream


def restore_for_resume(batcher: Any, training_args: Any) -> bool:
    """Before ``trainer.train(resume_from_checkpoint=...)``: load this rank's saved batches state.

    Sets ``ignore_data_skip`` (the restored stream already stands after the trained batches).
    Returns False when not resuming. A checkpoint without the state is an error: resuming would
    silently start the stream over.
    """
    from transformers.trainer_utils import get_last_checkpoint

    from ..data.stream_state import restore_occurrence_stream_state

    resume = training_args.resume_from_checkpoint
    if not resume:
        return False
    checkpoint = resume
    if str(resume).lower() in ("true", "last"):
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint is None:
            raise ValueError(f"resume_from_checkpoint={resume!r} but {training_args.output_dir} has no checkpoint")
        training_args.resume_from_checkpoint = checkpoint
    if not restore_occurrence_stream_state(batcher, checkpoint, training_args.process_index):
        raise FileNotFoundError(f"{Path(checkpoint)} has no occurrence-stream state for rank {training_args.process_index}")
    training_args.ignore_data_skip = True
    return True
