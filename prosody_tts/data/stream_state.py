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

from ..constants import OCCURRENCE_STATE_PATTERN, STATE_FILE_PATTERN
from .streaming import RobustExampleStream

logger = logging.getLogger(__name__)
__all__ = [
    "OccurrenceStreamStateCallback",
    "StreamStateCallback",
    "load_occurrence_stream_state",
    "restore_occurrence_stream_state",
    "restore_stream_state",
    "save_occurrence_stream_state",
    "save_stream_state",
]


# ---------------------------------------------------------------------------------- Trainer side
def _make_callback_base() -> type:
    from transformers import TrainerCallback

    return TrainerCallback


class _CheckpointStateCallback(_make_callback_base()):
    """Writes a per-rank data state into ``checkpoint-N`` on every save (main-process data only)."""

    what = "state"

    def save(self, args: Any, folder: str, batches: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_save(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(args, "dataloader_num_workers", 0):
            logger.warning("%s not saved: it runs in DataLoader workers (num_workers > 0)", self.what)
            return control
        batches = state.global_step * args.gradient_accumulation_steps
        self.save(args, os.path.join(args.output_dir, f"checkpoint-{state.global_step}"), batches)
        return control


class StreamStateCallback(_CheckpointStateCallback):
    """Save the stream's position into each checkpoint (``stream_state_rank{r}.json``).

    The position saved is the one after the batches the Trainer has *trained on*
    (``global_step * gradient_accumulation_steps`` batches of ``per_device_train_batch_size``),
    not the stream's live position, which runs ahead by Accelerate's one-batch lookahead.
    Exact with ``dataloader_num_workers=0`` (the stream is then iterated in this process); with
    workers the main process never sees the position and the callback saves nothing but a
    warning. Resume with :func:`restore_stream_state` and ``ignore_data_skip=True``.
    """

    what = "stream state"

    def __init__(self, stream: RobustExampleStream) -> None:
        self.stream = stream

    def save(self, args: Any, folder: str, batches: int) -> None:
        examples = self.stream.examples_after_batches(batches, args.per_device_train_batch_size)
        save_stream_state(self.stream.state_dict(at_examples=examples), folder, getattr(args, "process_index", 0))


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


# ---------------------------------------------------------------------------------- occurrence batches
def _encode_example(example: Mapping[str, Any], prefix: str, arrays: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict

    import numpy as np
    import torch

    out: dict[str, Any] = {}
    for key, value in example.items():
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}.{key}"] = torch.from_numpy(np.ascontiguousarray(value))
            out[key] = {"__array__": f"{prefix}.{key}"}
        elif key == "occurrences":
            out[key] = {"__occurrences__": [asdict(o) for o in value]}
        else:
            out[key] = value
    return out


def _decode_example(example: Mapping[str, Any], arrays: Mapping[str, Any]) -> dict[str, Any]:
    from .occurrences import PhonemeOccurrence

    out: dict[str, Any] = {}
    for key, value in example.items():
        if isinstance(value, dict) and "__array__" in value:
            out[key] = arrays[value["__array__"]].numpy()
        elif isinstance(value, dict) and "__occurrences__" in value:
            out[key] = [PhonemeOccurrence(**o) for o in value["__occurrences__"]]
        else:
            out[key] = value
    return out


def save_occurrence_stream_state(batcher: Any, checkpoint_dir: str | os.PathLike, rank: int = 0,
                                 at_batches: int | None = None) -> str:  # fmt: skip
    """Write a :class:`~.occurrence_stream.StreamingOccurrenceBatches` state (buffer included) as
    ``occurrence_stream_rank{r}.json`` + ``.safetensors`` (the buffered log-mels); returns the JSON path."""
    from dataclasses import asdict

    from safetensors.torch import save_file

    state = batcher.state_dict(at_batches=at_batches)
    arrays: dict[str, Any] = {}
    examples = {}
    for slot, item in state["examples"].items():
        encoded = _encode_example(item["example"], f"s{slot}", arrays)
        examples[str(slot)] = {"example": encoded, "occurrences": [asdict(o) for o in item["occurrences"]]}
    state = {**state, "examples": examples}
    os.makedirs(checkpoint_dir, exist_ok=True)
    base = os.path.join(checkpoint_dir, OCCURRENCE_STATE_PATTERN.format(rank=rank))
    save_file(arrays, base + ".safetensors.tmp")
    with open(base + ".json.tmp", "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False)
    os.replace(base + ".safetensors.tmp", base + ".safetensors")
    os.replace(base + ".json.tmp", base + ".json")
    return base + ".json"


def load_occurrence_stream_state(checkpoint_dir: str | os.PathLike, rank: int = 0) -> dict[str, Any] | None:
    """The state :func:`save_occurrence_stream_state` wrote for ``rank`` (None when there is none)."""
    from safetensors.torch import load_file

    from .occurrences import PhonemeOccurrence

    base = os.path.join(checkpoint_dir, OCCURRENCE_STATE_PATTERN.format(rank=rank))
    if not os.path.isfile(base + ".json"):
        return None
    with open(base + ".json", encoding="utf-8") as handle:
        state = json.load(handle)
    arrays = load_file(base + ".safetensors")
    state["examples"] = {
        int(slot): {"example": _decode_example(item["example"], arrays),
                    "occurrences": [PhonemeOccurrence(**o) for o in item["occurrences"]]}
        for slot, item in state["examples"].items()
    }
    state["buffer"] = [(int(slot), int(remaining)) for slot, remaining in state["buffer"]]
    return state


def restore_occurrence_stream_state(batcher: Any, checkpoint_dir: str | os.PathLike, rank: int = 0) -> bool:
    """Load the state saved for ``rank`` into ``batcher``; False when the checkpoint has none."""
    state = load_occurrence_stream_state(checkpoint_dir, rank)
    if state is None:
        return False
    batcher.load_state_dict(state)
    return True


class OccurrenceStreamStateCallback(_CheckpointStateCallback):
    """Save a :class:`~.occurrence_stream.StreamingOccurrenceBatches` state into each checkpoint.

    The state saved is the one after the batches the Trainer has trained on (``global_step ×
    gradient_accumulation_steps``; the batcher keeps the last ``history`` positions for Accelerate's
    lookahead). Resume with :func:`restore_occurrence_stream_state` and ``ignore_data_skip=True``.
    """

    what = "occurrence-stream state"

    def __init__(self, batcher: Any) -> None:
        self.batcher = batcher

    def save(self, args: Any, folder: str, batches: int) -> None:
        save_occurrence_stream_state(self.batcher, folder, getattr(args, "process_index", 0), at_batches=batches)
