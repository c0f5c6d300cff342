"""Streaming data: rank sharding, a robust example stream with resumable state, the occurrence index.

Who shards (the rule: exactly once)
-----------------------------------
:func:`shard_for_rank` shuffles with a fixed seed, then splits with
``datasets.distributed.split_dataset_by_node``: each rank reads only its own part. The result is
wrapped in a :class:`RobustExampleStream` (a ``torch.utils.data.IterableDataset``) with
``rank_sharded=(rank, world_size)``.

Accelerate would shard it a second time: with ``dispatch_batches=True`` (its default for
iterable datasets) rank 0 reads everything and dispatches slices, and with ``dispatch_batches=False``
``prepare_data_loader`` still wraps a torch ``IterableDataset`` in ``IterableDatasetShard``, which
keeps one batch in ``world_size`` of what the rank reads. So:

* pass :data:`TRAINER_ACCELERATOR_CONFIG` as ``TrainingArguments(accelerator_config=...)``;
* call :func:`neutralize_accelerate_resharding` on the prepared train dataloader (or mix
  :class:`RankShardedTrainerMixin` into the Trainer, which does both that and
  :func:`assert_not_sharded_twice`).

Resume
------
:meth:`RobustExampleStream.state_dict` gives the position (source examples consumed in the
current pass, pass number, skip counters). Map-style sources resume by index; 🤗 iterable sources
without a shuffle buffer resume through ``IterableDataset.state_dict()``; sources with a shuffle
buffer (whose content 🤗 datasets does not save) resume by replaying the seeded order and discarding
the consumed examples *undecoded* (no audio decoding, so cheap but O(consumed) reads). Either way
the resumed stream continues exactly where the saved one stopped (no repeats, no gaps).
:class:`StreamStateCallback` writes the state into every checkpoint; :func:`restore_stream_state`
loads it (then set ``TrainingArguments(ignore_data_skip=True)`` so the Trainer does not skip
batches again). Exact state is tracked in the process that iterates the stream: use
``dataloader_num_workers=0`` for the train stream when exact resume matters (see docs/streaming.md).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from ..processing.errors import AudioError
from ..processing.inventory import is_phoneme, is_symbol
from .occurrences import PhonemeOccurrence, phoneme_occurrences, word_indices
from .schema import decode_example_audio, example_problems

logger = logging.getLogger(__name__)

__all__ = [
    "SKIP_REASONS",
    "STATE_FILE_PATTERN",
    "TRAINER_ACCELERATOR_CONFIG",
    "OccurrenceIndex",
    "RankShardedTrainerMixin",
    "RobustExampleStream",
    "ShardedTwiceError",
    "StreamStateCallback",
    "assert_not_sharded_twice",
    "iter_occurrences",
    "neutralize_accelerate_resharding",
    "read_skip_counts",
    "restore_stream_state",
    "shard_for_rank",
]

#: ``TrainingArguments(accelerator_config=...)`` for a rank-sharded stream: no dispatching from
#: rank 0, no batch splitting. Not sufficient alone: see :func:`neutralize_accelerate_resharding`.
TRAINER_ACCELERATOR_CONFIG: dict[str, bool] = {"dispatch_batches": False, "split_batches": False}

#: Skip reasons counted by :class:`RobustExampleStream`.
SKIP_REASONS = (
    "schema",  # missing/ill-typed fields, durations without phonemes, wrong lengths…
    "unknown_phoneme",  # a phoneme outside the inventory
    "missing_audio",  # the audio file does not exist
    "bad_audio",  # undecodable, empty, NaN/inf audio
    "too_short",  # shorter than one hop (no mel frame)
    "duration_mismatch",  # durations do not sum to the frame count (± DURATION_TOLERANCE)
    "text_error",  # the front-end/tokenizer refused the text
    "word_mismatch",  # stored phonemes and the text disagree on the number of words
    "feature_error",  # the feature extractor failed
    "error",  # anything else (the exception type is logged)
)

#: Name of the per-rank state file that :class:`StreamStateCallback` writes into a checkpoint.
STATE_FILE_PATTERN = "stream_state_rank{rank}.json"


class ShardedTwiceError(RuntimeError):
    """A rank-sharded stream is about to be sharded again by Accelerate."""


# ---------------------------------------------------------------------------------- sharding
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


def _stream_inside(obj: Any) -> RobustExampleStream | None:
    """The :class:`RobustExampleStream` a dataloader / dataset wrapper holds, if any."""
    for _ in range(8):
        if isinstance(obj, RobustExampleStream):
            return obj
        inner = getattr(obj, "dataset", None)
        if inner is None or inner is obj:
            return None
        obj = inner
    return None


def neutralize_accelerate_resharding(dataloader: Any) -> Any:
    """Make Accelerate's ``IterableDatasetShard`` around a rank-sharded stream a pass-through.

    ``accelerator.prepare`` wraps an iterable dataset in ``IterableDatasetShard`` whenever
    ``num_processes > 1`` and batches are not dispatched; around a stream that is already
    rank-sharded that would keep only ``1 / world_size`` of this rank's data. Setting the wrapper
    to one process with batch size 1 makes it yield every element unchanged (no tail padding).
    Returns the dataloader.
    """
    shard = getattr(dataloader, "dataset", None)
    if type(shard).__name__ == "IterableDatasetShard":
        stream = _stream_inside(shard.dataset)
        if stream is not None and stream.rank_sharded is not None:
            shard.num_processes, shard.process_index, shard.batch_size, shard.split_batches = 1, 0, 1, False
    return dataloader


def assert_not_sharded_twice(dataloader: Any) -> None:
    """Raise :class:`ShardedTwiceError` if a prepared dataloader would shard a rank-sharded stream again.

    Detects Accelerate's batch dispatching (``DataLoaderDispatcher``) and an active
    ``IterableDatasetShard`` (``num_processes > 1``) around a stream built with ``rank_sharded``.
    """
    stream = _stream_inside(dataloader)
    if stream is None or stream.rank_sharded is None or stream.rank_sharded[1] == 1:
        return
    if type(dataloader).__name__ == "DataLoaderDispatcher":
        raise ShardedTwiceError(
            "the stream is already sharded per rank but Accelerate dispatches batches from rank 0; "
            f"pass accelerator_config={TRAINER_ACCELERATOR_CONFIG}"
        )
    shard = getattr(dataloader, "dataset", None)
    if type(shard).__name__ == "IterableDatasetShard" and shard.num_processes > 1:
        raise ShardedTwiceError(
            "the stream is already sharded per rank but Accelerate's IterableDatasetShard keeps "
            f"1/{shard.num_processes} of it again; call neutralize_accelerate_resharding(dataloader)"
        )


class RankShardedTrainerMixin:
    """Mix into a ``transformers.Trainer`` whose ``train_dataset`` is a rank-sharded stream.

    ``get_train_dataloader`` neutralises Accelerate's second sharding and checks the result.
    Use with ``TrainingArguments(accelerator_config=TRAINER_ACCELERATOR_CONFIG, max_steps=...)``.
    """

    def get_train_dataloader(self):  # type: ignore[no-untyped-def]
        dataloader = neutralize_accelerate_resharding(super().get_train_dataloader())  # type: ignore[misc]
        assert_not_sharded_twice(dataloader)
        return dataloader


# ---------------------------------------------------------------------------------- the stream
def _source_kind(dataset: Any) -> str:
    try:
        from datasets import Dataset, IterableDataset
    except ImportError:  # pragma: no cover - datasets is a dependency
        Dataset = IterableDataset = ()  # type: ignore[assignment,misc]
    if isinstance(dataset, IterableDataset):
        return "native" if not _has_shuffle_buffer(dataset) else "replay"
    if isinstance(dataset, Dataset) or (
        isinstance(dataset, Sequence) and not isinstance(dataset, (str, bytes))
    ):
        return "index"
    if isinstance(dataset, Iterable):
        return "replay"
    raise TypeError(f"cannot stream a {type(dataset).__name__}")


def _has_shuffle_buffer(dataset: Any) -> bool:
    """Whether a 🤗 IterableDataset's pipeline holds a shuffle buffer (its content is not in state_dict)."""
    todo, seen = [getattr(dataset, "_ex_iterable", None)], 0
    while todo and seen < 256:
        node = todo.pop()
        seen += 1
        if node is None:
            continue
        if type(node).__name__ == "BufferShuffledExamplesIterable":
            return True
        todo.append(getattr(node, "ex_iterable", None))
        todo.extend(getattr(node, "ex_iterables", None) or [])
    return False


@dataclass
class _Snapshot:
    yielded_total: int
    epoch: int
    consumed: int
    yielded: int
    skipped: dict[str, int]
    hf_state: dict | None = None


@dataclass
class _Position:
    epoch: int = 0
    consumed: int = 0  # source examples pulled in this pass (yielded or skipped)
    yielded: int = 0  # examples yielded in this pass
    yielded_total: int = 0  # examples yielded over all passes
    epoch_lengths: list[int] = field(default_factory=list)  # yielded per completed pass


class RobustExampleStream(torch.utils.data.IterableDataset):
    """Canonical examples → processed examples, skipping (and counting) every bad one.

    Each example goes through: schema check → :func:`decode_example_audio` (the one decode path) →
    frame count and duration check → log-mel → (with a processor) both token streams. An example
    that fails any step is skipped: logged once (``logging.warning`` with its id and reason),
    counted in :attr:`skipped` (a ``Counter`` by reason, see :data:`SKIP_REASONS`), never raised.

    Args:
        dataset: a ``datasets.Dataset`` / ``IterableDataset`` (audio undecoded), a list of
            example dicts, or any re-iterable of them.
        processor_or_feature_extractor: a ``DualStreamProcessor`` (mel + tokens) or a
            ``MelFeatureExtractor`` (mel only).
        base_dir: folder that relative audio paths are resolved against.
        require_durations: skip examples without ``phonemes``/``phoneme_durations``.
        with_occurrences: add ``"occurrences"`` (list of :class:`PhonemeOccurrence`) to each output.
        rank_sharded: ``(rank, world_size)`` when the dataset came from :func:`shard_for_rank`;
            lets :func:`assert_not_sharded_twice` catch a second sharding.
        skip_log_dir: when set, every worker writes its skip counts to
            ``skips-rank{r}-worker{w}.json`` there; :func:`read_skip_counts` sums them.
        history: how many past positions are kept for :meth:`state_dict` ``(at_examples=...)``.

    Outputs (dicts): ``id``, ``speaker``, ``num_frames``, ``input_features`` (float32
    ``(frames, n_mels)``), ``phoneme_durations`` (when the example has them; with a processor
    aligned to ``phoneme_input_ids``, 0 for ``<s>``/``</s>``) and, with a processor,
    ``phoneme_input_ids``, ``phoneme_word_ids``, ``bpe_input_ids``, ``bpe_word_ids``.
    When the example carries ``phonemes`` the phoneme stream is built from them (so the
    durations line up) and the text is only used for the BPE stream and the word alignment.

    DataLoader workers: map-style sources are split across workers by index, 🤗 iterable
    sources by file shard (datasets does this; with fewer shards than workers the extra workers
    idle). Skip counts and position live in each worker's copy; the object in the main process
    only sees them with ``num_workers=0`` (use ``skip_log_dir`` + :func:`read_skip_counts`).
    """

    def __init__(
        self,
        dataset: Any,
        processor_or_feature_extractor: Any,
        *,
        base_dir: str | os.PathLike | None = None,
        require_durations: bool = False,
        with_occurrences: bool = False,
        rank_sharded: tuple[int, int] | None = None,
        skip_log_dir: str | os.PathLike | None = None,
        history: int = 4096,
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.mode = _source_kind(dataset)
        tool = processor_or_feature_extractor
        if hasattr(tool, "feature_extractor") and hasattr(tool, "encode_phonemized"):
            self.processor, self.feature_extractor = tool, tool.feature_extractor
        else:
            self.processor, self.feature_extractor = None, tool
        self.sampling_rate = int(self.feature_extractor.sampling_rate)
        self.hop_length = int(self.feature_extractor.hop_length)
        self.base_dir = os.fspath(base_dir) if base_dir is not None else None
        self.require_durations = require_durations
        self.with_occurrences = with_occurrences
        self.rank_sharded = tuple(rank_sharded) if rank_sharded is not None else None
        self.skip_log_dir = os.fspath(skip_log_dir) if skip_log_dir is not None else None
        self.skipped: Counter[str] = Counter()
        #: id → reason of every example skipped (first reason seen).
        self.skipped_ids: dict[str, str] = {}
        self._pos = _Position()
        self._pending: dict | None = None
        self._history: deque[_Snapshot] = deque(maxlen=max(1, history))

    # ------------------------------------------------------------------ iteration
    def set_epoch(self, epoch: int) -> None:
        """Ignored: the stream counts its own passes, so a resumed run keeps the same order.

        (Trainer/Accelerate call this with their epoch count, which restarts at 0 on resume for
        ``max_steps`` training.)
        """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        pending, self._pending = self._pending, None
        if pending is not None:
            self._restore_position(pending)
        elif self._pos.consumed or self._pos.yielded:  # a new pass after a partial or full one
            self._pos.epoch_lengths.append(self._pos.yielded)
            self._pos.epoch += 1
            self._pos.consumed = self._pos.yielded = 0
        resume_from = self._pos.consumed
        for example in self._source(resume_from, pending, worker, workers):
            self._pos.consumed += 1
            out = self._process(example)
            if out is None:
                continue
            self._pos.yielded += 1
            self._pos.yielded_total += 1
            self._history.append(self._snapshot())
            yield out
        self._pos.epoch_lengths.append(self._pos.yielded)
        self._pos.epoch += 1
        self._pos.consumed = self._pos.yielded = 0

    def _source(self, start: int, pending: dict | None, worker: int, workers: int) -> Iterator[Any]:
        """Source examples of the current pass, from ``start`` on (this worker's share)."""
        if self.mode == "index":
            for index in range(start, len(self.dataset)):
                if index % workers == worker:
                    yield self.dataset[index]
            return
        dataset = self.dataset
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(self._pos.epoch)
        if self.mode == "native":
            if pending is not None and pending.get("hf_state") is not None:
                dataset.load_state_dict(pending["hf_state"])
            try:
                yield from dataset
            finally:
                if hasattr(dataset, "_starting_state_dict"):
                    dataset._starting_state_dict = None  # resume once, not on every later pass
            return
        # replay: the seeded order again, the first `start` examples dropped undecoded
        for index, example in enumerate(dataset):
            if index >= start and (workers == 1 or index % workers == worker):
                yield example

    # ------------------------------------------------------------------ processing
    def _skip(self, example: Any, reason: str, detail: str) -> None:
        identifier = str(example.get("id")) if isinstance(example, Mapping) else "<not a mapping>"
        self.skipped[reason] += 1
        if identifier not in self.skipped_ids:
            self.skipped_ids[identifier] = reason
            logger.warning("skipping example %r (%s): %s", identifier, reason, detail)
        if self.skip_log_dir is not None:
            self._write_skip_file()

    def _write_skip_file(self) -> None:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        rank = self.rank_sharded[0] if self.rank_sharded is not None else 0
        os.makedirs(self.skip_log_dir, exist_ok=True)
        path = os.path.join(self.skip_log_dir, f"skips-rank{rank}-worker{worker}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump({"skipped": dict(self.skipped), "ids": self.skipped_ids}, handle, ensure_ascii=False)
        os.replace(path + ".tmp", path)

    def _process(self, example: Any) -> dict[str, Any] | None:
        try:
            return self._process_or_raise(example)
        except Exception as err:  # never crash the stream on one example
            self._skip(example, "error", f"{type(err).__name__}: {err}")
            return None

    def _process_or_raise(self, example: Any) -> dict[str, Any] | None:
        problems = example_problems(example)
        if problems:
            phonemes = example.get("phonemes") if isinstance(example, Mapping) else None
            unknown = isinstance(phonemes, (list, tuple)) and any(
                isinstance(p, str) and not is_symbol(p) for p in phonemes
            )
            self._skip(example, "unknown_phoneme" if unknown else "schema", "; ".join(problems))
            return None
        phonemes, durations = example.get("phonemes"), example.get("phoneme_durations")
        if self.require_durations and (phonemes is None or durations is None):
            self._skip(example, "schema", "no phonemes/phoneme_durations")
            return None
        try:
            wave = decode_example_audio(example, self.sampling_rate, self.base_dir)
        except FileNotFoundError as err:
            self._skip(example, "missing_audio", str(err))
            return None
        except (AudioError, TypeError, ValueError, OSError) as err:
            self._skip(example, "bad_audio", str(err))
            return None
        num_frames = wave.shape[0] // self.hop_length
        if num_frames < 1:
            self._skip(example, "too_short", f"{wave.shape[0]} samples < hop_length {self.hop_length}")
            return None
        problems = example_problems(example, num_frames=num_frames)
        if problems:
            self._skip(example, "duration_mismatch", "; ".join(problems))
            return None
        try:
            features = self.feature_extractor(
                wave, sampling_rate=self.sampling_rate, padding=False, return_tensors=None
            )["input_features"][0]  # (frames, n_mels)
        except Exception as err:
            self._skip(example, "feature_error", f"{type(err).__name__}: {err}")
            return None
        out: dict[str, Any] = {
            "id": str(example["id"]),
            "speaker": str(example["speaker"]),
            "num_frames": num_frames,
            "input_features": np.asarray(features, dtype=np.float32),
        }
        if self.processor is not None:
            tokens = self._tokens(example)
            if tokens is None:
                return None
            out.update(tokens)
        if durations is not None:
            durations = [int(d) for d in durations]
            out["phoneme_durations"] = [0, *durations, 0] if self.processor is not None else durations
        if self.with_occurrences and durations is not None:
            out["occurrences"] = phoneme_occurrences(example)
        return out

    def _tokens(self, example: Mapping[str, Any]) -> dict[str, list[int]] | None:
        text = example.get("stressed_text") or example["text"]
        try:
            phonemized = self.processor.phonemize(text)
        except Exception as err:
            self._skip(example, "text_error", f"{type(err).__name__}: {err}")
            return None
        stored = example.get("phonemes")
        if stored is not None:
            stored = list(stored)
            words = word_indices(stored)
            stored_word_ids = [w if is_phoneme(s) else -1 for s, w in zip(stored, words, strict=True)]
            if (max(words) + 1 if words else 0) != len(phonemized.words):
                self._skip(
                    example,
                    "word_mismatch",
                    f"stored phonemes have {max(words) + 1 if words else 0} words, the text {len(phonemized.words)}",
                )
                return None
            phonemized = replace(phonemized, phonemes=stored, phoneme_word_ids=stored_word_ids)
        try:
            encoded = self.processor.encode_phonemized([phonemized], padding=False)
        except Exception as err:
            self._skip(example, "text_error", f"{type(err).__name__}: {err}")
            return None
        keys = ("phoneme_input_ids", "phoneme_word_ids", "bpe_input_ids", "bpe_word_ids")
        return {key: list(encoded[key][0]) for key in keys}

    # ------------------------------------------------------------------ state
    def _snapshot(self) -> _Snapshot:
        native = self.mode == "native" and self._pos.consumed > 0
        hf_state = self.dataset.state_dict() if native else None
        return _Snapshot(
            self._pos.yielded_total, self._pos.epoch, self._pos.consumed, self._pos.yielded,
            dict(self.skipped), hf_state,
        )  # fmt: skip

    def state_dict(self, at_examples: int | None = None) -> dict[str, Any]:
        """JSON-able position of the stream.

        Args:
            at_examples: the state right after the ``at_examples``-th yielded example (counted
                over all passes) instead of now; it must be among the last ``history`` yielded.
                Use it when a consumer (e.g. Accelerate's one-batch lookahead) has pulled more
                than it has used.
        """
        if at_examples is None or at_examples == self._pos.yielded_total:
            snap = self._snapshot()
        else:
            snap = next((s for s in self._history if s.yielded_total == at_examples), None)
            if snap is None:
                raise ValueError(
                    f"no saved position after {at_examples} examples (have "
                    f"{[s.yielded_total for s in (self._history[0], self._history[-1])] if self._history else []})"
                )
        ended = [n for n in self._pos.epoch_lengths]
        return {
            "version": 1,
            "mode": self.mode,
            "epoch": snap.epoch,
            "consumed": snap.consumed,
            "yielded": snap.yielded,
            "yielded_total": snap.yielded_total,
            "epoch_lengths": ended[: snap.epoch],
            "skipped": snap.skipped,
            "skipped_ids": dict(self.skipped_ids),
            "hf_state": snap.hf_state,
            "rank_sharded": list(self.rank_sharded) if self.rank_sharded else None,
        }

    def examples_after_batches(self, num_batches: int, batch_size: int) -> int:
        """Examples yielded by the end of batch ``num_batches`` (passes may end on a partial batch)."""
        total = 0
        for length in self._pos.epoch_lengths:
            batches = math.ceil(length / batch_size)
            if num_batches < batches:
                break
            total += length
            num_batches -= batches
        return total + num_batches * batch_size

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state_dict` output on the next ``iter()`` (same source, same shard)."""
        if state.get("version") != 1:
            raise ValueError(f"unknown stream state version {state.get('version')!r}")
        if state["mode"] != self.mode:
            raise ValueError(f"state was saved by a {state['mode']!r} stream, this one is {self.mode!r}")
        saved = tuple(state["rank_sharded"]) if state.get("rank_sharded") else None
        if saved != self.rank_sharded:
            raise ValueError(f"state belongs to rank shard {saved}, this stream is {self.rank_sharded}")
        self._pending = dict(state)
        self.skipped = Counter(state.get("skipped", {}))
        self.skipped_ids = dict(state.get("skipped_ids", {}))

    def _restore_position(self, state: Mapping[str, Any]) -> None:
        self._pos = _Position(
            int(state["epoch"]), int(state["consumed"]), int(state["yielded"]),
            int(state["yielded_total"]), list(state.get("epoch_lengths", [])),
        )  # fmt: skip
        self._history.clear()

    def report(self) -> str:
        """One line per skip reason, plus totals."""
        total = sum(self.skipped.values())
        lines = [
            f"yielded {self._pos.yielded_total} examples, skipped {total} "
            f"({len(self.skipped_ids)} distinct ids)"
        ]
        lines += [f"  {reason}: {count}" for reason, count in self.skipped.most_common()]
        return "\n".join(lines)


def read_skip_counts(skip_log_dir: str | os.PathLike) -> Counter[str]:
    """Sum the per-worker (and per-rank) skip counts a stream wrote with ``skip_log_dir``."""
    total: Counter[str] = Counter()
    if not os.path.isdir(skip_log_dir):
        return total
    for name in sorted(os.listdir(skip_log_dir)):
        if name.startswith("skips-") and name.endswith(".json"):
            with open(os.path.join(skip_log_dir, name), encoding="utf-8") as handle:
                total.update(json.load(handle)["skipped"])
    return total


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


# ---------------------------------------------------------------------------------- occurrences
class OccurrenceIndex:
    """Every :class:`PhonemeOccurrence` of a set of canonical examples, with lookups.

    Built from examples' ``phonemes`` + ``phoneme_durations`` only (no audio is read); examples
    without them, or with a problem :func:`example_problems` reports, are skipped and counted
    in :attr:`skipped`. ``keep_stress=False`` groups ``ˈa`` with ``a``.
    """

    def __init__(
        self, examples: Iterable[Mapping[str, Any]], min_frames: int = 1, keep_stress: bool = True
    ) -> None:
        self.keep_stress = keep_stress
        self.occurrences: list[PhonemeOccurrence] = []
        self.skipped: Counter[str] = Counter()
        self._by_phoneme: dict[str, list[int]] = {}
        self._by_utterance: dict[str, list[int]] = {}
        for example in examples:
            if example.get("phonemes") is None or example.get("phoneme_durations") is None:
                self.skipped["no_durations"] += 1
                continue
            if example_problems(example):
                self.skipped["schema"] += 1
                continue
            for occurrence in phoneme_occurrences(example, min_frames):
                self._add(occurrence)
            self._by_utterance.setdefault(str(example["id"]), [])

    @classmethod
    def from_occurrences(
        cls, occurrences: Iterable[PhonemeOccurrence], keep_stress: bool = True
    ) -> OccurrenceIndex:
        """An index over already extracted occurrences (kept in order; no schema check)."""
        index = cls((), keep_stress=keep_stress)
        for occurrence in occurrences:
            index._add(occurrence)
        return index

    def _add(self, occurrence: PhonemeOccurrence) -> None:
        index = len(self.occurrences)
        self.occurrences.append(occurrence)
        self._by_phoneme.setdefault(occurrence.identity(self.keep_stress), []).append(index)
        self._by_utterance.setdefault(occurrence.utterance_id, []).append(index)

    def __len__(self) -> int:
        return len(self.occurrences)

    def __getitem__(self, index: int) -> PhonemeOccurrence:
        return self.occurrences[index]

    def __iter__(self) -> Iterator[PhonemeOccurrence]:
        return iter(self.occurrences)

    @property
    def phonemes(self) -> list[str]:
        """Identities present, sorted."""
        return sorted(self._by_phoneme)

    @property
    def utterance_ids(self) -> list[str]:
        return list(self._by_utterance)

    def by_phoneme(self, identity: str) -> list[PhonemeOccurrence]:
        """Occurrences of one identity (``"ˈa"``; ``"a"`` covers both with ``keep_stress=False``)."""
        return [self.occurrences[i] for i in self._by_phoneme.get(identity, [])]

    def indices_by_phoneme(self, identity: str) -> list[int]:
        """Positions in :attr:`occurrences` of one identity (what a sampler draws from)."""
        return list(self._by_phoneme.get(identity, []))

    def by_utterance(self, utterance_id: str) -> list[PhonemeOccurrence]:
        return [self.occurrences[i] for i in self._by_utterance.get(utterance_id, [])]

    def counts(self) -> Counter[str]:
        """Occurrences per identity."""
        return Counter({identity: len(ids) for identity, ids in self._by_phoneme.items()})

    def speakers_of(self, identity: str) -> Counter[str]:
        """Occurrences per speaker for one identity."""
        return Counter(self.occurrences[i].speaker for i in self._by_phoneme.get(identity, []))

    def frame_quantiles(self, identity: str, q: Sequence[float] = (0.1, 0.5, 0.9)) -> list[float]:
        """Duration quantiles (frames) of one identity; empty list when absent."""
        frames = [self.occurrences[i].num_frames for i in self._by_phoneme.get(identity, [])]
        return [float(x) for x in np.quantile(frames, q)] if frames else []


def iter_occurrences(
    examples: Iterable[Mapping[str, Any]], min_frames: int = 1
) -> Iterator[tuple[Mapping[str, Any], list[PhonemeOccurrence]]]:
    """Streamed occurrence index: ``(example, occurrences)`` for every indexable example.

    Works on a :class:`RobustExampleStream` built with ``with_occurrences=True`` (its outputs
    already carry them) or on raw canonical examples; examples without durations are passed over.
    """
    for example in examples:
        if "occurrences" in example:
            yield example, example["occurrences"]
        elif example.get("phonemes") is not None and example.get("phoneme_durations") is not None:
            yield example, phoneme_occurrences(example, min_frames)
