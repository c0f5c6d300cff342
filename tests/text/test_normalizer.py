"""Tests for the Russian text normaliser (prosody_tts.text.normalizer)."""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prosody_tts.text.errors import (
    EmptyTextError,
    FrontendError,
    StressMarkError,
    TransliterationWarning,
    UnsupportedCharacterError,
)
from prosody_tts.text.inventory import PUNCTUATION
from prosody_tts.text.normalizer import RussianNormalizer, normalize_text, transliterate_latin

_P = re.escape("".join(PUNCTUATION))
_ALLOWED = re.compile(f"^[А-Яа-яЁё+\\- {_P}]*$")
_LETTER = "А-Яа-яЁё"
_VOWELS = "аеёиоуыэюяАЕЁИОУЫЭЮЯ"


def assert_contract(out: str) -> None:
    """The output contract other modules rely on."""
    assert isinstance(out, str) and out
    assert _ALLOWED.match(out), out
    assert out == out.strip() and "  " not in out, out
    assert re.search(f"[{_LETTER}]", out), out
    # stress marks: only before a vowel
    assert not re.search(f"\\+(?![{_VOWELS}])", out), out
    # hyphens: only inside words
    assert not re.search(f"(?<![{_LETTER}+])-|-(?![{_LETTER}+])", out), out
    # punctuation: attached to a word (or a stress-marked vowel) and followed by a space or the end
    for m in re.finditer(f"[{_P}]", out):
        i = m.start()
        assert i > 0 and re.match(f"[{_LETTER}]", out[i - 1]), out
        assert i + 1 == len(out) or out[i + 1] == " ", out
    # spaces separate words/punctuation from the next word
    for m in re.finditer(" ", out):
        assert re.match(f"[{_LETTER}+]", out[m.end()]), out


def norm(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransliterationWarning)
        out = normalize_text(text)
    assert_contract(out)
    return out


EXAMPLES = [
    # numbers with agreement
    ("в 2025 году", "в две тысячи двадцать пятом году"),
    ("3 книги", "три книги"),
    ("21 час", "двадцать один час"),
    ("1 книга", "одна книга"),
    ("2 минуты", "две минуты"),
    ("1 окно", "одно окно"),
    ("1 минуту назад", "одну минуту назад"),
    ("с 5 друзьями", "с пятью друзьями"),
    ("до 10 лет", "до десяти лет"),
    ("к 5 часам", "к пяти часам"),
    ("в 3 книгах", "в трёх книгах"),
    ("за 5 минут", "за пять минут"),
    ("в 5 классе", "в пятом классе"),
    # ordinals
    ("1-й", "первый"),
    ("2-го", "второго"),
    ("25-го мая", "двадцать пятого мая"),
    ("в 1990-х", "в тысяча девятьсот девяностых"),
    ("в 90-е годы", "в девяностые годы"),
    ("1-я глава", "первая глава"),
    ("2-х", "двух"),
    ("5-летний", "пятилетний"),
    # decimals, negative, large
    ("3,5", "три целых пять десятых"),
    ("3.14", "три целых четырнадцать сотых"),
    ("-5", "минус пять"),
    ("было −3", "было минус три"),
    ("1000000", "один миллион"),
    ("2500000 человек", "два миллиона пятьсот тысяч человек"),
    ("10 000", "десять тысяч"),
    ("за 1500 руб.", "за тысячу пятьсот рублей."),
    ("1000 лет", "тысяча лет"),
    ("1 000 000 рублей", "один миллион рублей"),
    ("007", "ноль ноль семь"),
    # dates
    ("25.12.2024", "двадцать пятое декабря две тысячи двадцать четвёртого года"),
    ("до 25.12.2024", "до двадцать пятого декабря две тысячи двадцать четвёртого года"),
    ("2024-12-25", "двадцать пятое декабря две тысячи двадцать четвёртого года"),
    ("1 мая", "первое мая"),
    ("до 1 мая", "до первого мая"),
    ("с 1 мая", "с первого мая"),
    ("с 1 по 5 мая", "с первого по пятое мая"),
    ("в мае 2024", "в мае две тысячи двадцать четвёртого года"),
    ("2024 г.", "две тысячи двадцать четвёртый год."),
    ("в 2024 г.", "в две тысячи двадцать четвёртом году."),
    ("с 2020 г. по 2024 г.", "с две тысячи двадцатого года по две тысячи двадцать четвёртый год."),
    ("2024 год", "две тысячи двадцать четвёртый год"),
    ("в 988 году", "в девятьсот восемьдесят восьмом году"),
    ("3 года", "три года"),
    ("21 век", "двадцать первый век"),
    # times
    ("в 10:30", "в десять тридцать"),
    ("в 7:05", "в семь ноль пять"),
    ("к 10:30", "к десяти тридцати"),
    ("в 12:00", "в двенадцать ноль-ноль"),
    # money
    ("100 руб.", "сто рублей."),
    ("100 руб. за штуку", "сто рублей за штуку"),
    ("100 ₽", "сто рублей"),
    ("1 ₽", "один рубль"),
    ("50 коп.", "пятьдесят копеек."),
    ("5 долларов", "пять долларов"),
    ("$5", "пять долларов"),
    ("$1", "один доллар"),
    ("€3", "три евро"),
    ("5 тыс. руб.", "пять тысяч рублей."),
    ("$5 млн", "пять миллионов долларов"),
    ("3 млн", "три миллиона"),
    ("2 млрд", "два миллиарда"),
    # percent
    ("50%", "пятьдесят процентов"),
    ("1%", "один процент"),
    ("2%", "два процента"),
    ("5%", "пять процентов"),
    ("на 3,5%", "на три целых пять десятых процента"),
    # units
    ("5 км", "пять километров"),
    ("1 км", "один километр"),
    ("10 м", "десять метров"),
    ("2 см", "два сантиметра"),
    ("3 мм", "три миллиметра"),
    ("10 кг", "десять килограммов"),
    ("5 г", "пять граммов"),
    ("3 т", "три тонны"),
    ("2 л", "два литра"),
    ("500 мл", "пятьсот миллилитров"),
    ("2 ч", "два часа"),
    ("30 мин", "тридцать минут"),
    ("1 мин", "одна минута"),
    ("10 сек", "десять секунд"),
    ("10 с.", "десять секунд."),
    ("60 км/ч", "шестьдесят километров в час"),
    ("-5°C", "минус пять градусов Цельсия"),
    ("20 °С", "двадцать градусов Цельсия"),
    ("5км", "пять километров"),
    # abbreviations
    ("т.е. это", "то есть это"),
    ("яблоки, груши и т.д.", "яблоки, груши и так далее."),
    ("и т.п.", "и тому подобное."),
    ("и др.", "и другие."),
    ("г. Москва", "город Москва"),
    ("ул. Ленина, д. 5", "улица Ленина, дом пять"),
    ("на ул. Ленина", "на улице Ленина"),
    ("им. Пушкина", "имени Пушкина"),
    ("№ 5", "номер пять"),
    ("№5", "номер пять"),
    # Roman numerals
    ("XIX век", "девятнадцатый век"),
    ("в XX веке", "в двадцатом веке"),
    ("XIX в.", "девятнадцатый век."),
    ("в XIX в.", "в девятнадцатом веке."),
    ("век XIX", "век девятнадцатый"),
    ("XX съезд", "двадцатый съезд"),
    ("Пётр I", "Пётр первый"),
    ("Екатерина II", "Екатерина вторая"),
    ("Людовик XIV", "Людовик четырнадцатый"),
    ("при Петре I", "при Петре первом"),
    # stress, ё, hyphens, homoglyphs
    ("з+амок", "з+амок"),
    ("Зам+ок и з+амок.", "Зам+ок и з+амок."),
    ("ёжик Ёлка", "ёжик Ёлка"),
    ("кто-нибудь", "кто-нибудь"),
    ("пpивет", "привет"),  # Latin p
    ("зaмок", "замок"),  # Latin a
    ("за\u0301мок", "з+амок"),  # combining acute as the stress mark
    # punctuation
    ("Привет,мир!", "Привет, мир!"),
    ("Привет , мир !", "Привет, мир!"),
    ("Что?!", "Что?"),
    ("Ура!!!", "Ура!"),
    ("Ну...", "Ну…"),
    ("Ну… да", "Ну… да"),
    ("Он (мой друг) пришёл.", "Он, мой друг, пришёл."),
    ("Он [мой друг] пришёл.", "Он, мой друг, пришёл."),
    ("Он пришёл (наконец).", "Он пришёл, наконец."),
    ("«Да», сказал он", "Да, сказал он"),
    ('"Да" — сказал он', "Да— сказал он"),
    ("это – то", "это— то"),
    ("это - то", "это— то"),
    ("— Привет, — сказал он.", "Привет— сказал он."),
    ("Итак: раз; два", "Итак: раз; два"),
    ("2+2=4", "два плюс два равно четыре"),
    ("Иванов & сын", "Иванов и сын"),
    # whitespace and invisibles
    ("  при\u00adвет\u200b\tмир \n", "привет мир"),
    ("10\u00a0000 рублей", "десять тысяч рублей"),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES)
def test_examples(text: str, expected: str) -> None:
    assert norm(text) == expected


def test_plain_text_unchanged() -> None:
    text = "Мама мыла раму. Папа читал газету, а дети играли!"
    assert norm(text) == text


# ---------------------------------------------------------------- Latin
def test_transliteration_scheme() -> None:
    assert transliterate_latin("hello") == "хелло"
    assert transliterate_latin("Sherlock") == "Шерлок"
    assert transliterate_latin("phone") == "фоне"
    assert transliterate_latin("three") == "три"
    assert transliterate_latin("book") == "бук"
    assert transliterate_latin("box") == "бокс"
    assert transliterate_latin("web") == "веб"
    assert transliterate_latin("yes") == "йес"
    assert transliterate_latin("boy") == "бой"
    assert transliterate_latin("system") == "систем"
    assert transliterate_latin("city") == "цити"  # c -> ц before e, i, y
    assert transliterate_latin("cat") == "кат"
    assert transliterate_latin("NASA") == "НАСА"
    assert transliterate_latin("café") == "кафе"
    assert transliterate_latin("echo") == "эчо"
    with pytest.raises(ValueError):
        transliterate_latin("при")


def test_latin_warns_once_naming_words() -> None:
    with pytest.warns(TransliterationWarning) as rec:
        out = normalize_text("Скажи hello и world, hello!")
    assert out == "Скажи хелло и ворлд, хелло!"
    assert len([w for w in rec if issubclass(w.category, TransliterationWarning)]) == 1
    msg = str(rec[0].message)
    assert "hello" in msg and "world" in msg


def test_lone_roman_letter_is_latin_word() -> None:
    with pytest.warns(TransliterationWarning):
        assert normalize_text("пункт V") == "пункт В"


def test_homoglyphs_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransliterationWarning)
        assert normalize_text("пpивет мир") == "привет мир"


def test_latin_error_mode() -> None:
    strict = RussianNormalizer(latin="error")
    with pytest.raises(UnsupportedCharacterError) as exc:
        strict("Скажи hello")
    assert exc.value.position == 6 and exc.value.char == "h"
    assert strict("пpивет") == "привет"  # homoglyphs are still fixed
    assert strict("XIX век") == "девятнадцатый век"
    with pytest.raises(ValueError):
        RussianNormalizer(latin="drop")  # type: ignore[arg-type]


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", [None, 5, b"text", ["a"]])
def test_type_error(bad) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        normalize_text(bad)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b", "...", "!?", "—", "«»", "( )"])
def test_empty(text: str) -> None:
    with pytest.raises(EmptyTextError):
        normalize_text(text)


@pytest.mark.parametrize(
    ("text", "char", "pos"),
    [
        ("Привет 😀 мир", "😀", 7),
        ("Привет 你好", "你", 7),
        ("Привет مرحبا", "م", 7),
        ("Привет\x07мир", "\x07", 6),
        ("а*б", "*", 1),
        ("привет @ мир", "@", 7),
        ("и/или", "/", 1),
        ("скидка %", "%", 7),
        ("Слово \u0301", "\u0301", 6),
        ("Ελλάδα", "Ε", 0),
    ],
)
def test_unsupported_characters(text: str, char: str, pos: int) -> None:
    with pytest.raises(UnsupportedCharacterError) as exc:
        normalize_text(text)
    assert exc.value.char == char
    assert exc.value.position == pos
    assert isinstance(exc.value, FrontendError)


def test_stress_before_consonant() -> None:
    with pytest.raises(StressMarkError):
        normalize_text("з+мок")


# ---------------------------------------------------------------- property test
_ALPHABET = st.one_of(
    st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЕЁЖЗИКМНОПРСТ")),
    st.sampled_from(list("0123456789")),
    st.sampled_from(list(" \t\n,.?!…—–-:;()[]{}«»\"'%$€₽°/№+&=")),
    st.sampled_from(list("abcehkmoptxyIVXLCDM")),
    st.sampled_from(["т.е.", "г.", "руб.", "км", "мая", "году", " в ", " с ", "+а", "-й", "XIX", "\u200b"]),
    st.characters(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_contract_property(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransliterationWarning)
            out = normalize_text(text)
    except (EmptyTextError, UnsupportedCharacterError, StressMarkError) as exc:
        if isinstance(exc, UnsupportedCharacterError):
            assert 0 <= exc.position < len(text)
            assert text[exc.position] == exc.char
        return
    assert_contract(out)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_contract_property_any_unicode(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransliterationWarning)
            out = normalize_text(text)
    except (EmptyTextError, UnsupportedCharacterError, StressMarkError):
        return
    assert_contract(out)


# ---------------------------------------------------------------- long text and speed
_SENTENCES = [
    "В 2025 году в городе открылись 3 новые школы.",
    "Он купил 5 книг за 1500 руб. и ушёл домой.",
    "Встреча назначена на 25.12.2024 в 10:30.",
    "Температура упала до -5°C, а ветер усилился до 15 м/с.",
    "Скидка 50% действует до 1 мая!",
    "Пётр I основал город в начале XVIII века.",
    "Мы шли 3,5 км, т.е. почти час.",
    "Кто-нибудь видел моего кота? Он рыжий и пушистый…",
]


@pytest.mark.slow
def test_long_paragraph() -> None:
    paragraph = " ".join(_SENTENCES * 200)[:10_000]
    paragraph = paragraph[: paragraph.rfind(".") + 1]
    assert len(paragraph) > 9_000
    out = norm(paragraph)  # speed is measured by benchmarks, not asserted here
    assert out.count("двадцать пятое декабря") >= 25
    assert not re.search(r"\d", out)


def test_every_abbreviation_the_normalizer_expands_is_in_the_shared_list():
    """The sentence splitter and the normaliser read one abbreviation list."""
    import re

    from prosody_tts.text.normalizer.units import _ABBREVIATIONS, ABBREVIATIONS

    stems = set()
    for pattern, _, _ in _ABBREVIATIONS:
        stems.update(re.findall(r"([а-яё]+)\\\.", pattern.pattern))
    assert stems and stems <= ABBREVIATIONS, stems - ABBREVIATIONS
