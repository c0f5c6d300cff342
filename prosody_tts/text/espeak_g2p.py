"""Optional espeak-ng G2P that emits our phoneme inventory (``inventory.py``).

:class:`EspeakG2P` has the same API as :class:`~prosody_tts.text.g2p.RussianG2P`
(``phonemize_word`` / ``phonemize_phrase``) plus a batch call, ``phonemize_words``. It is an
alternative front-end and the reference of ``benchmarks/g2p_agreement.py``; it needs the
``espeak`` extra (GPL-3 code, kept optional)::

    pip install "prosody-tts[espeak]"

The espeak-ng library and its data come from the ``espeakng-loader`` wheel, so no system
espeak is needed. When the environment variable ``PHONEMIZER_ESPEAK_LIBRARY`` is set, that
library (and ``PHONEMIZER_ESPEAK_DATA_PATH``, if set) is used instead. phonemizer keeps the
library path in a class attribute, so the choice applies to every phonemizer user of the process.

Stress
------
espeak-ng places its **own** stress from its dictionary and rules (context-free: it does not
resolve homographs such as замок/замок or все/всё). ``+`` marks in the input are removed
before the text reaches espeak and are **ignored**: the output is espeak's pronunciation, not
ours. Use :class:`RussianG2P` when the stress must follow silero-stress or the user.

espeak writes ``ˈ``/``ˌ`` in front of the phoneme that carries the stress; we put the stress on
the vowel itself (``ˈa`` is one symbol), so a mark is moved onto the next vowel. Secondary stress
``ˌ`` is dropped (the vowel is unstressed), with one exception: espeak marks some words it
treats as weakly stressed (forms of мочь and быть: может, могу, было) with ``ˌ`` only and no
``ˈ``; in a word without any primary stress the first secondary one is promoted to primary
(``promote_secondary=False`` turns that off). Words espeak leaves unstressed (что, для, над and
the prepositions in a phrase) stay without stress. A word with two ``ˈ`` (espeak's кто-нибудь)
keeps both.

Symbol mapping (espeak-ng 1.52, language ``ru``) → inventory
-----------------------------------------------------------
Vowels (stress added as ``ˈ`` when espeak stresses them)::

    a ɑ æ            → a      espeak: ɑ stressed/after hard, a unstressed (word-final а)
    ʌ ɐ              → ɐ      espeak's ʌ is Avanesov's [ʌ], the reduced a/o after hard
                              consonants; espeak uses it in every unstressed position,
                              where the norm has ɐ (1st pretonic) or ə (elsewhere)
    ə ɜ              → ə
    o ɵ              → o      ɵ: ё after a soft consonant
    u ʉ u"           → u      u" (espeak's fronted u after soft consonants, printed with its
                              raw mnemonic) is ʉ
    ʊ                → ʊ
    i                → i      kept as is: espeak writes i in many unstressed positions
                              where the norm has ɪ (привет p rʲ i vʲ ˈe t)
    ɪ                → ɪ      (ˈɪ, espeak's stressed final и after soft, → ˈi)
    y ɨ              → ɨ      espeak-ng writes ы as y
    e ɛ              → e

Consonants (``ʲ`` and ``ː`` carried over, tie bars removed)::

    ɭ ɫ l → l      ɭʲ → lʲ      ɡ g → g      ʃ ʂ → ʂ      ʒ ʐ → ʐ
    ʑ → zʲ         (espeak's soft z: здесь ʑ dʲ ˈe sʲ)
    ɕ → ɕː         espeak has one щ phoneme and writes it ɕ; the literary norm (and our
                   inventory) has the long ɕː for щ, сч, зч, жч
    tʃ tʃʲ tɕ t͡ɕ → tɕ      ts t͡s → ts      dʒ dʐ → dʐ      dz → dz      ɾ → r
    ɪ^  after a consonant → palatalises it (espeak writes дверь d vʲ ˈe r ɪ^ for rʲ)

Sequences: two identical consonants in a row become the long one (``s s`` → ``sː``,
``ʃ ʃ`` → ``ʂː``, ``ɕ`` next to ``ɕ`` → ``ɕː``); a doubled ``j`` (espeak's ``j ja`` in семья,
объявление) becomes one ``j``; espeak's j-vowel units (``ja``, ``ju``) are split into ``j`` + vowel.

Every emitted symbol satisfies :func:`inventory.is_phoneme`; an espeak symbol outside this table
raises :class:`EspeakMappingError`, which lists the symbols and the words that produced them.

Single-letter words (в, к, с) phonemized on their own are spelled by espeak (``в`` → ``v ˈɛ``);
``phonemize_phrase`` sends the whole phrase in one call, so clitics get their context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from . import inventory
from .errors import EmptyTextError, FrontendError

_INSTALL_HINT = 'pip install "prosody-tts[espeak]"'

#: espeak vowel (stress and j removed) → inventory vowel (unstressed form).
VOWEL_MAP: dict[str, str] = {
    "a": "a",
    "ɑ": "a",
    "æ": "a",
    "ʌ": "ɐ",
    "ɐ": "ɐ",
    "ə": "ə",
    "ɜ": "ə",
    "o": "o",
    "ɵ": "o",
    "u": "u",
    'u"': "u",
    "ʉ": "u",
    "ʊ": "ʊ",
    "i": "i",
    "ɪ": "ɪ",
    "y": "ɨ",
    "ɨ": "ɨ",
    "e": "e",
    "ɛ": "e",
}
#: Unstressed vowels whose stressed form is another symbol (ˈɪ → ˈi, ˈɐ → ˈa, ...).
_STRESSED_FORM: dict[str, str] = {"ɪ": "i", "ɐ": "a", "ə": "a", "ʊ": "u"}

#: espeak consonant base (no ʲ, no ː) → inventory base.
CONSONANT_MAP: dict[str, str] = {
    "p": "p",
    "b": "b",
    "t": "t",
    "d": "d",
    "k": "k",
    "g": "g",
    "ɡ": "g",
    "f": "f",
    "v": "v",
    "s": "s",
    "z": "z",
    "x": "x",
    "ɣ": "ɣ",
    "m": "m",
    "n": "n",
    "l": "l",
    "ɭ": "l",
    "ɫ": "l",
    "r": "r",
    "ɾ": "r",
    "j": "j",
    "ʃ": "ʂ",
    "ʂ": "ʂ",
    "ʒ": "ʐ",
    "ʐ": "ʐ",
    "ʑ": "zʲ",
    "ɕ": "ɕː",
    "ts": "ts",
    "tʃ": "tɕ",
    "tɕ": "tɕ",
    "dʒ": "dʐ",
    "dʐ": "dʐ",
    "dz": "dz",
}
#: espeak's marker for a palatalised preceding consonant (r ɪ^ → rʲ).
_SOFTENER = "ɪ^"
_PRIMARY, _SECONDARY = "ˈ", "ˌ"
_TIE = "\u0361"

# Longest first, so "ts" wins over "t" and 'u"' over "u".
_UNITS: tuple[str, ...] = tuple(
    sorted({*VOWEL_MAP, *CONSONANT_MAP, _SOFTENER}, key=lambda unit: (-len(unit), unit))
)


class EspeakMappingError(FrontendError):
    """espeak-ng produced symbols that have no place in our inventory."""

    def __init__(self, unknown: dict[str, list[str]]):
        self.unknown = unknown
        listing = "; ".join(
            f"{symbol!r} (in {', '.join(repr(word) for word in words[:3])})"
            for symbol, words in sorted(unknown.items())
        )
        super().__init__(
            f"espeak-ng output holds symbol(s) outside the phoneme inventory: {listing}. "
            "Extend VOWEL_MAP/CONSONANT_MAP in prosody_tts/text/espeak_g2p.py "
            "or remove the text (non-Russian words are phonemized with other languages' phonemes)"
        )


_BACKEND_LOCK = threading.Lock()


def load_phonemizer():
    """Import phonemizer and point it at espeakng-loader's library and data."""
    try:
        import espeakng_loader
        from phonemizer.backend import EspeakBackend
        from phonemizer.backend.espeak.wrapper import EspeakWrapper
        from phonemizer.separator import Separator
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"EspeakG2P needs the optional espeak-ng backend ({error.name or error} is missing); "
            f"install it with: {_INSTALL_HINT}"
        ) from error
    if "PHONEMIZER_ESPEAK_LIBRARY" not in os.environ:
        EspeakWrapper.set_library(espeakng_loader.get_library_path())
        if "PHONEMIZER_ESPEAK_DATA_PATH" not in os.environ:
            EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    return EspeakBackend, Separator


class EspeakG2P:
    """espeak-ng Russian G2P with the output structure of ``RussianG2P``.

    ``phonemize_word("мол+око")`` → ``["m", "ɐ", "l", "ɐ", "k", "ˈo"]``. Input ``+`` marks are
    ignored (espeak places its own stress, see the module docstring).
    """

    #: Separator between words in espeak's output (never produced by the phonemes themselves).
    WORD_SEPARATOR = " | "

    def __init__(self, language: str = "ru", promote_secondary: bool = True):
        backend_class, separator_class = load_phonemizer()
        self.language = language
        self.promote_secondary = promote_secondary
        self._separator = separator_class(phone=" ", word=self.WORD_SEPARATOR, syllable=None)
        with _BACKEND_LOCK:
            self._backend = backend_class(
                language,
                with_stress=True,
                preserve_punctuation=False,
                language_switch="remove-flags",
                tie=False,
            )
        self._lock = threading.Lock()

    @property
    def espeak_version(self) -> str:
        return ".".join(str(part) for part in self._backend.version())

    # ------------------------------------------------------------------ public API
    def phonemize_word(self, word: str) -> list[str]:
        return self.phonemize_words([word])[0]

    def phonemize_words(self, words: Sequence[str]) -> list[list[str]]:
        """One phoneme list per word, all words in a single espeak call (fast for big lists)."""
        cleaned = [self._clean(word) for word in words]
        if not cleaned:
            return []
        raw = self._espeak(cleaned)
        return self._map_all(cleaned, [self._split_words(text) for text in raw])

    def phonemize_phrase(self, words: Sequence[str]) -> list[list[str]]:
        """One phoneme list per word; the phrase goes to espeak as one text (clitics in context).

        When espeak's word count differs from ``len(words)`` (a word espeak drops or splits),
        the words are phonemized one by one instead.
        """
        cleaned = [self._clean(word) for word in words]
        if not cleaned:
            return []
        (raw,) = self._espeak([" ".join(cleaned)])
        pieces = self._split_words(raw)
        if len(pieces) != len(cleaned):
            return self.phonemize_words(cleaned)
        return self._map_all(cleaned, [[piece] for piece in pieces])

    def espeak_raw(self, words: Sequence[str]) -> list[str]:
        """espeak's own output for each word (phones separated by spaces), for inspection."""
        return self._espeak([self._clean(word) for word in words])

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _clean(word: str) -> str:
        cleaned = word.replace("+", "").strip().lower()
        if not cleaned:
            raise EmptyTextError(f"empty word {word!r}")
        return cleaned

    def _espeak(self, texts: list[str]) -> list[str]:
        with self._lock:
            return self._backend.phonemize(texts, separator=self._separator, strip=True, njobs=1)

    def _split_words(self, text: str) -> list[str]:
        return [piece.strip() for piece in text.split(self.WORD_SEPARATOR.strip()) if piece.strip()]

    def _map_all(self, words: list[str], pieces: list[list[str]]) -> list[list[str]]:
        unknown: dict[str, list[str]] = {}
        result = []
        for word, word_pieces in zip(words, pieces, strict=False):
            phones = " ".join(word_pieces).split()
            mapped, bad = map_espeak_phones(phones, promote_secondary=self.promote_secondary)
            for symbol in bad:
                unknown.setdefault(symbol, []).append(word)
            result.append(mapped)
        if unknown:
            raise EspeakMappingError(unknown)
        return result


def _tokenize_phone(phone: str) -> tuple[list[tuple[str, str, bool, bool]], list[str]]:
    """Split one espeak phone into (stress, base, soft, long) units; also return unknown pieces."""
    units: list[tuple[str, str, bool, bool]] = []
    unknown: list[str] = []
    text = phone.replace(_TIE, "")
    stress = ""
    position = 0
    while position < len(text):
        char = text[position]
        if char in (_PRIMARY, _SECONDARY):
            stress = _PRIMARY if _PRIMARY in (stress, char) else _SECONDARY
            position += 1
            continue
        for unit in _UNITS:
            if text.startswith(unit, position):
                position += len(unit)
                soft = position < len(text) and text[position] == "ʲ"
                position += soft
                long = position < len(text) and text[position] == "ː"
                position += long
                is_vowel = unit in VOWEL_MAP
                units.append((stress if is_vowel else "", unit, soft, long))
                if is_vowel:
                    stress = ""
                break
        else:
            unknown.append(char)
            position += 1
    if stress:
        # A mark in front of a consonant (espeak's syllable-initial placement): pass it on.
        units.append((stress, "", False, False))
    return units, unknown


def map_espeak_phones(phones: Sequence[str], promote_secondary: bool = True) -> tuple[list[str], list[str]]:
    """Map one word's espeak phones (already split at phone boundaries) onto the inventory.

    Returns ``(phonemes, unknown_symbols)``.
    """
    symbols: list[str] = []
    stress_of: dict[int, str] = {}  # index in ``symbols`` of a vowel → "ˈ" or "ˌ"
    unknown: list[str] = []
    pending = ""
    for phone in phones:
        units, bad = _tokenize_phone(phone)
        unknown.extend(bad)
        for stress, base, soft, long in units:
            if not base:  # a stress mark waiting for the next vowel
                pending = _PRIMARY if _PRIMARY in (pending, stress) else stress
                continue
            if base == _SOFTENER:
                if symbols and _soften(symbols[-1]) is not None:
                    symbols[-1] = _soften(symbols[-1])
                else:
                    unknown.append(base)
                continue
            if base in VOWEL_MAP:
                mark = stress or pending
                if stress and pending:
                    mark = _PRIMARY if _PRIMARY in (stress, pending) else _SECONDARY
                pending = ""
                if mark:
                    stress_of[len(symbols)] = mark
                symbols.append(VOWEL_MAP[base])
                continue
            symbol = CONSONANT_MAP[base]
            if soft:
                symbol = _soften(symbol) or symbol
            if long and symbol != "j" and not symbol.endswith("ː"):
                symbol += "ː"
            if symbols and _same_consonant(symbols[-1], symbol):
                symbols[-1] = _lengthen(symbols[-1])
                continue
            symbols.append(symbol)

    primaries = [index for index, mark in stress_of.items() if mark == _PRIMARY]
    if not primaries and promote_secondary:
        primaries = sorted(stress_of)[:1]
    for index in primaries:
        vowel = symbols[index]
        symbols[index] = _PRIMARY + _STRESSED_FORM.get(vowel, vowel)
    unknown.extend(symbol for symbol in symbols if not inventory.is_phoneme(symbol))
    return symbols, unknown


def _soften(symbol: str) -> str | None:
    """The palatalised form of a consonant, or None when it has none in the inventory."""
    if symbol.endswith("ʲ") or symbol in ("j", "ɕː", "ɕ", "tɕ"):
        return symbol
    candidate = symbol + "ʲ"
    return candidate if inventory.is_phoneme(candidate) else None


def _lengthen(symbol: str) -> str:
    if symbol == "j" or symbol.endswith("ː"):
        return symbol
    return symbol + "ː"


def _same_consonant(previous: str, current: str) -> bool:
    if previous in inventory.VOWELS or current in inventory.VOWELS:
        return False
    return previous.removesuffix("ː") == current.removesuffix("ː")
