"""Sentences and paragraphs of a Russian document (for text corpora: Wikipedia, FineWeb-2, …).

A sentence ends at ``. ! ? …`` (plus closing quotes/brackets) followed by whitespace and an
upper-case letter, a digit, an opening quote or a dash, except after an initial (``А. С. Пушкин``)
or an abbreviation of :data:`prosody_tts.text.normalizer.units.ABBREVIATIONS` (the list the
normaliser expands from). Paragraph breaks (newlines) always end a sentence.

Example:
    >>> split_sentences("Т. е. всё ясно. Нет? Да!")
    ['Т. е. всё ясно.', 'Нет?', 'Да!']
"""

from __future__ import annotations

import re

from .normalizer.units import ABBREVIATIONS

__all__ = ["clean_whitespace", "split_paragraphs", "split_sentences"]


def clean_whitespace(text: str) -> str:
    """Collapse runs of whitespace (newlines, tabs, NBSP) to one space and strip."""
    return " ".join(text.split())


_BOUNDARY = re.compile(r"[.!?…]+[»\"”')\]]*\s+")


def split_paragraphs(text: str) -> list[str]:
    """Non-empty lines of a document, whitespace-collapsed (Wikipedia/FineWeb put one paragraph a line)."""
    return [clean_whitespace(line) for line in text.splitlines() if line.strip()]


def split_sentences(text: str) -> list[str]:
    """Split a Russian paragraph into sentences.

    A boundary is a run of ``. ! ? …`` (plus closing quotes/brackets) followed by whitespace and
    an upper-case letter, a digit, an opening quote or a dash — except after an initial
    (``А. С. Пушкин``) or a common abbreviation (``г.``, ``т. е.``, ``др.``, ``им.``…).
    Paragraph breaks (newlines) are always boundaries.
    """
    sentences: list[str] = []
    for paragraph in split_paragraphs(text):
        start = 0
        for match in _BOUNDARY.finditer(paragraph):
            following = paragraph[match.end() : match.end() + 1]
            if not following or not (following.isupper() or following.isdigit() or following in '«"„“—–-('):
                continue
            if match.group().startswith(".") and _is_abbreviation(paragraph[start : match.start()]):
                continue
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def _is_abbreviation(before: str) -> bool:
    words = before.rsplit(None, 1)
    last = words[-1] if words else ""
    last = last.lstrip('(«"„“')
    return (len(last) == 1 and last.isalpha()) or last.lower() in ABBREVIATIONS
