"""The Russian text front-end: text → normalised → stressed → phonemes, each step inspectable.

:class:`RussianFrontend` chains the normaliser, the stress placer and a G2P backend and returns a
:class:`PhonemizedText` that keeps every intermediate form and the word alignment the two
encoder streams share:

* ``words``: the lexical words of the normalised text (without stress marks); word id = index;
* ``phonemes``: inventory symbols, words separated by ``#``, punctuation kept as tokens
  ("Привет, мир!" → ``p rʲ ɪ vʲ ˈe t , # mʲ ˈi r !``);
* ``phoneme_word_ids``: the word id of each symbol, ``-1`` (``NO_WORD``) for ``#`` and punctuation;
* ``word_char_spans``: each word's character span in ``plain_text`` (the text the BPE stream
  reads), which is how BPE tokens are assigned to words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from tqdm.auto import tqdm

from ..constants import NO_WORD
from .errors import (
    EmptyTextError,
    FrontendError,
    UnsupportedCharacterError,
    WordMismatchError,
)
from .inventory import PUNCTUATION, WORD_BOUNDARY, is_phoneme, is_symbol
from .stress import WORD_PATTERN, StressPlacer, strip_stress

_PUNCTUATION_SET = frozenset(PUNCTUATION)
_SPACE = re.compile(r"\s+")


def word_indices(phonemes: Sequence[str]) -> list[int]:
    """Word index of every symbol: the count of ``#`` boundaries before it (the front-end puts one
    ``#`` before every word but the first)."""
    indices, word = [], 0
    for symbol in phonemes:
        if symbol == WORD_BOUNDARY:
            word += 1
        indices.append(word)
    return indices


class G2PBackend(Protocol):
    def phonemize_phrase(self, words: Sequence[str]) -> list[list[str]]: ...


@dataclass
class PhonemizedText:
    """Every stage of the front-end for one text, plus the word alignment."""

    text: str
    normalized: str
    stressed: str
    words: list[str]
    stressed_words: list[str]
    word_phonemes: list[list[str]]
    phonemes: list[str]
    phoneme_word_ids: list[int]
    plain_text: str
    word_char_spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def phoneme_string(self) -> str:
        return " ".join(self.phonemes)

    def with_phonemes(self, phonemes: Sequence[str]) -> PhonemizedText:
        """This text with other phonemes for its words (e.g. a corpus' stored ones, whose durations
        are aligned to them); their word ids come from the ``#`` boundaries.

        Raises:
            WordMismatchError: the phonemes have another number of words than the text.
        """
        phonemes = list(phonemes)
        words = word_indices(phonemes)
        count = max(words) + 1 if words else 0
        if count != len(self.words):
            raise WordMismatchError(f"the phonemes have {count} words, the text {len(self.words)}")
        word_ids = [word if is_phoneme(symbol) else NO_WORD for symbol, word in zip(phonemes, words, strict=True)]
        return replace(self, phonemes=phonemes, phoneme_word_ids=word_ids)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "normalized": self.normalized,
            "stressed": self.stressed,
            "words": self.words,
            "phonemes": self.phonemes,
            "phoneme_word_ids": self.phoneme_word_ids,
        }


class RussianFrontend:
    """Normalise, stress and phonemise Russian text.

    Args:
        g2p: ``"rules"`` (the project's rule-based G2P, honours stress marks), ``"espeak"``
            (espeak-ng, an optional GPL extra: context-free stress, ignores ``+`` marks), or any
            object with ``phonemize_phrase(words) -> list[list[str]]``.
        normalizer: a callable ``str -> str``; default :class:`RussianNormalizer`.
        stress: a callable ``str -> str``; default :class:`StressPlacer` (silero-stress).

    Raises (from ``__call__``): ``TypeError`` for non-string input, :class:`EmptyTextError` for
    empty, whitespace-only or punctuation-only text, :class:`UnsupportedCharacterError` for
    characters that cannot be pronounced, :class:`StressMarkError` for a misplaced ``+``.

    Example:
        >>> frontend = RussianFrontend()
        >>> frontend("Привет, мир!").phonemes  # doctest: +SKIP
        ['p', 'rʲ', 'ɪ', 'vʲ', 'ˈe', 't', ',', '#', 'mʲ', 'ˈi', 'r', '!']
    """

    def __init__(
        self,
        g2p: Literal["rules", "espeak"] | G2PBackend = "rules",
        normalizer=None,
        stress=None,
    ):
        if normalizer is None:
            from .normalizer import RussianNormalizer

            normalizer = RussianNormalizer()
        self.normalizer = normalizer
        self.stress = stress if stress is not None else StressPlacer()
        if g2p == "rules":
            from .g2p import RussianG2P

            g2p = RussianG2P()
        elif g2p == "espeak":
            from .espeak_g2p import EspeakG2P

            g2p = EspeakG2P()
        elif isinstance(g2p, str):
            raise ValueError(f"unknown G2P backend {g2p!r}; expected 'rules', 'espeak' or an object")
        self.g2p = g2p

    def __call__(self, text: str) -> PhonemizedText:
        self._check_text(text)
        normalized = self.normalizer(text)
        stressed = self.stress(normalized)
        return self._phonemize(text, normalized, stressed)

    def batch(self, texts: Iterable[str], show_progress: bool = False, chunk_size: int = 256) -> list[PhonemizedText]:
        """Run the front-end over many texts, ``chunk_size`` at a time (stress is batched).

        The result equals ``[self(text) for text in texts]``; a progress bar with ``show_progress``.
        """
        texts = list(texts)
        results: list[PhonemizedText] = []
        with tqdm(total=len(texts), disable=not show_progress, desc="phonemize", unit="sent") as progress:
            for start in range(0, len(texts), chunk_size):
                chunk = texts[start : start + chunk_size]
                for text in chunk:
                    self._check_text(text)
                normalized = [self.normalizer(text) for text in chunk]
                stress_many = getattr(self.stress, "stress_many", None)
                stressed = stress_many(normalized) if stress_many else [self.stress(t) for t in normalized]
                results.extend(self._phonemize(*item) for item in zip(chunk, normalized, stressed, strict=True))
                progress.update(len(chunk))
        return results

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _check_text(text: object) -> None:
        if not isinstance(text, str):
            raise TypeError(f"the front-end expects a str, got {type(text).__name__}")
        if not text.strip():
            raise EmptyTextError("the text is empty or whitespace only")

    def _phonemize(self, text: str, normalized: str, stressed: str) -> PhonemizedText:
        items = _split_items(stressed)  # words and punctuation marks, in order
        stressed_words = [value for kind, value in items if kind == "word"]
        if not stressed_words:
            raise EmptyTextError(f"no pronounceable word in {text!r}")
        plain_text = strip_stress(normalized)
        spans = [m.span() for m in WORD_PATTERN.finditer(plain_text)]
        words = [plain_text[start:end] for start, end in spans]
        if len(words) != len(stressed_words):
            raise FrontendError(
                f"stress placement changed the words of {normalized!r} ({len(words)} → {len(stressed_words)})"
            )

        # phonemise phrase by phrase: cross-word rules stop at punctuation
        word_phonemes: list[list[str]] = []
        phrase: list[str] = []
        for kind, value in [*items, ("punct", None)]:
            if kind == "word":
                phrase.append(value.lower())
            elif phrase:
                word_phonemes.extend(self.g2p.phonemize_phrase(phrase))
                phrase = []

        phonemes: list[str] = []
        word_ids: list[int] = []
        word_index = 0
        for kind, value in items:
            if kind == "word":
                symbols = word_phonemes[word_index]
                if not symbols:
                    raise FrontendError(f"the G2P produced no phoneme for the word {value!r}")
                if phonemes:
                    phonemes.append(WORD_BOUNDARY)
                    word_ids.append(NO_WORD)
                phonemes.extend(symbols)
                word_ids.extend([word_index] * len(symbols))
                word_index += 1
            else:
                phonemes.append(value)
                word_ids.append(NO_WORD)
        unknown = sorted({s for s in phonemes if not is_symbol(s)})
        if unknown:
            raise FrontendError(f"the G2P produced symbols outside the inventory: {unknown}")
        return PhonemizedText(
            text=text,
            normalized=normalized,
            stressed=stressed,
            words=words,
            stressed_words=stressed_words,
            word_phonemes=word_phonemes,
            phonemes=phonemes,
            phoneme_word_ids=word_ids,
            plain_text=plain_text,
            word_char_spans=spans,
        )


def _split_items(stressed: str) -> list[tuple[str, str]]:
    """Split a normalised, stressed text into ('word', w) and ('punct', p) items."""
    items: list[tuple[str, str]] = []
    last = 0
    for match in WORD_PATTERN.finditer(stressed):
        _add_gap(stressed, last, match.start(), items)
        items.append(("word", match.group(0)))
        last = match.end()
    _add_gap(stressed, last, len(stressed), items)
    return items


def _add_gap(text: str, start: int, end: int, items: list[tuple[str, str]]) -> None:
    for position in range(start, end):
        char = text[position]
        if char in _PUNCTUATION_SET:
            items.append(("punct", char))
        elif not char.isspace():
            raise UnsupportedCharacterError(char, position, text)
