"""Latin and Roman: homoglyph repair, Roman numerals (centuries, monarchs), transliteration of Latin words.
"""

from __future__ import annotations

import re
import unicodedata

from .numerals import (
    ordinal,
)
from .patterns import (
    _CENTURY_NOUNS,
    _CYR,
    _L,
    _LATIN_RANGE,
    _NEXT_WORD,
    _PREV_WORD,
    _date_case,
    _dot_after,
    _prev_word,
)

# ---------------------------------------------------------------- homoglyphs
_HOMOGLYPHS = str.maketrans("aceopxyAaBCEHKMOPTXYk", "асеорхуАаВСЕНКМОРТХУк")


_MIXED_TOKEN = re.compile(f"[{_CYR}A-Za-z+]+")


_HAS_LATIN = re.compile(f"[{_LATIN_RANGE}]")


_HAS_CYR = re.compile(_L)


# ---------------------------------------------------------------- roman numerals
_ROMAN = re.compile(f"(?<![{_CYR}A-Za-z])([IVXLCDM]+)(?![{_CYR}A-Za-z])")


_ROMAN_VALID = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


_ROMAN_CENTURY = re.compile(f"(?<![{_CYR}A-Za-z])([IVXLCDM]+)\\s+(вв?)\\.")


_FEM_ROYALS = {"екатерин", "елизавет", "анн", "мари", "виктори"}


_LATIN_WORD = re.compile(f"[{_LATIN_RANGE}\u0300-\u036f]+")


# ================================================================ transliteration
_LATIN_SPECIAL = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L",
        "ħ": "h", "Ħ": "H", "ı": "i", "ĳ": "ij", "Ĳ": "IJ", "ŋ": "ng", "Ŋ": "NG", "þ": "th", "Þ": "Th",
        "ð": "d", "Ð": "D", "œ": "oe", "Œ": "OE", "ĸ": "k", "ŀ": "l", "Ŀ": "L", "ſ": "s", "ŉ": "n",
    }
)  # fmt: skip


_TRANSLIT_MULTI = (
    ("sch", "ш"), ("tch", "ч"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("th", "т"),
    ("ph", "ф"), ("ck", "к"), ("qu", "кв"), ("oo", "у"), ("ee", "и"), ("ea", "и"), ("ay", "ей"),
    ("ey", "ей"), ("oy", "ой"), ("ya", "я"), ("yu", "ю"),
)  # fmt: skip


_TRANSLIT_SINGLE = {
    "a": "а", "b": "б", "d": "д", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "дж", "k": "к",
    "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с", "t": "т",
    "u": "у", "v": "в", "w": "в", "x": "кс", "z": "з",
}  # fmt: skip


_LATIN_VOWELS = "aeiou"


def transliterate_latin(word: str) -> str:
    """Transliterate one Latin-script word to Cyrillic (the scheme in ``docs/normalizer.md``).

    Diacritics are stripped first (``café`` -> ``кафе``). Capitalisation is kept: an upper-case
    word stays upper case (``NASA`` -> ``НАСА``), a capitalised one stays capitalised.
    """
    base = unicodedata.normalize("NFD", word.translate(_LATIN_SPECIAL))
    base = "".join(c for c in base if not unicodedata.combining(c))
    low = base.lower()
    if not low.isascii() or not low.isalpha():
        raise ValueError(f"not a Latin word: {word!r}")
    out: list[str] = []
    i, n = 0, len(low)
    while i < n:
        for lat, cyr in _TRANSLIT_MULTI:
            if low.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            c = low[i]
            nxt = low[i + 1] if i + 1 < n else ""
            prev = low[i - 1] if i else ""
            if c == "c":
                out.append("ц" if nxt in ("e", "i", "y") else "к")
            elif c == "e":
                out.append("э" if i == 0 else "е")
            elif c == "y":
                vowel_next = nxt in _LATIN_VOWELS and nxt != ""
                out.append("й" if (i == 0 and vowel_next) or (prev and prev in _LATIN_VOWELS) else "и")
            else:
                out.append(_TRANSLIT_SINGLE[c])
            i += 1
    result = "".join(out)
    if len(base) > 1 and base.isupper():
        return result.upper()
    if base[:1].isupper():
        return result[:1].upper() + result[1:]
    return result


def _roman_value(r: str) -> int | None:
    if not _ROMAN_VALID.match(r):
        return None
    total = 0
    for i, ch in enumerate(r):
        v = _ROMAN_VALUES[ch]
        total += -v if i + 1 < len(r) and _ROMAN_VALUES[r[i + 1]] > v else v
    return total or None


def _sub_roman(m: re.Match) -> str:
    roman = m.group(1)
    value = _roman_value(roman)
    if value is None:
        return roman
    s = m.string
    nxt = _NEXT_WORD.match(s, m.end())
    if nxt and nxt.group(1).lower() in _CENTURY_NOUNS:
        return ordinal(value, _CENTURY_NOUNS[nxt.group(1).lower()])
    prev_m = _PREV_WORD.search(s, max(0, m.start() - 40), m.start())
    if prev_m:
        prev = prev_m.group(1).replace("+", "")
        low = prev.lower()
        if low in _CENTURY_NOUNS:
            return ordinal(value, _CENTURY_NOUNS[low])
        if len(prev) >= 3 and prev[0].isupper() and prev[1:].islower() and value <= 40:
            return _royal_ordinal(low, value)
    return roman


def _sub_roman_century(m: re.Match) -> str:
    """``XIX в.`` -> ``девятнадцатый век`` (case from the preposition), ``XIX вв.`` -> ``века``."""
    value = _roman_value(m.group(1))
    if value is None:
        return m.group(0)
    prev = _prev_word(m.string, m.start())
    tail = _dot_after(m.string, m.end())
    if m.group(2) == "вв":
        return f"{ordinal(value, 'nom', 'm', True)} века{tail}"
    case = "prep" if prev in ("в", "во", "о", "об", "при") else _date_case(prev)
    case = "nom" if case == "acc" else case
    noun = {"nom": "век", "gen": "века", "dat": "веку", "prep": "веке"}[case]
    return f"{ordinal(value, case)} {noun}{tail}"


def _royal_ordinal(name: str, value: int) -> str:
    for stem in _FEM_ROYALS:
        if name.startswith(stem):
            ending = name[len(stem) :]
            case = {"а": "nom", "я": "nom", "ы": "gen", "и": "gen", "е": "dat", "у": "acc", "ю": "acc"}.get(
                ending, "ins" if ending in ("ой", "ей") else "nom"
            )
            return ordinal(value, case, "f")
    if name.endswith(("а", "я")):
        case = "gen"
    elif name.endswith(("у", "ю")):
        case = "dat"
    elif name.endswith(("ом", "ем")):
        case = "ins"
    elif name.endswith("е"):
        case = "prep"
    else:
        case = "nom"
    return ordinal(value, case)


def _sub_mixed_token(m: re.Match) -> str:
    tok = m.group(0)
    if _HAS_CYR.search(tok) and _HAS_LATIN.search(tok):
        return tok.translate(_HOMOGLYPHS)
    return tok
