"""Prepared corpora: every utterance decoded, turned into log-mels and tokenised once.

Stage 2 and 3 visit each utterance many times (once per sampled phoneme occurrence, every
epoch). Running the front-end (stress model) and the mel extractor each time would cap training
at the data path's rate, so :func:`prepare_corpus` runs :class:`~prosody_tts.data.streaming.RobustExampleStream`
over a source once and writes the processed rows into an Arrow file (memory-mapped, so a large
corpus does not sit in RAM). :class:`~prosody_tts.data.occurrences.OccurrenceDataset` then serves ``(utterance, occurrence)``
items to the phoneme batch samplers.

A prepared row (all lists are Python lists / numpy arrays):

======================== ====================================================================
``id``, ``speaker``      the source example's
``num_frames``           mel frames of the utterance
``input_features``       float32 (num_frames, num_mel_bins)
``phoneme_input_ids``    the processor's phoneme stream (``<s>`` … ``</s>``)
``phoneme_word_ids``     word index per phoneme id (-1 outside words)
``bpe_input_ids``        the BPE stream; ``bpe_word_ids`` its word ids
``phoneme_durations``    frames per phoneme id (0 for ``<s>`` / ``</s>``); sums to num_frames
``phonemes``             the phoneme symbols without ``<s>`` / ``</s>`` (what occurrences index)
======================== ====================================================================
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..constants import PREPARED_FILE, PREPARED_INFO
from .streaming import RobustExampleStream

logger = logging.getLogger(__name__)


__all__ = [
    "PREPARED_FILE",
    "PreparedCorpus",
    "prepare_corpus",
    "prepared_features",
]




def prepared_features(num_mel_bins: int):
    """The ``datasets.Features`` of a prepared row."""
    from datasets import Array2D, Features, List, Value

    ids = List(Value("int32"))
    return Features(
        {
            "id": Value("string"),
            "speaker": Value("string"),
            "num_frames": Value("int32"),
            "input_features": Array2D(shape=(None, num_mel_bins), dtype="float32"),
            "phoneme_input_ids": ids,
            "phoneme_word_ids": ids,
            "bpe_input_ids": ids,
            "bpe_word_ids": ids,
            "phoneme_durations": ids,
            "phonemes": List(Value("string")),
        }
    )


class PreparedCorpus:
    """A prepared split: the rows (a 🤗 ``Dataset`` in numpy format) and what was skipped.

    Attributes:
        rows: the prepared rows (see the module docstring).
        skipped: skip counts by reason (:data:`~.streaming.SKIP_REASONS`) from preparation.
        row_of: utterance id → row number.
    """

    def __init__(self, rows: Any, skipped: Mapping[str, int] | None = None) -> None:
        self.rows = rows.with_format("numpy") if hasattr(rows, "with_format") else rows
        self.skipped: Counter[str] = Counter(skipped or {})
        ids = rows["id"] if hasattr(rows, "column_names") else [row["id"] for row in rows]
        self.row_of: dict[str, int] = {}
        for number, identifier in enumerate(ids):
            identifier = str(identifier)
            if identifier in self.row_of:
                raise ValueError(f"utterance id {identifier!r} appears twice in the prepared corpus")
            self.row_of[identifier] = number

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return dict(self.rows[int(index)])

    def row(self, utterance_id: str) -> dict[str, Any]:
        return self[self.row_of[utterance_id]]

    @property
    def speakers(self) -> list[str]:
        """Speakers present, sorted (a stable speaker → id mapping for every rank)."""
        column = self.rows["speaker"] if hasattr(self.rows, "column_names") else [r["speaker"] for r in self.rows]
        return sorted({str(s) for s in column})

    @property
    def total_frames(self) -> int:
        column = self.rows["num_frames"] if hasattr(self.rows, "column_names") else [r["num_frames"] for r in self.rows]
        return int(np.sum(column))


def _rows(stream: RobustExampleStream, show_progress: bool, total: int | None, desc: str) -> Iterable[dict]:
    from tqdm.auto import tqdm

    tokenizer = stream.processor.tokenizer
    for out in tqdm(stream, total=total, desc=desc, unit="utt", disable=not show_progress):
        ids = [int(i) for i in out["phoneme_input_ids"]]
        yield {
            "id": out["id"],
            "speaker": out["speaker"],
            "num_frames": int(out["num_frames"]),
            "input_features": np.asarray(out["input_features"], dtype=np.float32),
            "phoneme_input_ids": ids,
            "phoneme_word_ids": [int(i) for i in out["phoneme_word_ids"]],
            "bpe_input_ids": [int(i) for i in out["bpe_input_ids"]],
            "bpe_word_ids": [int(i) for i in out["bpe_word_ids"]],
            "phoneme_durations": None if out.get("phoneme_durations") is None else [int(d) for d in out["phoneme_durations"]],
            "phonemes": tokenizer.convert_ids_to_tokens(ids[1:-1]),
        }


def prepare_corpus(
    dataset: Any,
    processor: Any,
    *,
    cache_dir: str | os.PathLike | None = None,
    base_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    show_progress: bool = True,
    desc: str = "preparing",
    require_durations: bool = True,
) -> PreparedCorpus:
    """Decode, extract log-mels and tokenise every example of ``dataset`` once.

    By default only examples with ``phonemes`` and ``phoneme_durations`` are kept (the occurrence
    samplers need frame spans); every other one is skipped and counted, never raised (see
    :class:`~.streaming.RobustExampleStream`). ``require_durations=False`` keeps transcribed
    examples without them (``phoneme_durations`` None), for heads that align by themselves (Grad-TTS).

    Args:
        dataset: canonical examples (a 🤗 ``Dataset``/``IterableDataset`` with undecoded audio or a list).
        processor: a ``DualStreamProcessor``.
        cache_dir: write the rows to ``cache_dir/prepared.arrow`` (memory-mapped; reused by the next
            call unless ``overwrite``); without it the rows are kept in memory.
        base_dir: folder relative audio paths are resolved against.

    Raises:
        ValueError: when no example survives preparation (the reasons are in the message).
    """
    from datasets import Dataset

    features = prepared_features(int(processor.feature_extractor.feature_size))
    if cache_dir is not None:
        cache = Path(cache_dir)
        arrow, info = cache / PREPARED_FILE, cache / PREPARED_INFO
        if arrow.is_file() and info.is_file() and not overwrite:
            meta = json.loads(info.read_text(encoding="utf-8"))
            source = _source_key(dataset)
            same_filter = meta.get("require_durations", True) == require_durations
            if same_filter and (source is None or meta.get("source") in (None, source)):
                logger.info("reusing prepared corpus %s (%d rows)", arrow, meta["rows"])
                return PreparedCorpus(Dataset.from_file(str(arrow)), meta.get("skipped"))
            logger.warning("the source or the filter of %s changed: preparing it again", arrow)
    stream = RobustExampleStream(dataset, processor, base_dir=base_dir, require_durations=require_durations)
    total = len(dataset) if hasattr(dataset, "__len__") else None
    rows = _rows(stream, show_progress, total, desc)
    if cache_dir is None:
        rows = list(rows)
        if not rows:  # Dataset.from_list([]) fails with an unrelated features error
            raise ValueError(f"no example survived preparation; skipped by reason: {dict(stream.skipped)}")
        prepared = Dataset.from_list(rows, features=features)
    else:
        from datasets.arrow_writer import ArrowWriter

        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / (PREPARED_FILE + ".partial")
        written = 0
        with ArrowWriter(features=features, path=str(partial)) as writer:
            for row in rows:
                writer.write(row)
                written += 1
            writer.finalize()
        if written == 0:  # keep whatever cache was there: an empty result never replaces it
            partial.unlink(missing_ok=True)
            raise ValueError(f"no example survived preparation; skipped by reason: {dict(stream.skipped)} ({arrow} kept as it was)")
        os.replace(partial, arrow)  # a crash never leaves a truncated prepared.arrow behind
        info.write_text(
            json.dumps(
                {"rows": stream._pos.yielded_total, "skipped": dict(stream.skipped), "source": _source_key(dataset),
                 "require_durations": require_durations},
                indent=2,
            ),
            encoding="utf-8",
        )
        prepared = Dataset.from_file(str(arrow))
    if len(prepared) == 0:
        raise ValueError(f"no example survived preparation; skipped by reason: {dict(stream.skipped)}")
    if stream.skipped:
        logger.warning("prepare_corpus skipped %d examples: %s", sum(stream.skipped.values()), dict(stream.skipped))
    return PreparedCorpus(prepared, stream.skipped)


def _source_key(dataset: Any) -> str | None:
    """A digest of a map-style source's example ids (None for streams and id-less sources).

    A cache prepared from other examples (a rebuilt corpus) is detected and prepared again.
    """
    if hasattr(dataset, "column_names") and "id" in dataset.column_names and not hasattr(dataset, "n_shards"):
        ids = dataset["id"]
    elif isinstance(dataset, list) and dataset and all(isinstance(e, Mapping) and "id" in e for e in dataset):
        ids = [e["id"] for e in dataset]
    else:
        return None
    return hashlib.sha256("\n".join(map(str, ids)).encode("utf-8")).hexdigest()[:32]
