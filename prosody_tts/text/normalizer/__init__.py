"""Russian text normaliser for TTS, one module per rule family.

::

    text ─► normalizer.RussianNormalizer.__call__
              validate characters, homoglyphs, ``+`` marks      (normalizer.py)
              abbreviations, money, units                       (units.py)
              dates and times                                   (dates.py)
              numbers: cardinals/ordinals with agreement        (numbers.py, words from numerals.py)
              Roman numerals, Latin transliteration             (latin.py)
              punctuation                                       (normalizer.py)
          ─► Cyrillic words, ``+`` marks, inventory punctuation

Shared character classes, lexicons and grammatical-context helpers live in ``patterns.py``.
See ``docs/normalizer.md``.
"""

from .latin import transliterate_latin
from .normalizer import RussianNormalizer, normalize_text

__all__ = ["RussianNormalizer", "normalize_text", "transliterate_latin"]
