"""Text-only examples → token dicts for stage-1 MLM on text corpora (Wikipedia, FineWeb-2, …).

:class:`TextTokenStream` runs the processor's front-end on each text and yields the two token
streams with their word ids. A text the front-end refuses is skipped and counted (never raised),
like :class:`~.streaming.RobustExampleStream` does for speech. It counts what it consumed so a
resumed run can skip exactly that many source texts (``state_dict`` / ``load_state_dict``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch

logger = logging.getLogger(__name__)

__all__ = ["TextTokenStream", "encode_text"]

TOKEN_KEYS = ("phoneme_input_ids", "phoneme_word_ids", "bpe_input_ids", "bpe_word_ids")


def encode_text(processor: Any, text: str) -> dict[str, list[int]]:
    """Both token streams and word ids of one text (raises the front-end's error)."""
    encoded = processor.encode_phonemized([processor.phonemize(text)], padding=False)
    return {key: list(encoded[key][0]) for key in TOKEN_KEYS}


class TextTokenStream(torch.utils.data.IterableDataset):
    """Tokenise a stream of texts (``str`` or mappings with ``text_column``) on the fly.

    Args:
        source: any re-iterable of texts or examples (e.g. a rank-sharded streaming dataset).
        processor: a ``DualStreamProcessor``.
        text_column: the key holding the text in mapping examples.
        min_phonemes: skip texts with fewer phoneme tokens (``"too_short"``).
        max_phonemes: skip texts longer than this many phoneme tokens (``"too_long"``) — a
            length cap is a skip, never a silent truncation.
    """

    def __init__(
        self,
        source: Iterable[Any],
        processor: Any,
        text_column: str = "text",
        min_phonemes: int = 3,
        max_phonemes: int | None = 512,
    ) -> None:
        super().__init__()
        self.source, self.processor = source, processor
        self.text_column, self.min_phonemes, self.max_phonemes = text_column, min_phonemes, max_phonemes
        self.skipped: Counter[str] = Counter()
        self.consumed = 0
        self._resume_at = 0

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.source, "set_epoch"):
            self.source.set_epoch(epoch)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        resume_at, self._resume_at = self._resume_at, 0
        self.consumed = 0
        for number, example in enumerate(self.source):
            self.consumed = number + 1
            if number < resume_at:
                continue
            text = example[self.text_column] if isinstance(example, Mapping) else example
            if not isinstance(text, str) or not text.strip():
                self._skip(number, "no_text", f"not a non-empty string: {type(text).__name__}")
                continue
            try:
                tokens = encode_text(self.processor, text)
            except Exception as err:  # the front-end's documented errors and anything unexpected
                self._skip(number, "text_error", f"{type(err).__name__}: {err}")
                continue
            length = len(tokens["phoneme_input_ids"])
            if length < self.min_phonemes + 2:  # + <s>, </s>
                self._skip(number, "too_short", f"{length - 2} phonemes")
                continue
            if self.max_phonemes is not None and length > self.max_phonemes:
                self._skip(number, "too_long", f"{length} phoneme tokens > max_phonemes {self.max_phonemes}")
                continue
            yield {"id": str(example.get("id", number)) if isinstance(example, Mapping) else str(number), **tokens}

    def _skip(self, number: int, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        if self.skipped[reason] <= 3:
            logger.warning("skipping text #%d (%s): %s", number, reason, detail)

    def state_dict(self) -> dict[str, Any]:
        return {"consumed": self.consumed, "skipped": dict(self.skipped)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._resume_at = int(state["consumed"])
        self.skipped = Counter(state.get("skipped", {}))
