"""A stream's position in Trainer checkpoints: save it with every checkpoint, restore it on resume.

:class:`StreamStateCallback` writes :meth:`RobustExampleStream.state_dict` (at the batches the
Trainer has trained on) into ``checkpoint-N/stream_state_rank{r}.json``; :func:`restore_stream_state`
loads it back before ``trainer.train(resume_from_checkpoint=...)`` (then set
``TrainingArguments(ignore_data_skip=True)`` so the Trainer does not skip batches again).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from ..constants import STATE_FILE_PATTERN
from .streaming import RobustExampleStream

logger = logging.getLogger(__name__)
__all__ = ["StreamStateCallback", "restore_stream_state", "save_stream_state"]


# ---------------------------------------------------------------------------------- Trainer side
def _make_callback_base() -> type:
    from transformers import TrainerCallback

    return TrainerCallback


class StreamStateCallback(_make_callback_base()):
    """Save the stream's position into each checkpoint (``stream_state_rank{r}.json``).

    The position saved is the one after the batches the Trainer has *trained on*
    (``global_step * gradient_accumulation_steps`` batches of ``per_device_train_batch_size``),
    not the stream's live position, which runs ahead by Accelerate's one-batch lookahead.
    Exact with ``dataloader_num_workers=0`` (the stream is then iterated in this process); with
    workers the main process never sees the position and the callback saves nothing but a
    warning. Resume with :func:`restore_stream_state` and ``ignore_data_skip=True``.
    """

    def __init__(self, stream: RobustExampleStream) -> None:
        self.stream = stream

    def on_save(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(args, "dataloader_num_workers", 0):
            logger.warning("stream state not saved: the stream runs in DataLoader workers (num_workers > 0)")
            return control
        batches = state.global_step * args.gradient_accumulation_steps
        examples = self.stream.examples_after_batches(batches, args.per_device_train_batch_size)
        stream_state = self.stream.state_dict(at_examples=examples)
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        save_stream_state(stream_state, folder, getattr(args, "process_index", 0))
        return control


def save_stream_state(
    stream_state: Mapping[str, Any], checkpoint_dir: str | os.PathLike, rank: int = 0
) -> str:
    """Write a stream state into ``checkpoint_dir`` as JSON; returns the file path."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    path = os.path.join(checkpoint_dir, STATE_FILE_PATTERN.format(rank=rank))
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(stream_state, handle, ensure_ascii=False)
    os.replace(path + ".tmp", path)
    return path


def restore_stream_state(
    stream: RobustExampleStream, checkpoint_dir: str | os.PathLike, rank: int = 0
) -> bool:
    """Load the state :class:`StreamStateCallback` saved for ``rank``; False when there is none."""
    path = os.path.join(checkpoint_dir, STATE_FILE_PATTERN.format(rank=rank))
    if not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8") as handle:
        stream.load_state_dict(json.load(handle))
    return True
