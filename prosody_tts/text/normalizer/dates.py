"""Dates and times: ``25.12.2025``, ``2025-12-25``, ``25 декабря``, ``декабрь 2025 г.``, ``10:30``, ranges.
"""

from __future__ import annotations

import re

from .numerals import (
    MONTHS_GEN,
    cardinal,
    ordinal,
)
from .patterns import _L, _PREP_CASES, _date_case, _dot_after, _prev_word

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
