"""The optional espeak-ng G2P: output structure, symbol mapping, stress placement."""

from __future__ import annotations

import pytest

pytest.importorskip("phonemizer")
pytest.importorskip("espeakng_loader")

from prosody_tts.text import inventory
from prosody_tts.text.errors import EmptyTextError, FrontendError
from prosody_tts.text.espeak_g2p import (
    EspeakG2P,
    EspeakMappingError,
    map_espeak_phones,
)

WORDS = [
    "молоко", "привет", "щука", "жизнь", "счастье", "мужчина", "сшить", "позже", "дверь",
    "землю", "говорю", "бояться", "может", "объявление", "семья", "здесь", "солнце", "ёж",
    "яблоко", "цирк", "чай", "жёлтый", "масса", "лёгкий", "вход", "сегодня", "ещё",
]  # fmt: skip


@pytest.fixture(scope="module")
def g2p() -> EspeakG2P:
    return EspeakG2P()


def test_structure_and_inventory(g2p):
    result = g2p.phonemize_words(WORDS)
    assert len(result) == len(WORDS)
    for word, phonemes in zip(WORDS, result, strict=False):
        assert phonemes, word
        bad = [symbol for symbol in phonemes if not inventory.is_phoneme(symbol)]
        assert not bad, (word, bad)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("молоко", ["m", "ɐ", "l", "ɐ", "k", "ˈo"]),
        ("привет", ["p", "rʲ", "i", "vʲ", "ˈe", "t"]),
        ("щука", ["ɕː", "ˈu", "k", "a"]),
        ("жизнь", ["ʐ", "ˈɨ", "zʲ", "n"]),  # espeak's own (hard final n): kept as espeak says
        ("сшить", ["ʂː", "ˈɨ", "tʲ"]),  # ʃ ʃ → one long ʂː
        ("дверь", ["d", "vʲ", "ˈe", "rʲ"]),  # r ɪ^ → rʲ
        ("семья", ["sʲ", "i", "mʲ", "j", "ˈa"]),  # j ja → j a
        ("чай", ["tɕ", "ˈa", "j"]),
        ("цирк", ["ts", "ˈɨ", "r", "k"]),
    ],
)
def test_word_mapping(g2p, word, expected):
    assert g2p.phonemize_word(word) == expected


def test_stress_lands_on_a_vowel_once(g2p):
    for word, phonemes in zip(WORDS, g2p.phonemize_words(WORDS), strict=False):
        stressed = [symbol for symbol in phonemes if inventory.is_stressed(symbol)]
        assert len(stressed) == 1, (word, phonemes)
        assert stressed[0] in inventory.STRESSED_VOWELS


def test_plus_marks_are_ignored(g2p):
    # espeak places its own stress: the user's mark does not move it.
    assert g2p.phonemize_word("мол+око") == g2p.phonemize_word("молоко")
    assert g2p.phonemize_word("з+амок") == g2p.phonemize_word("зам+ок")


def test_batch_equals_single(g2p):
    words = ["молоко", "щука", "привет"]
    assert g2p.phonemize_words(words) == [g2p.phonemize_word(word) for word in words]


def test_phrase(g2p):
    words = ["в", "д+оме", "было", "тихо"]
    result = g2p.phonemize_phrase(words)
    assert len(result) == len(words)
    assert result[0] == ["v"]  # a clitic in context, not the letter name
    assert all(inventory.is_phoneme(symbol) for phonemes in result for symbol in phonemes)
    assert g2p.phonemize_phrase([]) == []


def test_secondary_stress():
    # ˌ is dropped when the word has a primary stress ...
    assert map_espeak_phones(["b", "ʌ", "ˈja", "ts", "ˌʌ"]) == (["b", "ɐ", "j", "ˈa", "ts", "ɐ"], [])
    # ... and promoted when it is the word's only stress (espeak's "может")
    assert map_espeak_phones(["m", "ˌo", "ʒ", "y", "t"])[0] == ["m", "ˈo", "ʐ", "ɨ", "t"]
    unpromoted = map_espeak_phones(["m", "ˌo", "ʒ", "y", "t"], promote_secondary=False)[0]
    assert unpromoted == ["m", "o", "ʐ", "ɨ", "t"]


def test_stress_mark_before_consonant_moves_to_vowel():
    # raw espeak puts the mark before the syllable onset; we put it on the vowel
    assert map_espeak_phones(["ˈm", "o", "x"])[0] == ["m", "ˈo", "x"]
    assert map_espeak_phones(["t͡s", "ˈɑ", "tʃʲ"])[0] == ["ts", "ˈa", "tɕ"]


def test_unknown_symbols_raise(g2p):
    assert map_espeak_phones(["h", "ˈa"])[1] == ["h"]
    with pytest.raises(EspeakMappingError, match="'h'"):
        g2p.phonemize_words(["hello"])
    assert issubclass(EspeakMappingError, FrontendError)


def test_empty_word(g2p):
    with pytest.raises(EmptyTextError):
        g2p.phonemize_word("  ")
