"""Money, units and abbreviations: ``$5``, ``5 кг``, ``т. е.``, ``ул.``, ``№``.
"""

from __future__ import annotations

import re

#: Every dotted abbreviation the front-end knows, as the lower-case word before the dot (``т`` and
#: ``е`` of ``т. е.``). The normaliser expands some of them (:data:`_ABBREVIATIONS`, whose stems all
#: appear here); the sentence splitter (:mod:`prosody_tts.text.sentence_split`) never ends a
#: sentence after any of them. One list, so the two cannot disagree.
ABBREVIATIONS: frozenset[str] = frozenset(
    "г гг в вв т е к д др пр см им ул стр рис тыс млн млрд трлн руб коп н э ст ок акад проф доц св англ "
    "лат греч франц нем рус араб кв обл р пос дер гл п пп табл изд ред сокр напр".split()
)

#: (pattern, expansion, keep the sentence-final dot) of the abbreviations the normaliser spells out.
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


_CURRENCY_FIRST = re.compile(
    r"([$€£₽])\s?(-?(?:\d{1,3}(?: \d{3})+(?!\d)|\d+)(?:[.,]\d+)?(?:\s?(?:тыс|млн|млрд|трлн)\.?)?)"
)


def _sub_currency_first(m: re.Match) -> str:
    return f"{m.group(2)} {m.group(1)}"
