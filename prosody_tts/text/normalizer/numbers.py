"""Numbers: cardinals and ordinals with case and gender agreement, decimals, compounds (``5-летний``).

The case comes from the preceding preposition or adjective and the gender from the counted noun;
the words themselves come from :mod:`.numerals`.
"""

from __future__ import annotations

import re

from .numerals import (
    MULTIPLIERS,
    UNITS,
    Noun,
    agreement,
    cardinal,
    decimal,
    ordinal,
    read_digits,
)
from .patterns import (
    _CENTURY_NOUNS,
    _FEM_SOFT,
    _L,
    _PREP_CASES,
    _counted_noun,
    _date_case,
    _dot_after,
    _prev_word,
)

# ---------------------------------------------------------------- numbers
_ORD_SUFFIX = re.compile(
    rf"(?<![\d.,])(\d+)\s?-\s?(ого|его|ому|ему|ыми|ими|ых|их|ый|ий|ой|ая|яя|ое|ее|ые|ие|ую|юю|ым|им|ом|ем"
    rf"|ух|ёх|ех|ти|ью|го|му|ми|й|е|я|ю|х|м)(?!{_L})"
)


_COMPOUND = re.compile(rf"(?<![\d.,])(\d+)-({_L}{{2,}})")


_NUMBER = re.compile(
    r"(?:(?<![\w])(?P<neg>[-−])(?=\d))?(?<!\d)"
    r"(?P<int>\d{1,3}(?: \d{3})+(?!\d)|\d+)"
    r"(?:[.,](?P<frac>\d+)(?![.,]\d))?"
    rf"(?:\s?(?P<mult>тыс|млн|млрд|трлн)(?P<multdot>\.)?(?!{_L}))?"
    r"(?:\s?(?P<unit>км/ч|м/с|°\s?[CСFcс](?![A-Za-z])|°|%|₽|\$|€|£"
    rf"|(?:км|мм|см|мл|кг|сек|мин|руб|коп|гр|м|г|т|л|ч|р)(?!{_L})|с(?=\s*(?:[.,;:!?)]|$)))(?P<unitdot>\.)?)?"
)


_YEAR_FORMS = {"год": "nom", "года": "gen", "году": "dat", "годом": "ins", "годе": "prep"}


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
