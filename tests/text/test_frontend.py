"""The whole text front-end: stages, word alignment, bad input, and a property test."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prosody_tts.constants import NO_WORD
from prosody_tts.text.errors import EmptyTextError, FrontendError, UnsupportedCharacterError
from prosody_tts.text.inventory import PUNCTUATION, WORD_BOUNDARY, is_phoneme, is_symbol


def test_stages_are_all_exposed(frontend):
    result = frontend("В 2025 году мы купили 3 книги.")
    assert result.normalized == "В две тысячи двадцать пятом году мы купили три книги."
    assert result.stressed.replace("+", "").replace("ё", "е") == result.normalized.replace("ё", "е")
    assert result.words[:3] == ["В", "две", "тысячи"]
    assert result.phonemes[-1] == "."
    assert all(is_symbol(s) for s in result.phonemes)


def test_word_ids_and_boundaries(frontend):
    result = frontend("Привет, мир!")
    assert result.words == ["Привет", "мир"]
    assert result.phonemes == ["p", "rʲ", "ɪ", "vʲ", "ˈe", "t", ",", "#", "mʲ", "ˈi", "r", "!"]
    assert result.phoneme_word_ids == [0, 0, 0, 0, 0, 0, NO_WORD, NO_WORD, 1, 1, 1, NO_WORD]


def test_every_word_has_phonemes_and_exactly_the_word_ids(frontend):
    result = frontend("Мы купили хлеб, молоко, сыр и яблоки — всё на завтрак.")
    for index, symbols in enumerate(result.word_phonemes):
        positions = [i for i, w in enumerate(result.phoneme_word_ids) if w == index]
        assert [result.phonemes[i] for i in positions] == symbols
        assert positions == list(range(positions[0], positions[-1] + 1))  # contiguous
    for symbol, word_id in zip(result.phonemes, result.phoneme_word_ids, strict=True):
        assert (word_id == NO_WORD) == (symbol == WORD_BOUNDARY or symbol in PUNCTUATION)


def test_user_stress_changes_phonemes(frontend):
    castle = frontend("з+амок").phonemes
    lock = frontend("зам+ок").phonemes
    assert castle != lock
    assert "ˈa" in castle and "ˈo" in lock


def test_cross_word_voicing_assimilation(frontend):
    assert frontend("в саду").word_phonemes[0] == ["f"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_raises(frontend, text):
    with pytest.raises(EmptyTextError):
        frontend(text)


@pytest.mark.parametrize("text", ["...", "?!", " — , ."])
def test_punctuation_only_raises(frontend, text):
    with pytest.raises(EmptyTextError):
        frontend(text)


@pytest.mark.parametrize("value", [None, 5, b"bytes", ["список"]])
def test_non_string_raises_type_error(frontend, value):
    with pytest.raises(TypeError, match="str"):
        frontend(value)


@pytest.mark.parametrize("text", ["Привет 😀", "Привет 你好", "ок ☃ да"])
def test_unpronounceable_characters_named(frontend, text):
    with pytest.raises(UnsupportedCharacterError) as info:
        frontend(text)
    assert info.value.char in text
    assert repr(info.value.char) in str(info.value)


def test_mixed_script_is_transliterated_with_warning(frontend):
    with pytest.warns(UserWarning):
        result = frontend("Я люблю Python и чай.")
    assert len(result.words) == 5
    assert all(is_symbol(s) for s in result.phonemes)


def test_long_paragraph(frontend):
    sentence = "Старинный замок стоял на высоком холме, и ветер шумел в его башнях. "
    paragraph = (sentence * (10_000 // len(sentence) + 1))[:10_000].rsplit(" ", 1)[0] + "."
    result = frontend(paragraph)
    assert len(result.words) > 1000
    assert max(result.phoneme_word_ids) == len(result.words) - 1


_RUSSIANISH = st.text(
    alphabet=st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя АБВЕЁ,.!?—-+0123456789%")), min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), _RUSSIANISH))
def test_random_text_is_consistent_or_documented_error(frontend, text):
    """Random Unicode and random Russian-like text: a consistent result or a FrontendError."""
    try:
        result = frontend(text)
    except FrontendError:
        return
    _check_consistent(result)


def _check_consistent(result):
    assert result.words, "a successful result has at least one word"
    assert len(result.phonemes) == len(result.phoneme_word_ids)
    assert all(is_symbol(s) for s in result.phonemes)
    assert sorted(set(w for w in result.phoneme_word_ids if w != NO_WORD)) == list(range(len(result.words)))
    assert any(is_phoneme(s) for s in result.phonemes)
    for start, end in result.word_char_spans:
        assert result.plain_text[start:end] in result.words


def test_batch_equals_one_by_one(stress_placer):
    from prosody_tts.data.sources.sentences import load_sentences
    from prosody_tts.text.frontend import RussianFrontend

    texts = load_sentences("heldout")[:40]
    expected = [RussianFrontend(stress=stress_placer)(t) for t in texts]
    fresh = stress_placer.with_empty_cache()  # batching must not change any stress
    batched = RussianFrontend(stress=fresh).batch(texts, chunk_size=16)
    assert [r.stressed for r in batched] == [r.stressed for r in expected]
    assert [r.phonemes for r in batched] == [r.phonemes for r in expected]


def test_stored_phonemes_replace_the_frontends_with_word_ids_from_the_boundaries(frontend):
    from prosody_tts.text.errors import WordMismatchError

    result = frontend("Привет, как дела?")
    stored = ["p", "rʲ", "i", "vʲ", "ˈe", "t", ",", "#", "k", "ˈa", "k", "#", "dʲ", "i", "l", "ˈa", "?"]
    replaced = result.with_phonemes(stored)
    assert replaced.phonemes == stored and replaced.words == result.words
    assert replaced.phoneme_word_ids == [0, 0, 0, 0, 0, 0, -1, -1, 1, 1, 1, -1, 2, 2, 2, 2, -1]
    with pytest.raises(WordMismatchError, match="the phonemes have 2 words, the text 3"):
        result.with_phonemes(["p", "ˈa", "#", "k", "ˈa"])
