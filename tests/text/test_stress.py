"""Stress placement: homographs from context, user marks, ё, clitics, thread count."""

import pytest
import torch

from prosody_tts.text.errors import StressMarkError
from prosody_tts.text.stress import (
    CLITICS,
    StressPlacer,
    apply_word_rules,
    count_vowels,
    load_silero_stress,
    stressed_vowel_index,
)


def _word(stressed: str, bare: str) -> str:
    """The stressed form of ``bare`` inside a stressed sentence."""
    for token in stressed.replace(",", " ").replace(".", " ").replace("?", " ").split():
        if token.replace("+", "").lower() == bare:
            return token
    raise AssertionError(f"{bare!r} not in {stressed!r}")


@pytest.mark.parametrize(
    ("sentence", "word", "expected"),
    [
        ("Старинный замок стоял на холме.", "замок", "з+амок"),
        ("Он закрыл дверь на замок.", "замок", "зам+ок"),
        ("Это настоящая мука.", "мука", "м+ука"),
        ("Мука для пирога лежит на столе.", "мука", "мук+а"),
        ("Сколько стоит хлеб?", "стоит", "ст+оит"),
        ("Он стоит у окна.", "стоит", "сто+ит"),
        ("Вчера все пришли вовремя.", "все", "вс+е"),
    ],
)
def test_homographs_resolved_from_context(stress_placer, sentence, word, expected):
    assert _word(stress_placer(sentence), word).lower() == expected


def test_yo_is_restored_and_stressed(stress_placer):
    out = stress_placer("Всё хорошо, ёжик пришел.")
    assert "Вс+ё" in out
    assert "+ёжик" in out
    assert "приш+ёл" in out  # ё restored by the model


def test_user_marks_win_exactly(stress_placer):
    # the model says з+амок here; the user's mark is kept as given
    out = stress_placer("Старинный зам+ок стоял на холме.")
    assert "зам+ок" in out
    assert _word(out, "старинный") == "Стар+инный"


def test_clitics_are_unstressed_and_content_monosyllables_stressed(stress_placer):
    out = stress_placer("Он вошёл в дом и сел на стул.")
    for clitic in ("в", "и", "на"):
        assert _word(out, clitic) == clitic
    assert _word(out, "дом") == "д+ом"
    assert _word(out, "он") == "+Он"


def test_every_content_word_has_exactly_one_mark(stress_placer):
    out = stress_placer("Мы купили хлеб, молоко, сыр и яблоки в магазине у дома.")
    for token in out.replace(",", " ").replace(".", " ").split():
        bare = token.replace("+", "").lower()
        expected = 0 if (bare in CLITICS or count_vowels(bare) == 0) else 1
        assert token.count("+") == expected, token


def test_hyphenated_words(stress_placer):
    out = stress_placer("Кто-нибудь пришёл из-за угла?")
    assert "Кт+о-нибудь" in out
    assert _word(out, "из-за") == "из-за"


def test_case_and_punctuation_preserved(stress_placer):
    out = stress_placer("ПРИВЕТ, мир!")
    assert out.replace("+", "") == "ПРИВЕТ, мир!"


def test_misplaced_user_mark_raises(stress_placer):
    with pytest.raises(StressMarkError, match="not followed by a vowel"):
        stress_placer("пр+вет")


def test_torch_threads_and_grad_mode_restored():
    torch.set_num_threads(2)
    assert torch.is_grad_enabled()
    # a real (uncached) load: silero's import sets 1 thread and its load disables autograd
    model, _ = load_silero_stress.__wrapped__()
    assert torch.get_num_threads() == 2
    assert torch.is_grad_enabled()
    placer = StressPlacer(model)
    placer("Привет")
    assert torch.get_num_threads() == 2
    assert torch.is_grad_enabled()


def test_cache_avoids_model_calls_for_known_non_homographs(stress_placer):
    stress_placer("Бабушка испекла пирог.")
    calls = stress_placer.model_calls
    assert stress_placer("Пирог испекла бабушка.") == "Пир+ог испекл+а б+абушка."
    assert stress_placer.model_calls == calls  # every word cached, none a homograph
    stress_placer("Бабушка закрыла замок.")  # a homograph always goes through the model
    assert stress_placer.model_calls == calls + 1


def test_word_rule_helpers():
    assert stressed_vowel_index("мол+око") == 1
    assert stressed_vowel_index("молоко") is None
    assert apply_word_rules("д+ом", "Дом") == "Д+ом"
    assert apply_word_rules("н+а", "на") == "на"  # clitic
    assert apply_word_rules("ел+ка", "ёлка") == "+ёлка"  # ё wins over the model
