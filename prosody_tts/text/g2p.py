"""Rule-based Russian grapheme-to-IPA conversion driven by stress marks.

Input words are lowercase Cyrillic with at most one ``+`` before the stressed vowel (RUSLAN style,
``мол+око``); ``ё`` is always stressed; a word with neither is an unstressed clitic. The output
symbols all belong to :mod:`prosody_tts.text.inventory`. The rules, the exception tables and
the known weak spots are described in ``docs/g2p.md``; in short, a word goes through:

1. validation and normalisation (stressed vowel upper-cased in a working string);
2. whole-word exceptions (``EXCEPTIONS``, plus the caller's own table);
3. stem-level rewrites: что→[ʂt], чн→[ʂn] words (``CHN_AS_SHN``), hard consonants before е in
   loanwords (``HARD_E_STEMS``), г→[v] in -ого/-его (``OGO_NOT_V`` lists the stems kept);
4. spelling-level cluster rewrites (тся/ться, сч→щ, стн→сн, ...);
5. letters → segments (palatalisation, iotation), assimilative palatalisation, regressive voicing
   assimilation, doubled consonants;
6. vowel reduction by stress position and by the softness of the preceding consonant.

Word-final devoicing and the voicing of a proclitic preposition's final consonant depend on the
next word, so :meth:`RussianG2P.phonemize_phrase` applies them; :meth:`RussianG2P.phonemize_word`
treats the word as a whole phrase.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .errors import EmptyTextError, StressMarkError, UnsupportedCharacterError
from .inventory import is_phoneme

__all__ = ["CHN_AS_SHN", "EXCEPTIONS", "HARD_E_STEMS", "OGO_NOT_V", "PREPOSITIONS", "RussianG2P"]

# --------------------------------------------------------------------------------------------
# Exception tables (documented in docs/g2p.md)
# --------------------------------------------------------------------------------------------

#: Whole-word exceptions: stressed spelling (``+`` before the stressed vowel) -> IPA symbols as
#: pronounced before a pause. Phrase rules (final devoicing, voicing before the next word) still
#: apply to them.
EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "б+ог": ("b", "ˈo", "x"),
    "г+осподи": ("ɣ", "ˈo", "s", "p", "ə", "dʲ", "ɪ"),
    "б+ездна": ("bʲ", "ˈe", "z", "d", "n", "ə"),
    "пож+алуйста": ("p", "ɐ", "ʐ", "ˈa", "l", "ə", "s", "t", "ə"),
    "сейч+ас": ("sʲ", "ɪ", "tɕ", "ˈa", "s"),
    "лёгкий": ("lʲ", "ˈo", "xʲ", "kʲ", "ɪ", "j"),
    "м+ягкий": ("mʲ", "ˈa", "xʲ", "kʲ", "ɪ", "j"),
    "ит+ого": ("ɪ", "t", "ˈo", "g", "ə"),
    "ради+о": ("r", "ə", "dʲ", "ɪ", "ˈo"),
    "р+адио": ("r", "ˈa", "dʲ", "ɪ", "o"),
    "в+идео": ("vʲ", "ˈi", "dʲ", "ɪ", "o"),
    "к+акао": ("k", "ɐ", "k", "ˈa", "o"),
}

#: Words pronounced with [ʂn] for чн: exact words and stem prefixes.
CHN_AS_SHN: tuple[frozenset[str], tuple[str, ...]] = (
    frozenset({"конечно", "нарочно"}),
    (
        "скучн",
        "нарочн",
        "яичниц",
        "прачечн",
        "горчичник",
        "пустячн",
        "скворечн",
        "девичник",
        "подсвечник",
        "двоечник",
        "троечник",
    ),
)

#: Words (or hyphen parts) whose чт is pronounced [ʂt].
SHT_WORDS: frozenset[str] = frozenset({"что", "чтобы", "ничто", "нечто", "почто"})

#: Loanword stems keeping hard consonants before every е of the stem, with the inflection class
#: whose endings are accepted after the stem (the stem's е is read as э, the ending's as usual).
HARD_E_STEMS: dict[str, str] = {
    "тест": "m",
    "стенд": "m",
    "темп": "m",
    "тент": "m",
    "теннис": "m",
    "интернет": "m",
    "компьютер": "m",
    "свитер": "m",
    "бутерброд": "m",
    "модем": "m",
    "детектив": "m",
    "кодекс": "m",
    "индекс": "m",
    "бизнес": "m",
    "партер": "m",
    "термос": "m",
    "менеджер": "m",
    "отел": "soft",
    "модел": "soft",
    "энерг": "ia",
    "тенденц": "ia",
    "антенн": "f",
    "кафе": "",
    "кофе": "",
    "шоссе": "",
    "кашне": "",
    "пюре": "",
    "купе": "",
    "резюме": "",
    "кабаре": "",
    "атташе": "",
    "интервью": "",
}

_ENDINGS: dict[str, tuple[str, ...]] = {
    "": ("",),
    "m": ("", "а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах"),
    "f": ("а", "ы", "е", "у", "ой", "ам", "ами", "ах", ""),
    "soft": ("ь", "я", "ю", "ем", "е", "и", "ей", "ям", "ями", "ях", "ью"),
    "ia": ("ия", "ии", "ию", "ией", "ий", "иям", "иями", "иях"),
}

#: Words ending in -ого/-его whose г stays [g] (the ending belongs to the stem).
OGO_NOT_V: frozenset[str] = frozenset(
    {
        "много", "немного", "премного", "строго", "нестрого", "дорого", "недорого", "задорого",
        "убого", "полого", "отлого", "итого", "ого",
    }
)

#: Proclitic prepositions: their final consonant takes the voicing of the next word's first
#: obstruent and is not devoiced before a vowel, a sonorant or в.
PREPOSITIONS: frozenset[str] = frozenset(
    {
        "в", "во", "к", "ко", "с", "со", "из", "изо", "от", "ото", "под", "подо", "над", "надо",
        "без", "безо", "об", "обо", "через", "перед", "пред", "из-за", "из-под",
    }
)

# --------------------------------------------------------------------------------------------
# Letters and symbols
# --------------------------------------------------------------------------------------------

_CONSONANT_LETTERS: dict[str, str] = {
    "б": "b", "в": "v", "г": "g", "д": "d", "ж": "ʐ", "з": "z", "к": "k", "л": "l", "м": "m",
    "н": "n", "п": "p", "р": "r", "с": "s", "т": "t", "ф": "f", "х": "x", "ц": "ts", "ч": "tɕ",
    "ш": "ʂ", "щ": "ɕ", "й": "j",
}  # fmt: skip
_VOWEL_LETTERS = frozenset("аеёиоуыэюя")
_SIGNS = frozenset("ъь")
_LETTERS = frozenset(_CONSONANT_LETTERS) | _VOWEL_LETTERS | _SIGNS
_NUCLEUS = {"а": "a", "я": "a", "о": "o", "ё": "o", "у": "u", "ю": "u", "ы": "ɨ", "и": "i", "э": "e", "е": "e"}
_IOTATED = frozenset("еёюя")
_SOFTENING_VOWELS = frozenset("еёюяи")

_PAIRED = frozenset({"p", "b", "t", "d", "k", "g", "f", "v", "s", "z", "x", "m", "n", "l", "r", "ɣ"})
_HISSING = frozenset({"ʐ", "ʂ", "ts"})  # always hard
_ALWAYS_SOFT = frozenset({"tɕ", "ɕ", "j"})
_VOICE_PAIRS = {"p": "b", "t": "d", "k": "g", "f": "v", "s": "z", "ʂ": "ʐ", "x": "ɣ", "ts": "dz", "tɕ": "dʐ"}
_VOICE = {**_VOICE_PAIRS, "ɕ": "ɕ"}
_DEVOICE = {voiced: voiceless for voiceless, voiced in _VOICE_PAIRS.items()}
_VOICELESS_BASES = frozenset(_VOICE)
_VOICED_BASES = frozenset(_DEVOICE)
_OBSTRUENT_BASES = _VOICELESS_BASES | _VOICED_BASES
# assimilative palatalisation triggers (soft consonants that soften a preceding с з / н)
_SZ_SOFTENERS = frozenset({"t", "d", "n", "s", "z", "v", "m"})
_SZ_SOFTENERS_INITIAL = frozenset({"n", "s", "z", "v", "m"})
_N_SOFTENERS = frozenset({"t", "d", "n", "s", "z"})


def _split_symbol(symbol: str) -> tuple[str, str]:
    """``"zʲː"`` -> (``"z"``, ``"ʲː"``)."""
    base = symbol.rstrip("ʲː")
    return base, symbol[len(base) :]


def _symbol_maps() -> tuple[dict[str, str], dict[str, str], frozenset[str], frozenset[str]]:
    from .inventory import CONSONANTS

    voice: dict[str, str] = {}
    devoice: dict[str, str] = {}
    voiceless: set[str] = set()
    voiced: set[str] = set()
    for symbol in CONSONANTS:
        base, tail = _split_symbol(symbol)
        if base in _VOICELESS_BASES:
            voiceless.add(symbol)
            target = _VOICE[base] + tail
            voice[symbol] = target if is_phoneme(target) else symbol
            devoice[symbol] = symbol
        elif base in _VOICED_BASES:
            voiced.add(symbol)
            target = _DEVOICE[base] + tail
            devoice[symbol] = target if is_phoneme(target) else symbol
            voice[symbol] = symbol
    return voice, devoice, frozenset(voiceless), frozenset(voiced)


_VOICE_SYMBOL, _DEVOICE_SYMBOL, _VOICELESS_SYMBOLS, _VOICED_SYMBOLS = _symbol_maps()
_OBSTRUENT_SYMBOLS = _VOICELESS_SYMBOLS | _VOICED_SYMBOLS
_V_SYMBOLS = frozenset({"v", "vʲ", "vː", "vʲː"})
_I_SYMBOLS = {"i": "ɨ", "ɪ": "ɨ", "ˈi": "ˈɨ"}


def _build_hard_e_forms() -> dict[str, int]:
    forms: dict[str, int] = {}
    for stem, inflection in HARD_E_STEMS.items():
        for ending in _ENDINGS[inflection]:
            forms[stem + ending] = len(stem)
    return forms


_HARD_E_FORMS = _build_hard_e_forms()

# spelling-level cluster rewrites, in order (stressed vowels are upper-case in the working string)
_TSYA = re.compile(r"ть?с([яЯ])(?=-|$)")
_CLUSTER_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        ("вств", "ств"),
        ("стн", "сн"),
        ("здн", "зн"),
        ("стл", "сл"),
        ("лнц", "нц"),
        ("рдц", "рц"),
        ("рдч", "рч"),
        ("нтск", "нск"),
        ("ндск", "нск"),
        ("гк", "хк"),
        ("гч", "хч"),
        ("[сзж]ч|[сз]щ", "щ"),
        ("[тд]ч", "чч"),
        ("[тд]ц", "цц"),
        ("[сз]ш", "шш"),
        ("[сз]ж", "жж"),
        ("[тд]с(?=[бвгджзйклмнпрстфхцчшщ])", "ц"),
    )
)
_STSK = re.compile("стск")


class _C:
    """A consonant segment."""

    __slots__ = ("base", "long", "soft")

    def __init__(self, base: str, soft: bool):
        self.base = base
        self.soft = soft
        self.long = False

    def symbol(self) -> str:
        out = self.base
        if self.soft and self.base in _PAIRED:
            out += "ʲ"
        if self.long and self.base != "j":
            out += "ː"
        return out


class _V:
    """A vowel segment: its letter, stress, and the context of the preceding sound."""

    __slots__ = ("after_j", "ctx", "initial", "letter", "secondary", "stressed")

    def __init__(self, letter: str, stressed: bool, ctx: str, initial: bool, after_j: bool = False):
        self.letter = letter
        self.stressed = stressed
        self.ctx = ctx  # "start" (word/part start or after a vowel), "hard", "soft", "hiss"
        self.initial = initial
        self.after_j = after_j  # the preceding sound is j (inserted for е ё ю я, or й)
        self.secondary = letter == "ё" and not stressed


# --------------------------------------------------------------------------------------------
# Word analysis
# --------------------------------------------------------------------------------------------


def _analyze(word: str) -> tuple[str, str]:
    """Validate ``word``; return (canonical key with ``+``, working string with the stressed vowel
    upper-cased)."""
    if not isinstance(word, str):
        raise TypeError(f"word must be a str, not {type(word).__name__}")
    if not word:
        raise EmptyTextError("empty word")
    letters: list[str] = []
    stressed = -1
    for position, char in enumerate(word):
        if char == "+":
            following = word[position + 1] if position + 1 < len(word) else ""
            if following not in _VOWEL_LETTERS:
                raise StressMarkError(f"stress mark '+' in {word!r} is not followed by a vowel")
            if stressed >= 0:
                raise StressMarkError(f"{word!r} holds more than one stress mark")
            stressed = len(letters)
        elif char in _LETTERS or char == "-":
            letters.append(char)
        else:
            raise UnsupportedCharacterError(char, position, word)
    if stressed < 0:
        yo = [index for index, char in enumerate(letters) if char == "ё"]
        if yo:
            stressed = yo[-1]  # several ё without a mark: the last one carries the main stress
    if stressed >= 0:
        key = "".join(letters[:stressed]) + "+" + "".join(letters[stressed:])
        letters[stressed] = letters[stressed].upper()
    else:
        key = "".join(letters)
    return key, "".join(letters)


def _rewrite_part(part: str) -> str:
    """Stem-level and spelling-level rewrites of one hyphen-free part of the working string."""
    plain = part.lower()
    if plain in SHT_WORDS:
        part = part.replace("чт", "шт", 1)
    exact, prefixes = CHN_AS_SHN
    if plain in exact or plain.startswith(prefixes):
        index = plain.find("чн")
        if index >= 0:
            part = part[:index] + "ш" + part[index + 1 :]
    stem_length = _HARD_E_FORMS.get(plain)
    if stem_length is not None:
        part = part[:stem_length].replace("е", "э").replace("Е", "Э") + part[stem_length:]
    if plain.startswith("сегодн"):
        part = part[:2] + "в" + part[3:]
    if len(plain) >= 3 and plain.endswith(("ого", "его")) and plain not in OGO_NOT_V:
        part = part[:-2] + "в" + part[-1]
    part = _TSYA.sub(lambda match: "ц" + ("А" if match.group(1) == "Я" else "а"), part)
    part = _STSK.sub("сск", part)
    for pattern, replacement in _CLUSTER_REWRITES:
        part = pattern.sub(replacement, part)
    return part


def _segments(work: str) -> list[_C | _V]:
    segments: list[_C | _V] = []
    previous = "start"  # kind of the previous letter: start, cons, vowel, ь, ъ
    part_empty = True
    length = len(work)
    for index, char in enumerate(work):
        low = char.lower()
        if char == "-":
            previous = "start"
            part_empty = True
            continue
        base = _CONSONANT_LETTERS.get(low)
        if base is not None:
            following = work[index + 1].lower() if index + 1 < length else ""
            soft = base in _PAIRED and (following == "ь" or following in _SOFTENING_VOWELS)
            segment = _C(base, soft)
            segment.long = base == "ɕ"
            segments.append(segment)
            previous = "cons"
            part_empty = False
            continue
        if low in _SIGNS:
            if previous == "cons":
                previous = low
            continue
        stressed = char != low
        after_j = False
        if (low in _IOTATED and previous != "cons") or (low == "и" and previous == "ь"):
            segments.append(_C("j", False))
            ctx = "soft"
            after_j = True
        elif segments and isinstance(segments[-1], _C) and previous != "vowel" and previous != "start":
            last = segments[-1]
            if last.base in _HISSING:
                ctx = "hiss"
            elif last.soft or last.base in _ALWAYS_SOFT:
                ctx = "soft"
                after_j = last.base == "j"
            else:
                ctx = "hard"
        else:
            ctx = "start"
        segments.append(_V(low, stressed, ctx, part_empty, after_j))
        previous = "vowel"
        part_empty = False
    return segments


def _assimilate(segments: list[_C | _V]) -> list[_C | _V]:
    """Assimilative palatalisation, regressive voicing, then doubled consonants."""
    count = len(segments)
    for index in range(count - 2, -1, -1):
        current, following = segments[index], segments[index + 1]
        if not isinstance(current, _C) or not isinstance(following, _C) or current.soft:
            continue
        if current.base in ("s", "z"):
            softeners = _SZ_SOFTENERS_INITIAL if index == 0 else _SZ_SOFTENERS
            if following.soft and following.base in softeners:
                current.soft = True
        elif current.base == "n" and (
            (following.soft and following.base in _N_SOFTENERS) or following.base in ("tɕ", "ɕ")
        ):
            current.soft = True
    for index in range(count - 2, -1, -1):
        current, following = segments[index], segments[index + 1]
        if not isinstance(current, _C) or not isinstance(following, _C):
            continue
        if current.base not in _OBSTRUENT_BASES or following.base not in _OBSTRUENT_BASES:
            continue
        if following.base in _VOICELESS_BASES:
            current.base = _DEVOICE.get(current.base, current.base)
        elif following.base != "v":
            current.base = _VOICE.get(current.base, current.base)
    merged: list[_C | _V] = []
    for segment in segments:
        previous = merged[-1] if merged else None
        if (
            isinstance(segment, _C)
            and isinstance(previous, _C)
            and previous.base == segment.base
            and previous.soft == segment.soft
        ):
            previous.long = True
            continue
        merged.append(segment)
    # a long consonant stays long only before a vowel
    for index, segment in enumerate(merged):
        if isinstance(segment, _C) and segment.long:
            following = merged[index + 1] if index + 1 < len(merged) else None
            segment.long = isinstance(following, _V)
    return merged


def _vowel_symbol(vowel: _V, pretonic: bool, final: bool, has_stress: bool) -> str:
    letter = vowel.letter
    nucleus = _NUCLEUS[letter]
    if nucleus == "i" and vowel.ctx == "hiss":
        nucleus = "ɨ"
    if vowel.stressed:
        return "ˈ" + nucleus
    if vowel.secondary:
        return "o"
    if nucleus == "u":
        return "ʊ"
    if nucleus == "ɨ":
        return "ɨ"
    if nucleus == "i":
        return "ɪ"
    ctx = vowel.ctx
    if letter == "э":
        return "e" if ctx == "hard" else "ɪ"
    if nucleus == "e" and ctx == "hiss":
        return "ə" if final and has_stress else "ɨ"
    if ctx == "soft" and letter != "о":
        if final and has_stress:
            # word-final: е after a soft consonant is [ɪ] (м+оре, на дор+оге); я/а, and е after j
            # (сч+астье), are [ə] (+имя, н+яня)
            return "ɪ" if letter == "е" and not vowel.after_j else "ə"
        return "ɪ"
    # а/о (and я/ю after ж ш ц): hard-consonant reduction
    if not has_stress or pretonic or vowel.initial or ctx == "start":
        return "ɐ"
    return "ə"


def _rule_core(work: str) -> tuple[str, ...]:
    rewritten = "-".join(_rewrite_part(part) for part in work.split("-"))
    segments = _assimilate(_segments(rewritten))
    vowels = [segment for segment in segments if isinstance(segment, _V)]
    stress_index = next((index for index, vowel in enumerate(vowels) if vowel.stressed), -1)
    has_stress = stress_index >= 0
    pretonic = vowels[stress_index - 1] if stress_index > 0 else None
    last = segments[-1] if segments else None
    out: list[str] = []
    for segment in segments:
        if isinstance(segment, _C):
            out.append(segment.symbol())
        else:
            out.append(_vowel_symbol(segment, segment is pretonic, segment is last, has_stress))
    return tuple(out)


def _tail_voicing(symbols: list[str], voice: bool) -> None:
    """Set the voicing of the word-final obstruent and spread it leftwards through the cluster."""
    index = len(symbols) - 1
    if index < 0 or symbols[index] not in _OBSTRUENT_SYMBOLS:
        return
    symbols[index] = (_VOICE_SYMBOL if voice else _DEVOICE_SYMBOL)[symbols[index]]
    index -= 1
    while index >= 0 and symbols[index] in _OBSTRUENT_SYMBOLS:
        following = symbols[index + 1]
        if following in _VOICELESS_SYMBOLS:
            symbols[index] = _DEVOICE_SYMBOL[symbols[index]]
        elif following not in _V_SYMBOLS:
            symbols[index] = _VOICE_SYMBOL[symbols[index]]
        else:
            break
        index -= 1


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


class RussianG2P:
    """Stress-driven rule-based Russian G2P (see the module docstring and ``docs/g2p.md``).

    ``exceptions`` adds or overrides whole-word entries: stressed spelling (``+`` before the
    stressed vowel; ``ё`` counts as marked) -> phoneme list pronounced before a pause.
    """

    _CACHE_LIMIT = 200_000

    def __init__(self, exceptions: Mapping[str, Sequence[str]] | None = None):
        table: dict[str, tuple[str, ...]] = {}
        for source in (EXCEPTIONS, exceptions or {}):
            for word, phonemes in source.items():
                key, _ = _analyze(word)
                symbols = tuple(phonemes)
                if not symbols:
                    raise ValueError(f"exception for {word!r} has no phonemes")
                bad = [symbol for symbol in symbols if not is_phoneme(symbol)]
                if bad:
                    raise ValueError(f"exception for {word!r} holds symbols outside the inventory: {bad}")
                table[key] = symbols
        self._exceptions = table
        # word -> (core symbols, is preposition, ends in a hard consonant)
        self._core_cache: dict[str, tuple[tuple[str, ...], bool, bool]] = {}
        self._word_cache: dict[str, tuple[str, ...]] = {}

    def _core(self, word: str) -> tuple[tuple[str, ...], bool, bool]:
        cached = self._core_cache.get(word)
        if cached is not None:
            return cached
        key, work = _analyze(word)
        symbols = self._exceptions.get(key)
        if symbols is None:
            symbols = _rule_core(work)
        if not symbols:
            raise EmptyTextError(f"{word!r} has no pronounceable letter")
        preposition = key in PREPOSITIONS
        last = symbols[-1]
        hard_end = not is_vowel_symbol(last) and "ʲ" not in last and last.rstrip("ː") not in _ALWAYS_SOFT
        entry = (symbols, preposition, hard_end)
        if len(self._core_cache) >= self._CACHE_LIMIT:
            self._core_cache.clear()
        self._core_cache[word] = entry
        return entry

    def phonemize_word(self, word: str) -> list[str]:
        """Phonemes of ``word`` said alone (phrase-final rules applied)."""
        cached = self._word_cache.get(word)
        if cached is None:
            cached = tuple(self.phonemize_phrase([word])[0])
            if len(self._word_cache) >= self._CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[word] = cached
        return list(cached)

    def phonemize_phrase(self, words: Sequence[str]) -> list[list[str]]:
        """One phoneme list per word of one phrase, with the cross-word rules applied."""
        cores = [self._core(word) for word in words]
        result: list[list[str]] = [list(core[0]) for core in cores]
        for index in range(len(result) - 1, -1, -1):
            symbols = result[index]
            _, preposition, hard_end = cores[index]
            following = result[index + 1] if index + 1 < len(result) else None
            first = following[0] if following else None
            if first is None:
                _tail_voicing(symbols, voice=False)
            elif preposition:
                if first in _VOICELESS_SYMBOLS:
                    _tail_voicing(symbols, voice=False)
                elif first in _VOICED_SYMBOLS and first not in _V_SYMBOLS:
                    _tail_voicing(symbols, voice=True)
                if symbols[-1] in ("s", "z") and first.rstrip("ː") in ("ʂ", "ʐ"):
                    symbols[-1] = "ʂ" if symbols[-1] == "s" else "ʐ"  # с шумом, из жизни
                if hard_end and first in _I_SYMBOLS and following is not None:
                    following[0] = _I_SYMBOLS[first]
            elif first not in _VOICED_SYMBOLS or first in _V_SYMBOLS:
                _tail_voicing(symbols, voice=False)
        return result


def is_vowel_symbol(symbol: str) -> bool:
    return symbol.removeprefix("ˈ") in ("a", "o", "u", "i", "ɨ", "e", "ɐ", "ə", "ɪ", "ʊ")
