"""The phoneme inventory: every symbol the G2P may emit and the phoneme tokenizer knows.

Symbols are IPA. Stress is a *phoneme attribute*: a stressed vowel is one symbol with the IPA
stress mark in front (``ˈa``), so every token that is a sound stays one token with one duration.
Palatalised consonants carry ``ʲ``; long (geminate) consonants carry ``ː``.

Non-sound tokens:

* ``WORD_BOUNDARY`` (``#``) between two words of the phoneme stream;
* punctuation tokens (``PUNCTUATION``), kept as prosodic boundaries.

The tokenizer adds its own special tokens (pad, unk, mask, bos, eos) on top of this list.
"""

from __future__ import annotations

#: Vowels in stressed position (``ˈ`` + vowel).
STRESSED_VOWELS: tuple[str, ...] = ("ˈa", "ˈo", "ˈu", "ˈi", "ˈɨ", "ˈe")
#: Vowels outside stress: full vowels plus the reduced ɐ (first pre-stressed / word-initial a, o
#: after hard consonants), ə (other unstressed a, o after hard consonants), ɪ (unstressed a, e, i
#: after soft consonants), ʊ (unstressed u).
UNSTRESSED_VOWELS: tuple[str, ...] = ("a", "o", "u", "i", "ɨ", "e", "ɐ", "ə", "ɪ", "ʊ")
VOWELS: tuple[str, ...] = STRESSED_VOWELS + UNSTRESSED_VOWELS

#: Consonants that have a palatalised (soft) counterpart.
_PAIRED = ("p", "b", "t", "d", "k", "g", "f", "v", "s", "z", "x", "m", "n", "l", "r", "ɣ")
#: Consonants without a soft/hard pair: ʂ ʐ ts are always hard; tɕ ɕ j are always soft.
_UNPAIRED = ("ʂ", "ʐ", "ts", "tɕ", "ɕ", "j", "dʐ", "dz")

_SHORT_CONSONANTS: tuple[str, ...] = _PAIRED + tuple(c + "ʲ" for c in _PAIRED) + _UNPAIRED
#: All consonants: short ones and their long (geminate) forms, e.g. ``sː``, ``nʲː``, ``ɕː``.
CONSONANTS: tuple[str, ...] = _SHORT_CONSONANTS + tuple(c + "ː" for c in _SHORT_CONSONANTS if c != "j")

WORD_BOUNDARY = "#"
#: Punctuation kept as prosodic boundaries. The normaliser maps every other punctuation mark
#: onto one of these (or removes it, documented there).
PUNCTUATION: tuple[str, ...] = (",", ".", "?", "!", "…", "—", ":", ";")

PHONEMES: tuple[str, ...] = VOWELS + CONSONANTS
#: Every symbol a phonemised text may contain, in tokenizer vocabulary order.
SYMBOLS: tuple[str, ...] = PHONEMES + (WORD_BOUNDARY,) + PUNCTUATION

_PHONEME_SET = frozenset(PHONEMES)
_SYMBOL_SET = frozenset(SYMBOLS)


def is_phoneme(symbol: str) -> bool:
    """True for a sound (vowel or consonant), False for boundaries and punctuation."""
    return symbol in _PHONEME_SET


def is_symbol(symbol: str) -> bool:
    """True when ``symbol`` belongs to the inventory."""
    return symbol in _SYMBOL_SET


def is_stressed(symbol: str) -> bool:
    return symbol.startswith("ˈ")


def phoneme_identity(symbol: str, keep_stress: bool = True) -> str:
    """The identity used to group phoneme occurrences (optionally without the stress mark)."""
    return symbol if keep_stress else symbol.removeprefix("ˈ")
