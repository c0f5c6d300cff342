"""A robust example stream: canonical examples → mels (+ both token streams), every bad one skipped and counted.

::

    source (🤗 Dataset / IterableDataset / list, often from sharding.shard_for_rank)
      ─► schema check ─► decode (soundfile + soxr) ─► frame + duration check ─► log-mel
      ─► processor: both token streams, aligned to stored phonemes ─► dict per example
      (a failing step skips the example: logged once, counted by reason in ``skipped``)

Resume
------
:meth:`RobustExampleStream.state_dict` gives the position (source examples consumed in the
current pass, pass number, skip counters). Map-style sources resume by index; 🤗 iterable sources
without a shuffle buffer resume through ``IterableDataset.state_dict()``; sources with a shuffle
buffer (whose content 🤗 datasets does not save) resume by replaying the seeded order and discarding
the consumed examples *undecoded* (no audio decoding, so cheap but O(consumed) reads). Either way
the resumed stream continues exactly where the saved one stopped (no repeats, no gaps).
:mod:`prosody_tts.data.stream_state` writes that state into every Trainer checkpoint. Exact state
is tracked in the process that iterates the stream: use ``dataloader_num_workers=0`` for the train
stream when exact resume matters (see docs/streaming.md).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..text.errors import AudioError, WordMismatchError
from ..text.inventory import is_symbol
from .occurrences import phoneme_occurrences
from .schema import decode_example_audio, example_problems

logger = logging.getLogger(__name__)


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
    "alignment",  # the aligner (``aligner=``) scored the utterance below its threshold, or it is too short
    "error",  # anything else (the exception type is logged)
)


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
        aligner: a :class:`~prosody_tts.modeling.phoneme_aligner.PhonemeAlignerModel`: examples without
            durations get them from it on the fly (with a processor; see :func:`~.alignment.align_processed`),
            those it scores below ``min_alignment_score`` (default: its config's) are skipped as ``"alignment"``.
        rank_sharded: ``(rank, world_size)`` when the dataset came from :func:`~prosody_tts.data.sharding.shard_for_rank`;
            recorded in the saved state, so a state is never restored into another rank's shard.
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
        aligner: Any = None,
        min_alignment_score: float | None = None,
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
        if aligner is not None and self.processor is None:
            raise ValueError("aligning on the fly needs a DualStreamProcessor (phoneme ids), not a bare feature extractor")
        self.aligner = aligner.eval() if aligner is not None else None
        self.min_alignment_score = (
            float(min_alignment_score) if min_alignment_score is not None
            else (aligner.config.min_alignment_score if aligner is not None else None)
        )  # fmt: skip
        self.with_occurrences = with_occurrences
        self.rank_sharded = tuple(rank_sharded) if rank_sharded is not None else None
        self.skip_log_dir = os.fspath(skip_log_dir) if skip_log_dir is not None else None
        self.skipped: Counter[str] = Counter()
        #: id → reason of every example skipped (first reason seen).
        self.skipped_ids: dict[str, str] = {}
        #: id → what was wrong (the logged detail of that first reason).
        self.skip_details: dict[str, str] = {}
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
            self.skip_details[identifier] = detail
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

    def process_example(self, example: Any) -> dict[str, Any] | None:
        """One canonical example through the stream's steps (outside iteration): the processed dict,
        or None when it is skipped (then counted in :attr:`skipped`, its reason in :attr:`skipped_ids`)."""
        return self._process(example)

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
        if self.require_durations and self.aligner is None and (phonemes is None or durations is None):
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
        if durations is None and self.aligner is not None:
            from .alignment import align_processed

            durations, _, score = align_processed(self.aligner, out, self.processor)
            if durations is None or score < self.min_alignment_score:
                detail = "fewer frames than phonemes" if durations is None else f"score {score:.3f} < {self.min_alignment_score}"
                self._skip(example, "alignment", detail)
                return None
            phonemes = self.processor.tokenizer.convert_ids_to_tokens(out["phoneme_input_ids"][1:-1])
            example = {**example, "phonemes": phonemes, "phoneme_durations": durations}
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
        if stored is not None:  # the stored phonemes carry the durations: the stream is built from them
            try:
                phonemized = phonemized.with_phonemes(stored)
            except WordMismatchError as err:
                self._skip(example, "word_mismatch", f"stored {err}")
                return None
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
