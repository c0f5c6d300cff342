"""Stress placement: context-aware, offline, and the user's own marks always win.

The model is `silero-stress` (MIT), which ships its weights inside the wheel: an n-gram word
accentor plus a small BERT that resolves homographs from the sentence context (замок/замок,
мука/мука, все/всё) and restores ё. This module wraps it with the project's rules:

* **User marks win.** A word that already holds a ``+`` (before its stressed vowel, as in RUSLAN
  and Balalaika) keeps exactly that mark; the model's guess for it is discarded.
* **ё is always stressed**, whatever the model says (``+`` is placed before it).
* **Clitics are unstressed.** Monosyllabic prepositions, the conjunctions и/а/но/да and the
  particles не/ни/ли/же/бы (``CLITICS``) get no stress mark; they are pronounced with the next
  (or previous) word. Every other word with at least one vowel gets exactly one mark: a
  monosyllabic content word (дом, он, сыр) is stressed on its only vowel.
* **Hyphenated words** get one stress (из-за, из-под are unstressed clitics): enclitic particles (-то, -либо, -нибудь, -ка, -таки, -де)
  are unstressed, so the first part keeps its stress (кто-нибудь → кт+о-нибудь); a proclitic
  prefix (из-, по-, кое-) leaves the stress on the last part; other compounds keep the stress
  of their last part (main stress of Russian compounds).

Importing silero-stress calls ``torch.set_num_threads(1)`` and loading its model turns autograd
off (``torch.set_grad_enabled(False)``) for the whole process; the model is loaded lazily and the
caller's thread count and grad mode are restored afterwards (and after every call).

Speed: the homograph solver is the slow part. Stress of a word that is not a homograph does not
depend on context, so such words are cached; a sentence whose words are all cached and none is a
homograph is stressed without calling the model at all.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable

from .errors import StressMarkError

VOWELS = "аеёиоуыэюяАЕЁИОУЫЭЮЯ"
_VOWEL_SET = frozenset(VOWELS)
WORD_PATTERN = re.compile(r"[А-Яа-яЁё+]+(?:-[А-Яа-яЁё+]+)*")

#: Monosyllabic function words that carry no stress of their own (documented rule above).
CLITICS: frozenset[str] = frozenset(
    """в во к ко с со о об обо у на за по до из от под подо над надо при про без для изо ото
    и а но да не ни ли ль же ж бы б""".split()
)
#: Hyphenated prepositions, unstressed as a whole.
COMPOUND_CLITICS: frozenset[str] = frozenset({"из-за", "из-под", "по-над", "по-за"})
_ENCLITIC_PARTS = frozenset({"то", "либо", "нибудь", "ка", "таки", "де", "с"})
_PROCLITIC_PARTS = frozenset({"из", "по", "кое", "кой", "во", "в", "на"})


def count_vowels(word: str) -> int:
    return sum(1 for char in word if char in _VOWEL_SET)


def strip_stress(text: str) -> str:
    return text.replace("+", "")


def check_stress_marks(word: str) -> None:
    """Raise :class:`StressMarkError` when a ``+`` is not followed by a vowel."""
    for index, char in enumerate(word):
        if char == "+" and (index + 1 >= len(word) or word[index + 1] not in _VOWEL_SET):
            raise StressMarkError(f"stress mark '+' in {word!r} is not followed by a vowel")


def place_mark(word: str, vowel_index: int) -> str:
    """Put ``+`` before the ``vowel_index``-th vowel (0-based) of an unmarked word."""
    seen = 0
    for position, char in enumerate(word):
        if char in _VOWEL_SET:
            if seen == vowel_index:
                return word[:position] + "+" + word[position:]
            seen += 1
    raise ValueError(f"{word!r} has no vowel number {vowel_index}")


def stressed_vowel_index(word: str) -> int | None:
    """Index (among the vowels) of the first vowel preceded by ``+``; None if unmarked."""
    seen = 0
    for position, char in enumerate(word):
        if char in _VOWEL_SET:
            if position > 0 and word[position - 1] == "+":
                return seen
            seen += 1
    return None


def apply_word_rules(model_word: str, user_word: str) -> str:
    """Combine the model's stressed form of a word with the user's spelling and the rules."""
    if "+" in user_word:
        check_stress_marks(user_word)
        return user_word
    if strip_stress(user_word).lower() in COMPOUND_CLITICS:
        return user_word
    parts = model_word.split("-")
    if len(parts) > 1:
        return _hyphenated(parts, user_word)
    return _single(model_word, user_word)


def _single(model_word: str, user_word: str) -> str:
    bare = strip_stress(model_word)
    # keep the user's letters (case, ё) except where the model restored ё for е
    letters = [m if (m in "ёЁ" and u in "еЕ") else u for m, u in zip(bare, user_word, strict=False)]
    if len(bare) != len(user_word):
        letters = list(user_word)
    word = "".join(letters)
    vowels = count_vowels(word)
    if vowels == 0:
        return word
    for position, char in enumerate(word):
        if char in "ёЁ":
            return word[:position] + "+" + word[position:]
    if word.lower() in CLITICS:
        return word
    if vowels == 1:
        return place_mark(word, 0)
    index = stressed_vowel_index(model_word)
    return place_mark(word, index if index is not None else 0)


def _hyphenated(model_parts: list[str], user_word: str) -> str:
    user_parts = user_word.split("-")
    if len(user_parts) != len(model_parts):
        model_parts = user_parts
    bare_parts = [strip_stress(p).lower() for p in user_parts]
    # which part carries the word's stress
    candidates = [
        i
        for i, part in enumerate(bare_parts)
        if count_vowels(part) > 0 and part not in _ENCLITIC_PARTS and part not in _PROCLITIC_PARTS
    ]
    if any("ё" in p for p in bare_parts):
        target = next(i for i, p in enumerate(bare_parts) if "ё" in p)
    elif candidates and bare_parts[-1] in _ENCLITIC_PARTS:
        target = candidates[0]
    elif candidates:
        target = candidates[-1]
    else:
        target = max(range(len(bare_parts)), key=lambda i: count_vowels(bare_parts[i]))
    out = []
    for i, (model_part, user_part) in enumerate(zip(model_parts, user_parts, strict=True)):
        if i == target and count_vowels(user_part) > 0:
            word = _single(model_part, user_part)
            if "+" not in word:  # a clitic-looking part that carries the stress (по-ВСЯКОМУ)
                index = stressed_vowel_index(model_part)
                word = place_mark(user_part, index if index is not None else 0)
            out.append(word)
        else:
            out.append(user_part)
    return "-".join(out)


class StressPlacer:
    """Put a ``+`` before the stressed vowel of every content word of a (normalised) text.

    Args:
        model: a callable ``str -> str`` returning the text with ``+`` marks; by default the
            silero-stress accentor, loaded on first use.
        homographs: lower-case words whose stress depends on context (never cached); with the
            default model, silero-stress's own homograph lists.
        cache_size: how many context-free word stresses to remember.

    Example:
        >>> placer = StressPlacer()
        >>> placer("Старинный замок стоял на холме.")  # doctest: +SKIP
        'Стар+инный з+амок сто+ял на холм+е.'
    """

    def __init__(
        self,
        model: Callable[[str], str] | None = None,
        homographs: Iterable[str] = (),
        cache_size: int = 200_000,
    ):
        self._model = model
        self._homographs: frozenset[str] = frozenset(homographs)
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.model_calls = 0

    # ------------------------------------------------------------------ model
    def _load(self) -> Callable[[str], str]:
        with self._lock:
            if self._model is None:
                self._model, self._homographs = load_silero_stress()
        return self._model

    def with_empty_cache(self) -> StressPlacer:
        """A placer sharing this one's loaded model but with nothing cached."""
        return StressPlacer(self._load(), self._homographs, self._cache_size)

    # ------------------------------------------------------------------ public
    def __call__(self, text: str) -> str:
        matches = list(WORD_PATTERN.finditer(text))
        if not matches:
            return text
        user_words = [m.group(0) for m in matches]
        for word in user_words:
            if "+" in word:
                check_stress_marks(word)
        model = self._load()
        keys = [strip_stress(w).lower() for w in user_words]
        need_model = any(
            key not in self._cache or key in self._homographs
            for key, word in zip(keys, user_words, strict=True)
            if "+" not in word
        )
        if need_model:
            model_words = self._run_model(model, text, user_words)
            for key, model_word in zip(keys, model_words, strict=True):
                if key not in self._homographs and len(self._cache) < self._cache_size:
                    self._cache[key] = model_word.lower()
        else:
            model_words = [self._cache[key] if "+" not in w else w for key, w in zip(keys, user_words, strict=True)]
        stressed = [apply_word_rules(m, u) for m, u in zip(model_words, user_words, strict=True)]
        pieces, last = [], 0
        for match, word in zip(matches, stressed, strict=True):
            pieces.append(text[last : match.start()])
            pieces.append(word)
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)

    def stress_many(self, texts: Iterable[str], words_per_call: int = 200) -> list[str]:
        """Stress many texts; faster than one call each.

        Stress of a word that is not a homograph does not depend on its sentence (checked on the
        built-in sentences: identical in context and in isolation), so the unknown words of all
        texts without homographs go to the model together, ``words_per_call`` at a time, as one
        space-separated text; texts with a homograph still go to the model whole, for context.
        """
        texts = list(texts)
        model = self._load()
        unknown: dict[str, None] = {}
        for text in texts:
            for match in WORD_PATTERN.finditer(text):
                word = match.group(0)
                key = strip_stress(word).lower()
                if "+" not in word and key not in self._cache and key not in self._homographs:
                    unknown[key] = None
        keys = list(unknown)
        for start in range(0, len(keys), words_per_call):
            chunk = keys[start : start + words_per_call]
            self.model_calls += 1
            stressed = [m.group(0) for m in WORD_PATTERN.finditer(model(" ".join(chunk)))]
            if len(stressed) != len(chunk) or any(
                strip_stress(s).lower().replace("ё", "е") != k.replace("ё", "е")
                for s, k in zip(stressed, chunk, strict=False)
            ):
                continue  # the model re-tokenised the chunk: these words go through __call__
            for key, word in zip(chunk, stressed, strict=True):
                if len(self._cache) < self._cache_size:
                    self._cache[key] = word.lower()
        return [self(text) for text in texts]

    def _run_model(self, model: Callable[[str], str], text: str, user_words: list[str]) -> list[str]:
        """Stress the whole text (context for homographs) and split it back into words."""
        self.model_calls += 1
        plain = strip_stress(text)
        output = model(plain)
        words = [m.group(0) for m in WORD_PATTERN.finditer(output)]
        if len(words) == len(user_words) and all(
            strip_stress(w).lower().replace("ё", "е") == strip_stress(u).lower().replace("ё", "е")
            for w, u in zip(words, user_words, strict=True)
        ):
            return words
        # the model changed the tokenisation: fall back to one call per word (no context)
        return [model(strip_stress(u)) for u in user_words]


@functools.lru_cache(maxsize=1)
def load_silero_stress() -> tuple[Callable[[str], str], frozenset[str]]:
    """Load the silero-stress accentor, restoring torch's thread count that its import changes.

    Loaded once per process and shared by every :class:`StressPlacer` (the model is read-only).
    """
    import torch

    # silero-stress changes process-wide torch state: its import sets one thread, and loading
    # the model turns autograd off globally. Both are restored here and after every call.
    threads, grad_enabled = torch.get_num_threads(), torch.is_grad_enabled()
    try:
        from silero_stress import load_accentor
    except ImportError as error:  # pragma: no cover - it is a core dependency
        raise ImportError("stress placement needs the `silero-stress` package: pip install silero-stress") from error
    try:
        accentor = load_accentor("ru")
    finally:
        torch.set_num_threads(threads)
        torch.set_grad_enabled(grad_enabled)
    homographs: set[str] = set()
    solver = getattr(accentor, "homosolver", None)
    for name in ("homodict", "yohomodict"):
        table = getattr(solver, name, None)
        if isinstance(table, dict):
            homographs.update(table)
    if not homographs:
        # without the homograph list every word is treated as context-dependent (never cached)
        homographs = _AlwaysContains()

    def model(text: str) -> str:
        before, grad_before = torch.get_num_threads(), torch.is_grad_enabled()
        try:
            with torch.no_grad():
                return accentor(text)
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)
            torch.set_grad_enabled(grad_before)

    return model, homographs  # type: ignore[return-value]


class _AlwaysContains(frozenset):
    def __contains__(self, item: object) -> bool:
        return True
