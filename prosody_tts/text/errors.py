"""Exceptions raised by the text and audio front-end.

Every error the front-end raises for bad input is a :class:`FrontendError` (a ``ValueError``),
so callers can catch one class; the subclasses name the problem.
"""

from __future__ import annotations


class FrontendError(ValueError):
    """Base class for input the front-end cannot turn into phonemes or features."""


class EmptyTextError(FrontendError):
    """The text is empty, whitespace only, or has no pronounceable word (punctuation only)."""


class UnsupportedCharacterError(FrontendError):
    """The text holds a character the front-end cannot pronounce (emoji, CJK, control chars...)."""

    def __init__(self, char: str, position: int, text: str):
        self.char = char
        self.position = position
        name = _char_name(char)
        excerpt = text[max(0, position - 15) : position + 15]
        super().__init__(
            f"unsupported character {char!r} ({name}) at position {position} in {excerpt!r}; "
            "remove it or replace it with Russian text"
        )


class StressMarkError(FrontendError):
    """A ``+`` stress mark is not followed by a vowel, or a word holds two of them."""


class WordMismatchError(FrontendError):
    """Phonemes given for a text (e.g. a corpus' stored ones) have another number of words than the text."""


class AudioError(FrontendError):
    """Audio that cannot be turned into features: empty, NaN/inf, wrong shape or dtype."""


class TransliterationWarning(UserWarning):
    """Latin-script text was transliterated to Cyrillic (see ``normalizer.transliterate_latin``)."""


def _char_name(char: str) -> str:
    import unicodedata

    return unicodedata.name(char, f"U+{ord(char):04X}")
