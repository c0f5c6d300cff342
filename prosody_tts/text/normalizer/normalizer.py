"""
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from typing import Literal

from ..errors import (
    EmptyTextError,
    StressMarkError,
    TransliterationWarning,
    UnsupportedCharacterError,
)
from .dates import (
    _DAY_MONTH,
    _ISO_DATE,
    _MONTH_YEAR,
    _NUM_DATE,
    _RANGE,
    _TIME,
    _sub_day_month,
    _sub_iso_date,
    _sub_month_year,
    _sub_num_date,
    _sub_time,
)
from .latin import (
    _HAS_CYR,
    _HAS_LATIN,
    _LATIN_WORD,
    _MIXED_TOKEN,
    _ROMAN,
    _ROMAN_CENTURY,
    _sub_mixed_token,
    _sub_roman,
    _sub_roman_century,
    transliterate_latin,
)
from .numbers import (
    _COMPOUND,
    _NUMBER,
    _ORD_SUFFIX,
    _sub_compound,
    _sub_number,
    _sub_ordinal_suffix,
)
from .patterns import (
    _CYR,
    _INVISIBLE,
    _LATIN_RANGE,
    _LETTER_DIGIT,
    _PUNCT_CHARS,
    _PUNCT_IN,
    _SYMBOLS,
    _VOWELS,
    _WS,
    _dot_after,
    _prev_word,
)
from .units import _ABBREVIATIONS, _CURRENCY_FIRST, _STREET, _sub_currency_first

__all__ = ["RussianNormalizer", "normalize_text", "transliterate_latin"]


# ---------------------------------------------------------------- character validation
_BAD_CHAR = re.compile(f"[^{_CYR}{_LATIN_RANGE}0-9{_WS}{_INVISIBLE}\u0300-\u036f{_PUNCT_IN}{_SYMBOLS}]")


_ORPHAN_MARK = re.compile(f"(?<![{_CYR}{_LATIN_RANGE}\u0300-\u036f])[\u0300-\u036f]")


_STRESS_ACCENT = re.compile(f"([{_VOWELS}])[\u0301\u0300]")


_CYR_MARK = re.compile(f"(?<=[{_CYR}])[\u0300-\u036f]")


_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


_SPACES = re.compile(f"[{_WS}]+")


# ---------------------------------------------------------------- plus sign
_PLUS_BETWEEN = re.compile(r"(?<=\d)\s*\+\s*(?=\d)")


_PLUS_NUMBER = re.compile(r"\+(?=\s*\d)|(?<=\d)\+")


_BAD_PLUS = re.compile(f"\\+(?![{_VOWELS}])")


# ---------------------------------------------------------------- cheap guards (skip passes)
_DIGIT = re.compile(r"\d")


_ABBR_ANY = re.compile(r"\b(?:т\.|др\.|им\.|д\.|г\.|гг\.|ул\.)|[№§&=]")


_ANY_DASH = re.compile(r"[-–—−‒―‐‑]")


_MONTH_HINT = re.compile(r"(?:январ|феврал|март|апрел|ма[йяею]|июн|июл|август|сентябр|октябр|ноябр|декабр)")


_CURRENCY_HINT = re.compile(r"[$€£₽]")


# ---------------------------------------------------------------- punctuation
_INNER_APOSTROPHE = re.compile(f"(?<=[{_CYR}{_LATIN_RANGE}])['’](?=[{_CYR}{_LATIN_RANGE}])")


_QUOTES = re.compile("[\"«»„“”‟'‘’‚‛‹›]")


_BRACKETS = re.compile(r"[()\[\]{}]")


_ELLIPSIS = re.compile(r"\.{2,}|…+")


_DASHES = re.compile(r"[–—−‒―‐‑]|-{2,}")


_LOOSE_HYPHEN = re.compile(f"(?<![{_CYR}+])-|-(?![{_CYR}+])")


_PUNCT_RUN = re.compile(f"\\s*([{_PUNCT_CHARS}](?:\\s*[{_PUNCT_CHARS}])*)\\s*")


_LEADING_PUNCT = re.compile(f"^[\\s{_PUNCT_CHARS}]+")


_RANK = {".": 3, "?": 3, "!": 3, "…": 3, ";": 2, ":": 2, "—": 2, ",": 1}


_OUTPUT_BAD = re.compile(f"[^{_CYR}+\\- {_PUNCT_CHARS}]")


def _sub_punct_run(m: re.Match) -> str:
    run = [c for c in m.group(1) if not c.isspace()]
    best = max(_RANK[c] for c in run)
    mark = next(c for c in run if _RANK[c] == best)
    return mark + " "


# ================================================================ the normaliser
class RussianNormalizer:
    """Turn raw Russian text into the letters-and-prosodic-punctuation form the G2P expects.

    ``latin="transliterate"`` (default) transliterates Latin words with :func:`transliterate_latin`
    and warns (:class:`TransliterationWarning`, once per call); ``latin="error"`` raises
    :class:`UnsupportedCharacterError` instead.
    """

    def __init__(self, latin: Literal["transliterate", "error"] = "transliterate"):
        if latin not in ("transliterate", "error"):
            raise ValueError(f"latin must be 'transliterate' or 'error', got {latin!r}")
        self.latin = latin

    def __repr__(self) -> str:
        return f"RussianNormalizer(latin={self.latin!r})"

    def __call__(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        original = text
        if not _INVISIBLE_RE.sub("", text).strip():
            raise EmptyTextError("the text is empty or whitespace only")
        self._validate(original)

        s = unicodedata.normalize("NFC", text)
        s = _STRESS_ACCENT.sub(r"+\1", s)
        bad = _CYR_MARK.search(s)
        if bad:
            ch = bad.group(0)
            raise UnsupportedCharacterError(ch, max(original.find(ch), 0), original)
        s = _INVISIBLE_RE.sub("", s)
        s = _SPACES.sub(" ", s)
        has_latin = _HAS_LATIN.search(s) is not None
        if has_latin:
            s = _MIXED_TOKEN.sub(_sub_mixed_token, s)
        s = self._plus(s, original)
        s = self._abbreviations(s)
        if _DIGIT.search(s):
            s = self._numbers(s)
        if has_latin:
            s = _INNER_APOSTROPHE.sub("", s)
            s = self._roman_and_latin(s, original)
        s = self._punctuation(s)
        bad = _OUTPUT_BAD.search(s)
        if bad:
            ch = bad.group(0)
            raise UnsupportedCharacterError(ch, max(original.find(ch), 0), original)
        if not _HAS_CYR.search(s):
            raise EmptyTextError(f"no pronounceable word in {original[:40]!r}")
        return s

    # ------------------------------------------------------------ passes
    @staticmethod
    def _validate(text: str) -> None:
        m = _BAD_CHAR.search(text) or _ORPHAN_MARK.search(text)
        if m:
            raise UnsupportedCharacterError(m.group(0), m.start(), text)

    @staticmethod
    def _plus(s: str, original: str) -> str:
        if "+" not in s:
            return s
        s = _PLUS_BETWEEN.sub(" плюс ", s)
        s = _PLUS_NUMBER.sub(" плюс ", s)
        m = _BAD_PLUS.search(s)
        if m:
            nxt = s[m.end() : m.end() + 1]
            if nxt and _HAS_CYR.match(nxt):
                raise StressMarkError(
                    f"'+' must stand before a vowel, not {nxt!r}: {s[max(0, m.start() - 15) : m.end() + 15]!r}"
                )
            plus = [i for i, c in enumerate(original) if c == "+"]
            pos = next(
                (i for i in plus if original[i + 1 : i + 2] not in _VOWELS or i + 1 == len(original)), plus[0]
            )
            raise UnsupportedCharacterError("+", pos, original)
        return s

    @staticmethod
    def _abbreviations(s: str) -> str:
        if _ABBR_ANY.search(s):
            for pattern, repl, keep_dot in _ABBREVIATIONS:
                if keep_dot:
                    s = pattern.sub(lambda m, r=repl: r + _dot_after(m.string, m.end()), s)
                else:
                    s = pattern.sub(repl, s)
            s = _STREET.sub(
                lambda m: "улице " if _prev_word(m.string, m.start()) in ("на", "по", "в") else "улица ", s
            )
        return s

    @staticmethod
    def _numbers(s: str) -> str:
        s = _LETTER_DIGIT.sub(" ", s)
        if "-" in s:
            s = _ISO_DATE.sub(_sub_iso_date, s)
        if "." in s:
            s = _NUM_DATE.sub(_sub_num_date, s)
        if ":" in s:
            s = _TIME.sub(_sub_time, s)
        if _ANY_DASH.search(s):
            s = _ORD_SUFFIX.sub(_sub_ordinal_suffix, s)
            s = _COMPOUND.sub(_sub_compound, s)
            s = _RANGE.sub(" — ", s)
        if _MONTH_HINT.search(s):
            s = _MONTH_YEAR.sub(_sub_month_year, s)
            s = _DAY_MONTH.sub(_sub_day_month, s)
        if _CURRENCY_HINT.search(s):
            s = _CURRENCY_FIRST.sub(_sub_currency_first, s)
        return _NUMBER.sub(_sub_number, s)

    def _roman_and_latin(self, s: str, original: str) -> str:
        s = _ROMAN_CENTURY.sub(_sub_roman_century, s)
        s = _ROMAN.sub(_sub_roman, s)
        words = _LATIN_WORD.findall(s)
        if not words:
            return s
        if self.latin == "error":
            first = words[0]
            m = re.search(f"(?<![{_LATIN_RANGE}]){re.escape(first)}(?![{_LATIN_RANGE}])", original)
            pos = m.start() if m else max(original.find(first[0]), 0)
            raise UnsupportedCharacterError(original[pos] if m else first[0], pos, original)
        s = _LATIN_WORD.sub(lambda m: transliterate_latin(m.group(0)), s)
        unique = list(dict.fromkeys(words))
        warnings.warn(
            f"transliterated Latin-script words: {', '.join(unique[:10])}"
            + (f" (+{len(unique) - 10} more)" if len(unique) > 10 else ""),
            TransliterationWarning,
            stacklevel=4,
        )
        return s

    @staticmethod
    def _punctuation(s: str) -> str:
        if _QUOTES.search(s):
            s = _QUOTES.sub(" ", s)
        if _BRACKETS.search(s):
            s = _BRACKETS.sub(" , ", s)
        if ".." in s or "…" in s:
            s = _ELLIPSIS.sub("…", s)
        if _ANY_DASH.search(s):
            s = _DASHES.sub(" — ", s)
            s = _LOOSE_HYPHEN.sub(" — ", s)
        s = _PUNCT_RUN.sub(_sub_punct_run, s)
        s = _LEADING_PUNCT.sub("", s)
        return " ".join(s.split())


_DEFAULT = RussianNormalizer()


def normalize_text(text: str) -> str:
    """Normalise ``text`` with the default :class:`RussianNormalizer` (Latin transliterated)."""
    return _DEFAULT(text)
