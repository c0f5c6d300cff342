"""Russian text normaliser for TTS: numbers, dates, units, abbreviations, Latin, punctuation.

The output contains only Cyrillic letters (``ё`` kept), ``+`` stress marks exactly as given,
single spaces, hyphens inside words and the punctuation of :data:`inventory.PUNCTUATION`, each mark
attached to the word before it and followed by a space. See ``docs/normalizer.md``.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from typing import Literal

from .errors import EmptyTextError, StressMarkError, TransliterationWarning, UnsupportedCharacterError
from .inventory import PUNCTUATION
from .numerals import (
    MONTHS_GEN,
    MULTIPLIERS,
    UNITS,
    Noun,
    agreement,
    cardinal,
    decimal,
    ordinal,
    read_digits,
)

__all__ = ["RussianNormalizer", "normalize_text", "transliterate_latin"]

_CYR = "А-Яа-яЁё"
_L = f"[{_CYR}]"
_VOWELS = "аеёиоуыэюяАЕЁИОУЫЭЮЯ"
_LATIN_RANGE = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
_WS = " \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_PUNCT_IN = ",.?!…—–−‐‑‒―\\-:;()\\[\\]{}«»„“”‟\"'‘’‚‛‹›"
_SYMBOLS = "%$€₽£°/№+&§="

# ---------------------------------------------------------------- character validation
_BAD_CHAR = re.compile(f"[^{_CYR}{_LATIN_RANGE}0-9{_WS}{_INVISIBLE}\u0300-\u036f{_PUNCT_IN}{_SYMBOLS}]")
_ORPHAN_MARK = re.compile(f"(?<![{_CYR}{_LATIN_RANGE}\u0300-\u036f])[\u0300-\u036f]")
_STRESS_ACCENT = re.compile(f"([{_VOWELS}])[\u0301\u0300]")
_CYR_MARK = re.compile(f"(?<=[{_CYR}])[\u0300-\u036f]")
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_SPACES = re.compile(f"[{_WS}]+")

# ---------------------------------------------------------------- homoglyphs
_HOMOGLYPHS = str.maketrans("aceopxyAaBCEHKMOPTXYk", "асеорхуАаВСЕНКМОРТХУк")
_MIXED_TOKEN = re.compile(f"[{_CYR}A-Za-z+]+")
_HAS_LATIN = re.compile(f"[{_LATIN_RANGE}]")
_HAS_CYR = re.compile(_L)

# ---------------------------------------------------------------- plus sign
_PLUS_BETWEEN = re.compile(r"(?<=\d)\s*\+\s*(?=\d)")
_PLUS_NUMBER = re.compile(r"\+(?=\s*\d)|(?<=\d)\+")
_BAD_PLUS = re.compile(f"\\+(?![{_VOWELS}])")

# ---------------------------------------------------------------- abbreviations
_KEEP_DOT = re.compile(r"\s*$|\s+[А-ЯЁA-Z]")
_ABBREVIATIONS = [
    (re.compile(r"\bт\.\s?е\."), "то есть", False),
    (re.compile(r"\bт\.\s?к\."), "так как", False),
    (re.compile(r"\bт\.\s?д\."), "так далее", True),
    (re.compile(r"\bт\.\s?п\."), "тому подобное", True),
    (re.compile(r"\bдр\."), "другие", True),
    (re.compile(r"\bим\.\s*"), "имени ", False),
    (re.compile(r"\bд\.\s*(?=\d)"), "дом ", False),
    (re.compile(r"(?<!\d)(?<!\d\s)\bг\.\s*(?=[А-ЯЁ])"), "город ", False),
    (re.compile(r"\bгг\."), "годы", True),
    (re.compile(r"№№\s*"), " номера ", False),
    (re.compile(r"№\s*"), " номер ", False),
    (re.compile(r"§\s*"), " параграф ", False),
    (re.compile(r"\s*&\s*"), " и ", False),
    (re.compile(r"\s*=\s*"), " равно ", False),
]
_STREET = re.compile(r"\bул\.\s*")
_LETTER_DIGIT = re.compile(f"(?<=[{_CYR}A-Za-z])(?=\\d)|(?<=\\d)(?=[{_CYR}A-Za-z])(?![A-Za-z]*[+])")

# ---------------------------------------------------------------- dates and times
_MONTH_NUM = "|".join(MONTHS_GEN)
_MONTH_ANY = (
    r"(?:январ|феврал|апрел|июн|июл|сентябр|октябр|ноябр|декабр)(?:ь|я|е|ю|ём|ем)"
    r"|(?:март|август)(?:а|е|у|ом)?|ма(?:й|я|е|ю|ем)"
)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_NUM_DATE = re.compile(r"(?<![\d.,])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d])(?:\s*(?:(г\.)|года\b))?")
_TIME = re.compile(r"(?<![\d.,:])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])")
_RANGE = re.compile(r"(?<=\d)\s*[-–—−‒]\s*(?=\d)")
_DAY_MONTH = re.compile(
    rf"(?<![\d.,])(\d{{1,2}})(?=\s+(?:(?:по|до|и|—)\s+\d{{1,2}}\s+)?(?:{_MONTH_NUM})(?!{_L}))"
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_ANY})\s+(\d{{4}})(?!\d)(?:\s*(?:(г\.)|года\b))?")

# ---------------------------------------------------------------- roman numerals
_ROMAN = re.compile(f"(?<![{_CYR}A-Za-z])([IVXLCDM]+)(?![{_CYR}A-Za-z])")
_ROMAN_VALID = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_CENTURY = re.compile(f"(?<![{_CYR}A-Za-z])([IVXLCDM]+)\\s+(вв?)\\.")
_CENTURY_NOUNS = {}
for _stem in ("век", "съезд"):
    for _end, _case in (("", "nom"), ("а", "gen"), ("у", "dat"), ("ом", "ins"), ("е", "prep")):
        _CENTURY_NOUNS[_stem + _end] = _case
_FEM_ROYALS = {"екатерин", "елизавет", "анн", "мари", "виктори"}

# ---------------------------------------------------------------- numbers
_ORD_SUFFIX = re.compile(
    rf"(?<![\d.,])(\d+)\s?-\s?(ого|его|ому|ему|ыми|ими|ых|их|ый|ий|ой|ая|яя|ое|ее|ые|ие|ую|юю|ым|им|ом|ем"
    rf"|ух|ёх|ех|ти|ью|го|му|ми|й|е|я|ю|х|м)(?!{_L})"
)
_COMPOUND = re.compile(rf"(?<![\d.,])(\d+)-({_L}{{2,}})")
_CURRENCY_FIRST = re.compile(
    r"([$€£₽])\s?(-?(?:\d{1,3}(?: \d{3})+(?!\d)|\d+)(?:[.,]\d+)?(?:\s?(?:тыс|млн|млрд|трлн)\.?)?)"
)
_NUMBER = re.compile(
    r"(?:(?<![\w])(?P<neg>[-−])(?=\d))?(?<!\d)"
    r"(?P<int>\d{1,3}(?: \d{3})+(?!\d)|\d+)"
    r"(?:[.,](?P<frac>\d+)(?![.,]\d))?"
    rf"(?:\s?(?P<mult>тыс|млн|млрд|трлн)(?P<multdot>\.)?(?!{_L}))?"
    r"(?:\s?(?P<unit>км/ч|м/с|°\s?[CСFcс](?![A-Za-z])|°|%|₽|\$|€|£"
    rf"|(?:км|мм|см|мл|кг|сек|мин|руб|коп|гр|м|г|т|л|ч|р)(?!{_L})|с(?=\s*(?:[.,;:!?)]|$)))(?P<unitdot>\.)?)?"
)
_PREV_WORD = re.compile(rf"([{_CYR}+-]+)\s*$")
_NEXT_WORD = re.compile(rf"\s*([{_CYR}+-]+)")

_GEN_PREPS = [
    "до",
    "от",
    "из",
    "у",
    "без",
    "для",
    "около",
    "после",
    "вокруг",
    "кроме",
    "среди",
    "против",
    "возле",
    "более",
    "менее",
    "свыше",
    "больше",
    "меньше",
    "порядка",
    "ради",
    "вместо",
    "мимо",
    "накануне",
    "вдоль",
    "внутри",
    "сверх",
    "из-за",
    "из-под",
    "посреди",
]
_PREP_CASES: dict[str, str] = {p: "gen" for p in _GEN_PREPS}
_PREP_CASES.update({p: "dat" for p in ["к", "ко", "благодаря", "согласно", "вопреки", "навстречу"]})
_PREP_CASES.update({p: "ins" for p in ["над", "надо", "перед", "передо", "между"]})
_PREP_CASES.update({p: "prep" for p in ["о", "об", "обо", "при"]})
_PREP_CASES.update({p: "acc" for p in ["через", "про", "сквозь", "спустя"]})
_PREP_CASES.update({p: "?" for p in ["с", "со", "в", "во", "на", "за", "под", "по"]})
_ADJ_ENDINGS = [
    "ый",
    "ий",
    "ой",
    "ая",
    "яя",
    "ое",
    "ее",
    "ые",
    "ие",
    "ых",
    "их",
    "ого",
    "его",
    "ому",
    "ему",
    "ыми",
    "ими",
    "ую",
    "юю",
    "ым",
    "им",
]
_FEM_SOFT = frozenset(
    [
        "ночь",
        "дверь",
        "часть",
        "вещь",
        "мышь",
        "площадь",
        "лошадь",
        "тетрадь",
        "область",
        "жизнь",
        "соль",
        "роль",
        "цель",
        "связь",
        "смерть",
        "мысль",
        "речь",
        "печь",
        "помощь",
        "ночи",
        "двери",
        "части",
        "вещи",
        "площади",
        "тетради",
        "области",
        "жизни",
        "роли",
        "цели",
        "связи",
    ]
)
_YEAR_FORMS = {"год": "nom", "года": "gen", "году": "dat", "годом": "ins", "годе": "prep"}

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
_PUNCT_CHARS = "".join(PUNCTUATION)
_PUNCT_RUN = re.compile(f"\\s*([{_PUNCT_CHARS}](?:\\s*[{_PUNCT_CHARS}])*)\\s*")
_LEADING_PUNCT = re.compile(f"^[\\s{_PUNCT_CHARS}]+")
_RANK = {".": 3, "?": 3, "!": 3, "…": 3, ";": 2, ":": 2, "—": 2, ",": 1}
_OUTPUT_BAD = re.compile(f"[^{_CYR}+\\- {_PUNCT_CHARS}]")
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


# ================================================================ helpers
def _prev_word(s: str, pos: int) -> str:
    m = _PREV_WORD.search(s, max(0, pos - 40), pos)
    return m.group(1).lower().replace("+", "") if m else ""


def _next_words(s: str, pos: int, k: int = 3) -> list[str]:
    words = []
    for _ in range(k):
        m = _NEXT_WORD.match(s, pos)
        if not m:
            break
        words.append(m.group(1).replace("+", ""))
        pos = m.end()
    return words


def _counted_noun(s: str, pos: int) -> str | None:
    """The noun counted by a number ending at ``pos`` (skipping adjective-looking words)."""
    words = _next_words(s, pos)
    for i, w in enumerate(words):
        lw = w.lower()
        if i + 1 < len(words) and len(lw) > 3 and lw.endswith(tuple(_ADJ_ENDINGS)):
            continue
        return lw
    return None


def _is_one(n: int) -> bool:
    return n % 10 == 1 and n % 100 != 11


def _noun_hint(noun: str | None, n: int) -> str | None:
    """A case guess from the ending of the noun after the number."""
    if not noun:
        return None
    if noun.endswith(("ами", "ями")) or (noun.endswith("ми") and len(noun) > 4):
        return "ins"
    if noun.endswith(("ах", "ях")):
        return "prep"
    if noun.endswith(("ам", "ям")):
        return "dat"
    if _is_one(n):
        if noun.endswith(("ом", "ем", "ём", "ой", "ей", "ью")):
            return "ins"
        if noun.endswith(("е", "у", "ю", "и")):
            return "prep"
    return None


def _number_case(prev: str, noun: str | None, n: int) -> str:
    """Case of a cardinal from the preposition before it and the noun after it."""
    hint = _noun_hint(noun, n)
    rule = _PREP_CASES.get(prev)
    if rule is None:
        if noun and _is_one(n) and len(noun) > 3 and noun.endswith(("у", "ю")):
            return "acc"  # "1 минуту назад"
        return hint if hint in ("ins", "prep") and noun and not _is_one(n) else "nom"
    if rule != "?":
        return rule
    if prev in ("с", "со"):
        return "ins" if hint == "ins" else "gen"
    if prev in ("в", "во", "на"):
        return "prep" if hint == "prep" else "acc"
    if prev in ("за", "под"):
        return "ins" if hint == "ins" else "acc"
    # по: dative for 1 ("по одному"), accusative otherwise ("по пять"), dative if the noun says so
    return "dat" if hint == "dat" or _is_one(n) else "acc"


def _noun_gender(noun: str | None, n: int, case: str) -> str:
    """Gender of the counted noun, guessed from its ending (only matters for 1 and 2)."""
    if not noun:
        return "m"
    if noun in _FEM_SOFT or noun.endswith(("ость", "есть")):
        return "f"
    if case in ("nom", "acc"):
        form_case, plural = agreement(n, case)
        if plural:
            return "m"
        if form_case == "gen":  # 2-4: genitive singular
            return "f" if noun.endswith(("ы", "и")) else "m"
        if noun.endswith(("а", "я", "у", "ю")) and not (case == "nom" and noun.endswith(("у", "ю"))):
            return "f"
        if noun.endswith(("о", "е", "ё")) and case in ("nom", "acc"):
            return "n"
        return "m"
    if not _is_one(n):
        return "m"
    if case == "gen":
        return "f" if noun.endswith(("ы", "и")) else "m"
    if case == "ins":
        return "f" if noun.endswith(("ой", "ей", "ью")) else "m"
    if case == "dat":
        return "f" if noun.endswith(("е", "и")) else "m"
    return "m"


def _date_case(prev: str) -> str:
    if prev in ("к", "ко"):
        return "dat"
    if prev in ("о", "об", "при"):
        return "prep"
    if prev in ("на", "за", "через", "по", "про", "в"):
        return "acc"
    if _PREP_CASES.get(prev) == "gen" or prev in ("с", "со"):
        return "gen"
    return "nom"


def _dot_after(s: str, end: int) -> str:
    """A sentence-final period that an abbreviation's dot also closed ("в 2024 г. Потом")."""
    return "." if _KEEP_DOT.match(s, end) else ""


def _roman_value(r: str) -> int | None:
    if not _ROMAN_VALID.match(r):
        return None
    total = 0
    for i, ch in enumerate(r):
        v = _ROMAN_VALUES[ch]
        total += -v if i + 1 < len(r) and _ROMAN_VALUES[r[i + 1]] > v else v
    return total or None


# ================================================================ pass callbacks
def _sub_num_date(m: re.Match) -> str:
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    case = _date_case(_prev_word(m.string, m.start()))
    dot = _dot_after(m.string, m.end()) if m.group(4) else ""
    return f"{ordinal(day, case, 'n')} {MONTHS_GEN[month - 1]} {ordinal(year, 'gen')} года{dot}"


def _sub_iso_date(m: re.Match) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    case = _date_case(_prev_word(m.string, m.start()))
    return f"{ordinal(day, case, 'n')} {MONTHS_GEN[month - 1]} {ordinal(year, 'gen')} года"


def _sub_time(m: re.Match) -> str:
    prev = _prev_word(m.string, m.start())
    case = {"gen": "gen", "dat": "dat", "ins": "ins"}.get(_PREP_CASES.get(prev, ""), "nom")
    if prev in ("с", "со"):
        case = "gen"
    parts = [cardinal(int(m.group(1)), case)]
    for g in (m.group(2), m.group(3)):
        if g is None:
            continue
        if g == "00":
            parts.append("ноль-ноль")
        elif g[0] == "0":
            parts.append("ноль " + cardinal(int(g), case))
        else:
            parts.append(cardinal(int(g), case))
    return " ".join(parts)


def _sub_day_month(m: re.Match) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    return ordinal(day, _date_case(_prev_word(m.string, m.start())), "n")


def _sub_month_year(m: re.Match) -> str:
    dot = _dot_after(m.string, m.end()) if m.group(3) else ""
    return f"{m.group(1)} {ordinal(int(m.group(2)), 'gen')} года{dot}"


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


_ORD_FORMS: dict[str, tuple[str, str, bool]] = {}
for _sfx, _form in (
    ("ого его го", ("gen", "m", False)),
    ("ому ему му", ("dat", "m", False)),
    ("ом ем м", ("prep", "m", False)),
    ("ым им", ("ins", "m", False)),
    ("ый ий й", ("nom", "m", False)),
    ("ой", ("gen", "f", False)),
    ("ая яя я", ("nom", "f", False)),
    ("ую юю ю", ("acc", "f", False)),
    ("ое ее е", ("nom", "n", False)),
    ("ые ие", ("nom", "m", True)),
    ("ых их х", ("gen", "m", True)),
    ("ыми ими", ("ins", "m", True)),
):
    for _x in _sfx.split():
        _ORD_FORMS[_x] = _form


def _sub_ordinal_suffix(m: re.Match) -> str:
    digits, sfx = m.group(1), m.group(2)
    n = int(digits)
    if len(digits) >= 16:
        return read_digits(digits)
    # colloquial case endings of cardinals: 2-х, 3-ёх, 5-ти, 7-ми, 5-ью
    if sfx in ("ух", "ёх", "ех") or (sfx == "х" and n < 10):
        return cardinal(n, "gen")
    if sfx in ("ти", "ми"):
        return cardinal(n, "gen")
    if sfx == "ью":
        return cardinal(n, "ins")
    case, gender, plural = _ORD_FORMS[sfx]
    if sfx == "е":
        nxt = _counted_noun(m.string, m.end())
        if (nxt and nxt.endswith(("ы", "и"))) or (
            n % 10 == 0 and n >= 10 and not (nxt and nxt.islower() and nxt.endswith(("о", "е")))
        ):
            gender, plural = "m", True
    elif sfx in ("м", "ом", "ем") and _prev_word(m.string, m.start()) in ("к", "ко", "по"):
        case, plural = "dat", True
    return ordinal(n, case, gender, plural)


def _sub_compound(m: re.Match) -> str:
    n = int(m.group(1)) if len(m.group(1)) < 16 else None
    if n is None:
        return read_digits(m.group(1)) + "-" + m.group(2)
    prefix = {1: "одно", 100: "сто", 90: "девяносто", 40: "сорока"}.get(n) or cardinal(n, "gen")
    return prefix.replace(" ", "") + m.group(2)


def _sub_currency_first(m: re.Match) -> str:
    return f"{m.group(2)} {m.group(1)}"


def _sub_number(m: re.Match) -> str:
    s = m.string
    int_s = m.group("int").replace(" ", "")
    frac = m.group("frac")
    neg = m.group("neg") is not None
    mult, unit = m.group("mult"), m.group("unit")
    prev = _prev_word(s, m.start())
    sign = "минус " if neg else ""
    if len(int_s) > 1 and int_s[0] == "0" and frac is None and not unit and not mult:
        return sign + read_digits(int_s)
    n = int(int_s)
    if len(int_s) >= 16:
        words = sign + read_digits(int_s)
        if frac is not None:
            words += " запятая " + read_digits(frac)
        return words
    unit_noun: Noun | None = None
    tail = ""
    if unit:
        key = unit.lower().replace(" ", "")
        if key in ("г", "гр") and frac is None and not mult and (1000 <= n <= 2199 or m.group("unitdot")):
            # "2024 г." is a year: ordinal + год in the case the preposition asks for
            case = _date_case(prev)
            case = {"acc": "nom"}.get(case, case)
            if prev in ("в", "во", "на"):
                case = "prep"
            noun = {"nom": "год", "gen": "года", "dat": "году", "prep": "году", "ins": "годом"}[case]
            dot = _dot_after(s, m.end()) if m.group("unitdot") else ""
            return f"{sign}{ordinal(n, case)} {noun}{dot}"
        unit_noun = UNITS[key]
        if m.group("unitdot"):
            tail = _dot_after(s, m.end())
    elif mult and m.group("multdot"):
        tail = _dot_after(s, m.end())
    mult_noun = MULTIPLIERS[mult] if mult else None
    noun = None if (unit_noun or mult_noun) else _counted_noun(s, m.end())

    # years and centuries: "в 2025 году", "2024 год", "21 век" are ordinals
    if noun is not None and frac is None and not neg:
        year_case = _YEAR_FORMS.get(noun)
        century_case = _CENTURY_NOUNS.get(noun) if noun.startswith("век") else None
        form_case = year_case or century_case
        if form_case is not None:
            # "21 век" / "в 21 веке" are always ordinals; "2 века" is a count
            compatible = _cardinal_fits(noun, n) and (year_case is not None or noun == "века")
            if (year_case and 1000 <= n <= 2199) or not compatible:
                if form_case == "dat" and prev in ("в", "во", "на", "о", "об", "при"):
                    form_case = "prep"
                return ordinal(n, form_case)
        elif (
            prev in ("в", "во", "на", "о", "об", "при", "к", "ко", "по")
            and not _is_one(n)
            and len(noun) > 3
            and noun.endswith(("е", "у"))
            and not noun.endswith(("ые", "ие"))
        ):  # "в 5 классе", "к 2 часу": a singular noun after a number is counted by an ordinal
            case = "dat" if prev in ("к", "ко", "по") else "prep"
            return ordinal(n, case)

    case = _number_case(prev, noun, n)
    if frac is not None:
        words = decimal(int_s, frac, case, neg)
        n_for_noun = None
    else:
        if mult_noun:
            gender = mult_noun.gender
        elif unit_noun:
            gender = unit_noun.gender
        else:
            gender = _noun_gender(noun, n, case)
        words = sign + cardinal(n, case, gender)
        n_for_noun = n
    if mult_noun:
        words += " " + mult_noun.agree(n_for_noun, case)
    if unit_noun:
        words += " " + unit_noun.agree(n_for_noun, case, after_multiplier=mult_noun is not None)
    return words + tail


def _cardinal_fits(noun: str, n: int) -> bool:
    """Whether ``год``/``век`` in this form can follow the cardinal ``n`` ("2 года", "5 лет")."""
    if _is_one(n):
        return True
    if noun in ("года", "века"):
        return 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14
    return False


def _sub_punct_run(m: re.Match) -> str:
    run = [c for c in m.group(1) if not c.isspace()]
    best = max(_RANK[c] for c in run)
    mark = next(c for c in run if _RANK[c] == best)
    return mark + " "


def _sub_mixed_token(m: re.Match) -> str:
    tok = m.group(0)
    if _HAS_CYR.search(tok) and _HAS_LATIN.search(tok):
        return tok.translate(_HOMOGLYPHS)
    return tok


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
