"""The Russian front-end: text → normalised text → stressed text → IPA phonemes with word ids.

``errors`` (the FrontendError family), ``inventory`` (phoneme symbols), ``normalizer/``
(numbers, dates, units, Latin), ``stress`` (silero-stress), ``g2p`` (rule-based IPA),
``espeak_g2p`` (the optional espeak-ng backend), ``sentence_split`` (sentences of a document),
``frontend`` (:class:`RussianFrontend`, the stages chained). Nothing here knows of tokenizers,
models or data sets: ``processing/`` turns this output into token ids.
"""

from .errors import (
    AudioError,
    EmptyTextError,
    FrontendError,
    StressMarkError,
    TransliterationWarning,
    UnsupportedCharacterError,
    WordMismatchError,
)
from .frontend import PhonemizedText, RussianFrontend
from .normalizer import RussianNormalizer, normalize_text
from .stress import StressPlacer

__all__ = [
    "AudioError",
    "EmptyTextError",
    "FrontendError",
    "PhonemizedText",
    "RussianFrontend",
    "RussianNormalizer",
    "StressMarkError",
    "StressPlacer",
    "TransliterationWarning",
    "UnsupportedCharacterError",
    "WordMismatchError",
    "normalize_text",
]
