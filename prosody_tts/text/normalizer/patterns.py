"""Character classes and context helpers shared by the normaliser's rule families.
"""

from __future__ import annotations

import re

from ..inventory import PUNCTUATION

_CYR = "А-Яа-яЁё"


_L = f"[{_CYR}]"


_VOWELS = "аеёиоуыэюяАЕЁИОУЫЭЮЯ"


_LATIN_RANGE = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"


_WS = " \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


_PUNCT_IN = ",.?!…—–−‐‑‒―\\-:;()\\[\\]{}«»„“”‟\"'‘’‚‛‹›"


_SYMBOLS = "%$€₽£°/№+&§="


# ---------------------------------------------------------------- abbreviations
_KEEP_DOT = re.compile(r"\s*$|\s+[А-ЯЁA-Z]")


_LETTER_DIGIT = re.compile(f"(?<=[{_CYR}A-Za-z])(?=\\d)|(?<=\\d)(?=[{_CYR}A-Za-z])(?![A-Za-z]*[+])")


_CENTURY_NOUNS = {}


for _stem in ("век", "съезд"):
    for _end, _case in (("", "nom"), ("а", "gen"), ("у", "dat"), ("ом", "ins"), ("е", "prep")):
        _CENTURY_NOUNS[_stem + _end] = _case


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


_PUNCT_CHARS = "".join(PUNCTUATION)


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
