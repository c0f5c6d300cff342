"""Tests of the rule-based Russian G2P (prosody_tts.text.g2p)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosody_tts.text.errors import (
    EmptyTextError,
    FrontendError,
    StressMarkError,
    UnsupportedCharacterError,
)
from prosody_tts.text.g2p import EXCEPTIONS, RussianG2P
from prosody_tts.text.inventory import is_phoneme


@pytest.fixture(scope="module")
def g2p() -> RussianG2P:
    return RussianG2P()


def check(g2p: RussianG2P, word: str, expected: str) -> None:
    assert g2p.phonemize_word(word) == expected.split(), word


# --- 1. stress -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("м+ама", "m ˈa m ə"),
        ("д+ом", "d ˈo m"),
        ("т+ут", "t ˈu t"),
        ("м+ир", "mʲ ˈi r"),
        ("с+ын", "s ˈɨ n"),
        ("л+ес", "lʲ ˈe s"),
        ("ёж", "j ˈo ʂ"),
        ("+ёж", "j ˈo ʂ"),
        ("мёд", "mʲ ˈo t"),
        ("+эхо", "ˈe x ə"),
    ],
)
def test_stress(g2p, word, expected):
    check(g2p, word, expected)


# --- 2. vowel reduction ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("молок+о", "m ə l ɐ k ˈo"),
        ("окн+о", "ɐ k n ˈo"),
        ("гор+а", "g ɐ r ˈa"),
        ("огор+од", "ɐ g ɐ r ˈo t"),
        ("садов+од", "s ə d ɐ v ˈo t"),
        ("час+ы", "tɕ ɪ s ˈɨ"),
        ("яз+ык", "j ɪ z ˈɨ k"),
        ("д+есять", "dʲ ˈe sʲ ɪ tʲ"),
        ("лес+а", "lʲ ɪ s ˈa"),
        ("пят+ак", "pʲ ɪ t ˈa k"),
        ("п+оле", "p ˈo lʲ ɪ"),
        ("м+оре", "m ˈo rʲ ɪ"),
        ("дор+оге", "d ɐ r ˈo gʲ ɪ"),
        ("сч+астье", "ɕː ˈa sʲ tʲ j ə"),
        ("+имя", "ˈi mʲ ə"),
        ("н+яня", "nʲ ˈa nʲ ə"),
        ("рук+а", "r ʊ k ˈa"),
        ("люб+овь", "lʲ ʊ b ˈo fʲ"),
        ("лис+а", "lʲ ɪ s ˈa"),
        ("мыш+и", "m ɨ ʂ ˈɨ"),
        ("жен+а", "ʐ ɨ n ˈa"),
        ("шаг+и", "ʂ ɐ gʲ ˈi"),
        ("цен+а", "ts ɨ n ˈa"),
        ("ж+ёлтый", "ʐ ˈo l t ɨ j"),
        ("эт+аж", "ɪ t ˈa ʂ"),
        ("ег+о", "j ɪ v ˈo"),
        # unstressed clitics: a/o -> ɐ, soft e -> ɪ, no final-ə rule
        ("на", "n ɐ"),
        ("не", "nʲ ɪ"),
        ("и", "ɪ"),
        ("же", "ʐ ɨ"),
    ],
)
def test_vowel_reduction(g2p, word, expected):
    check(g2p, word, expected)


# --- 3. palatalisation, iotation, assimilative softening ------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("ж+ить", "ʐ ˈɨ tʲ"),
        ("ц+ирк", "ts ˈɨ r k"),
        ("ш+ить", "ʂ ˈɨ tʲ"),
        ("ч+ай", "tɕ ˈa j"),
        ("щ+ука", "ɕː ˈu k ə"),
        ("в+ещь", "vʲ ˈe ɕ"),
        ("съ+ел", "s j ˈe l"),
        ("пьёт", "pʲ j ˈo t"),
        ("+ель", "j ˈe lʲ"),
        ("соловь+и", "s ə l ɐ vʲ j ˈi"),
        ("мо+я", "m ɐ j ˈa"),
        ("к+ит", "kʲ ˈi t"),
        ("м+ать", "m ˈa tʲ"),
        ("г+ость", "g ˈo sʲ tʲ"),
        ("п+есня", "pʲ ˈe sʲ nʲ ə"),
        ("св+ет", "sʲ vʲ ˈe t"),
        ("к+ончик", "k ˈo nʲ tɕ ɪ k"),
        ("ж+енщина", "ʐ ˈe nʲ ɕː ɪ n ə"),
        ("в+анне", "v ˈa nʲː ɪ"),
        ("сд+елать", "z dʲ ˈe l ə tʲ"),
    ],
)
def test_palatalisation(g2p, word, expected):
    check(g2p, word, expected)


# --- 4. voicing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("л+одка", "l ˈo t k ə"),
        ("пр+осьба", "p r ˈo zʲ b ə"),
        ("сд+елать", "z dʲ ˈe l ə tʲ"),
        ("вокз+ал", "v ɐ g z ˈa l"),
        ("св+ет", "sʲ vʲ ˈe t"),
        ("л+авка", "l ˈa f k ə"),
        ("д+уб", "d ˈu p"),
        ("г+од", "g ˈo t"),
        ("гл+аз", "g l ˈa s"),
        ("н+ож", "n ˈo ʂ"),
        ("кр+овь", "k r ˈo fʲ"),
        ("гр+уздь", "g r ˈu sʲ tʲ"),
        ("тр+езв", "t rʲ ˈe s f"),
        ("отд+ать", "ɐ dː ˈa tʲ"),
        ("подпис+ать", "p ə t pʲ ɪ s ˈa tʲ"),
    ],
)
def test_voicing(g2p, word, expected):
    check(g2p, word, expected)


# --- 5. clusters -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("сч+астье", "ɕː ˈa sʲ tʲ j ə"),
        ("изв+озчик", "ɪ z v ˈo ɕː ɪ k"),
        ("мужч+ина", "m ʊ ɕː ˈi n ə"),
        ("д+етский", "dʲ ˈe ts kʲ ɪ j"),
        ("городск+ой", "g ə r ɐ ts k ˈo j"),
        ("улыб+ается", "ʊ l ɨ b ˈa j ɪ ts ə"),
        ("улыб+аться", "ʊ l ɨ b ˈa ts ə"),
        ("к+асса", "k ˈa sː ə"),
        ("в+анна", "v ˈa nː ə"),
        ("кл+асс", "k l ˈa s"),
        ("гр+уппа", "g r ˈu pː ə"),
        ("кл+ассный", "k l ˈa s n ɨ j"),
        ("ч+естный", "tɕ ˈe s n ɨ j"),
        ("л+естница", "lʲ ˈe sʲ nʲ ɪ ts ə"),
        ("п+оздно", "p ˈo z n ə"),
        ("пр+аздник", "p r ˈa zʲ nʲ ɪ k"),
        ("счастл+ивый", "ɕː ɪ s lʲ ˈi v ɨ j"),
        ("здр+авствуйте", "z d r ˈa s t v ʊ j tʲ ɪ"),
        ("ч+увство", "tɕ ˈu s t v ə"),
        ("с+олнце", "s ˈo n ts ə"),
        ("с+ердце", "sʲ ˈe r ts ə"),
        ("сердч+ишко", "sʲ ɪ r tɕ ˈi ʂ k ə"),
        ("гиг+антский", "gʲ ɪ g ˈa n s kʲ ɪ j"),
        ("голл+андский", "g ɐ lː ˈa n s kʲ ɪ j"),
        ("тур+истский", "t ʊ rʲ ˈi s kʲ ɪ j"),
        ("л+ётчик", "lʲ ˈo tɕː ɪ k"),
        ("дв+адцать", "d v ˈa tsː ə tʲ"),
        ("сш+ить", "ʂː ˈɨ tʲ"),
        ("сж+ечь", "ʐː ˈe tɕ"),
    ],
)
def test_clusters(g2p, word, expected):
    check(g2p, word, expected)


# --- 6. -ого / -его --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("ег+о", "j ɪ v ˈo"),
        ("кр+асного", "k r ˈa s n ə v ə"),
        ("с+инего", "sʲ ˈi nʲ ɪ v ə"),
        ("тог+о", "t ɐ v ˈo"),
        ("ничег+о", "nʲ ɪ tɕ ɪ v ˈo"),
        ("дорог+ого", "d ə r ɐ g ˈo v ə"),
        ("кого-нибудь", "k ɐ v ɐ nʲ ɪ b ʊ tʲ"),
        ("мн+ого", "m n ˈo g ə"),
        ("немн+ого", "nʲ ɪ m n ˈo g ə"),
        ("стр+ого", "s t r ˈo g ə"),
        ("д+орого", "d ˈo r ə g ə"),
        ("уб+ого", "ʊ b ˈo g ə"),
    ],
)
def test_ogo_endings(g2p, word, expected):
    check(g2p, word, expected)


# --- 7. exceptions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("чт+о", "ʂ t ˈo"),
        ("чт+обы", "ʂ t ˈo b ɨ"),
        ("чт+о-то", "ʂ t ˈo t ə"),
        ("п+очта", "p ˈo tɕ t ə"),
        ("кон+ечно", "k ɐ nʲ ˈe ʂ n ə"),
        ("кон+ечный", "k ɐ nʲ ˈe tɕ n ɨ j"),
        ("ск+учно", "s k ˈu ʂ n ə"),
        ("ск+учный", "s k ˈu ʂ n ɨ j"),
        ("сег+одня", "sʲ ɪ v ˈo d nʲ ə"),
        ("лёгкий", "lʲ ˈo xʲ kʲ ɪ j"),
        ("легк+о", "lʲ ɪ x k ˈo"),
        ("м+ягкий", "mʲ ˈa xʲ kʲ ɪ j"),
        ("б+ог", "b ˈo x"),
        ("т+ест", "t ˈe s t"),
        ("т+есты", "t ˈe s t ɨ"),
        ("т+есто", "tʲ ˈe s t ə"),
        ("каф+е", "k ɐ f ˈe"),
        ("мод+ель", "m ɐ d ˈe lʲ"),
        ("мод+ели", "m ɐ d ˈe lʲ ɪ"),
        ("компь+ютер", "k ɐ m pʲ j ˈu t e r"),
        ("интерн+ет", "ɪ n t e r n ˈe t"),
        ("от+ель", "ɐ t ˈe lʲ"),
        ("шосс+е", "ʂ ɐ sː ˈe"),
        ("т+емп", "t ˈe m p"),
        ("эн+ергия", "ɪ n ˈe r gʲ ɪ j ə"),
        ("кашн+е", "k ɐ ʂ n ˈe"),
        ("ст+енд", "s t ˈe n t"),
        ("б+ездна", "bʲ ˈe z d n ə"),
    ],
)
def test_exceptions(g2p, word, expected):
    check(g2p, word, expected)


def test_exception_table_symbols_are_in_inventory():
    for word, phonemes in EXCEPTIONS.items():
        assert all(is_phoneme(symbol) for symbol in phonemes), word


def test_user_exceptions_override():
    custom = RussianG2P({"д+ом": ["d", "ˈo", "m", "ə"], "ёж": ["j", "ˈo", "ʂ", "ɨ"]})
    assert custom.phonemize_word("д+ом") == ["d", "ˈo", "m", "ə"]
    assert custom.phonemize_word("+ёж") == ["j", "ˈo", "ʂ", "ɨ"]
    assert RussianG2P().phonemize_word("д+ом") == ["d", "ˈo", "m"]


def test_user_exception_outside_inventory_rejected():
    with pytest.raises(ValueError, match="inventory"):
        RussianG2P({"д+ом": ["d", "ˈo", "m", "Q"]})


# --- hyphens ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("кт+о-нибудь", "k t ˈo nʲ ɪ b ʊ tʲ"),
        ("из-за", "ɪ zː ɐ"),
        ("по-р+усски", "p ɐ r ˈu s kʲ ɪ"),
    ],
)
def test_hyphenated(g2p, word, expected):
    check(g2p, word, expected)


# --- phrase-level rules ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("в сад+у", "f | s ɐ d ˈu"),
        ("к д+ому", "g | d ˈo m ʊ"),
        ("с днём", "z | d nʲ ˈo m"),
        ("из с+ада", "ɪ s | s ˈa d ə"),
        ("от д+ома", "ɐ d | d ˈo m ə"),
        ("под стол+ом", "p ɐ t | s t ɐ l ˈo m"),
        ("г+од б+ыл", "g ˈo d | b ˈɨ l"),
        ("г+од пр+ошёл", "g ˈo t | p r ˈo ʂ o l"),
        ("г+од пош+ёл", "g ˈo t | p ɐ ʂ ˈo l"),
        ("сн+ег в+ыпал", "sʲ nʲ ˈe k | v ˈɨ p ə l"),
        ("сн+ег л+ёг", "sʲ nʲ ˈe k | lʲ ˈo k"),
        ("в окн+е", "v | ɐ k nʲ ˈe"),
        ("в вод+е", "v | v ɐ dʲ ˈe"),
        ("без ум+а", "bʲ ɪ z | ʊ m ˈa"),
        ("в игр+е", "v | ɨ g rʲ ˈe"),
        ("с +ивой", "s | ˈɨ v ə j"),
        ("с н+им", "s | nʲ ˈi m"),
        ("в", "f"),
        ("с ш+умом", "ʂ | ʂ ˈu m ə m"),
        ("из ж+изни", "ɪ ʐ | ʐ ˈɨ zʲ nʲ ɪ"),
    ],
)
def test_phrase(g2p, phrase, expected):
    words = phrase.split()
    result = g2p.phonemize_phrase(words)
    assert [" ".join(item) for item in result] == [part.strip() for part in expected.split("|")]


def test_phrase_shapes_and_word_consistency(g2p):
    words = ["мол+око", "на", "стол+е", "в", "г+ороде"]
    result = g2p.phonemize_phrase(words)
    assert len(result) == len(words)
    assert all(result)
    for word in words:
        assert g2p.phonemize_word(word) == g2p.phonemize_phrase([word])[0]
    assert g2p.phonemize_phrase([]) == []


def test_results_are_fresh_lists(g2p):
    first = g2p.phonemize_word("д+ом")
    first.append("x")
    assert g2p.phonemize_word("д+ом") == ["d", "ˈo", "m"]


# --- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "char", "position"),
    [("дом1", "1", 3), ("Дом", "Д", 0), ("house", "h", 0), ("д ом", " ", 1), ("до!", "!", 2)],
)
def test_unsupported_character(g2p, word, char, position):
    with pytest.raises(UnsupportedCharacterError) as info:
        g2p.phonemize_word(word)
    assert info.value.char == char
    assert info.value.position == position


@pytest.mark.parametrize("word", ["д+м", "дом+", "м+ол+око", "+", "++а", "д+-ом"])
def test_stress_mark_errors(g2p, word):
    with pytest.raises(StressMarkError):
        g2p.phonemize_word(word)


@pytest.mark.parametrize("word", ["", "ь", "-", "ъ-ь"])
def test_empty(g2p, word):
    with pytest.raises(EmptyTextError):
        g2p.phonemize_word(word)


def test_errors_in_phrase(g2p):
    with pytest.raises(UnsupportedCharacterError):
        g2p.phonemize_phrase(["д+ом", "x"])


# --- property: every symbol is in the inventory ----------------------------------------------
_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_VOWELS = "аеёиоуыэюя"
_chunk = st.text(alphabet=_LETTERS + "-", max_size=8)


@st.composite
def stressed_words(draw) -> str:
    return draw(_chunk) + "+" + draw(st.sampled_from(_VOWELS)) + draw(_chunk)


@settings(max_examples=400, deadline=None)
@given(word=stressed_words())
def test_random_words_stay_in_inventory(word):
    g2p = RussianG2P()
    try:
        phonemes = g2p.phonemize_word(word)
    except (StressMarkError, EmptyTextError):
        return  # a second ё ... never raises these; a stray + cannot appear by construction
    assert phonemes
    assert all(is_phoneme(symbol) for symbol in phonemes), (word, phonemes)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.one_of(stressed_words(), st.sampled_from(["в", "к", "с", "из", "от", "под"])), max_size=5))
def test_random_phrases_stay_in_inventory(words):
    result = RussianG2P().phonemize_phrase(words)
    assert len(result) == len(words)
    for phonemes in result:
        assert phonemes
        assert all(is_phoneme(symbol) for symbol in phonemes)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=10))
def test_arbitrary_text_raises_only_frontend_errors(text):
    with contextlib.suppress(FrontendError):
        RussianG2P().phonemize_word(text)
