"""Tests for the built-in Russian sentence set and the seeded sentence generator."""

from __future__ import annotations

import re

import pytest

from prosody_tts.data.sources import sentences as sentences_module
from prosody_tts.data.sources.sentences import (
    SENTENCE_TYPES,
    generate_sentences,
    generator_capacity,
    is_heldout,
    load_sentences,
)

ALLOWED = re.compile(r"[А-Яа-яЁё0-9 .,?!—:;…«»()\-%]+")
WORD = re.compile(r"[0-9А-Яа-яЁё]+(?:-[0-9А-Яа-яЁё]+)*")
WH_WORDS = (
    "кто",
    "что",
    "где",
    "когда",
    "почему",
    "как",
    "сколько",
    "куда",
    "откуда",
    "зачем",
    "чей",
    "кому",
)
# Word forms of homographs (both readings spelled alike); the core ones must each occur at least twice.
CORE_HOMOGRAPHS = {
    "замок": ("замок", "замка", "замке", "замки"),
    "мука": ("мука", "муки", "мукой", "муку"),
    "стоит": ("стоит",),
    "дорога": ("дорога",),
    "белки": ("белки", "белка", "белку"),
    "пили": ("пили",),
    "орган": ("орган", "органа"),
    "атлас": ("атлас", "атласа", "атласе"),
    "полки": ("полки",),
    "кружки": ("кружки",),
    "писать": ("писать",),
}
OTHER_HOMOGRAPHS = (
    "все", "всё", "ирис", "хлопок", "хлопка", "уже", "плачу", "парит", "парила", "кругом", "сорока",
    "духи", "пропасть", "пропасти", "потом", "берегу", "засыпать", "засыпаю", "жаркое", "клетки",
    "клетке", "стрелки", "острота", "остротой", "гвоздики", "мою", "узнаю", "руки", "воды",
)  # fmt: skip


def words(sentence: str) -> list[str]:
    return [w.lower() for w in WORD.findall(sentence)]


@pytest.fixture(scope="module")
def all_sentences() -> list[str]:
    return load_sentences()


# --- the packaged sentence set ----------------------------------------------------------------


def test_counts_and_split(all_sentences):
    train, heldout = load_sentences("train"), load_sentences("heldout")
    assert len(all_sentences) >= 1100
    assert 0.05 <= len(heldout) / len(all_sentences) <= 0.15
    assert not set(train) & set(heldout)
    assert sorted(train + heldout) == sorted(all_sentences)
    assert load_sentences() == load_sentences("all")
    assert all(is_heldout(s) for s in heldout)
    assert not any(is_heldout(s) for s in train)


def test_split_is_stable_hash():
    # md5("Москва — столица России.") is fixed, so membership must not depend on PYTHONHASHSEED.
    assert is_heldout("Москва — столица России.") == is_heldout("Москва — столица России.")
    assert load_sentences("heldout") == load_sentences("heldout")


def test_bad_split():
    with pytest.raises(ValueError):
        load_sentences("test")  # type: ignore[arg-type]


def test_returns_copies(all_sentences):
    load_sentences().clear()
    assert load_sentences() == all_sentences


def test_no_duplicates(all_sentences):
    assert len(set(all_sentences)) == len(all_sentences)


def test_characters_and_shape(all_sentences):
    for s in all_sentences:
        assert ALLOWED.fullmatch(s), s
        assert s == s.strip() and "  " not in s, s
        assert s.endswith((".", "?", "!", "…")), s
        assert 3 <= len(words(s)) <= 20, s
    assert not any(re.search(r"[A-Za-z]", s) for s in all_sentences)


def test_variety(all_sentences):
    n = len(all_sentences)
    questions = [s for s in all_sentences if s.endswith("?")]
    wh = [s for s in questions if any(w in WH_WORDS for w in words(s))]
    yes_no = [s for s in questions if not any(w in WH_WORDS for w in words(s))]
    exclamations = [s for s in all_sentences if s.endswith("!")]
    digits = [s for s in all_sentences if re.search(r"\d", s)]
    dashes = [s for s in all_sentences if "—" in s]
    colons = [s for s in all_sentences if ":" in re.sub(r"\d:\d", "", s)]
    yo = [s for s in all_sentences if re.search("[ёЁ]", s)]
    enumerations = [s for s in all_sentences if re.search(r"\S+, \S+,? .*\bи \S+", s)]
    dialogue = [s for s in all_sentences if s.startswith("— ")]
    short = [s for s in all_sentences if len(words(s)) <= 4]
    long = [s for s in all_sentences if len(words(s)) >= 12]
    assert len(wh) >= 100
    assert len(yes_no) >= 100
    assert len(exclamations) >= 100
    assert 0.07 <= len(digits) / n <= 0.15
    assert re.search(r"\b\d{1,2}:\d\d\b", " ".join(digits))  # times
    assert re.search(r"\b(1[0-9]|20)\d\d году\b", " ".join(digits))  # years
    assert any("%" in s for s in digits)
    assert any("рубл" in s for s in digits)
    assert len(dashes) >= 60
    assert len(colons) >= 20
    assert len(yo) >= 20
    assert len(enumerations) >= 80
    assert len(dialogue) >= 10
    assert any("…" in s for s in all_sentences)
    assert any("«" in s and "»" in s for s in all_sentences)
    assert any("(" in s and ")" in s for s in all_sentences)
    assert any(";" in s for s in all_sentences)
    assert len(short) >= 100 and len(long) >= 60


def test_homographs(all_sentences):
    sets = [set(words(s)) for s in all_sentences]
    for lemma, forms in CORE_HOMOGRAPHS.items():
        hits = sum(1 for ws in sets if ws & set(forms))
        assert hits >= 2, lemma
    all_forms = {f for forms in CORE_HOMOGRAPHS.values() for f in forms} | set(OTHER_HOMOGRAPHS)
    assert sum(1 for ws in sets if ws & all_forms) >= 60
    # Both readings of a few pairs are present (ё marks one of the pair).
    assert any("все" in ws for ws in sets) and any("всё" in ws for ws in sets)


# --- the template generator -------------------------------------------------------------------


def test_capacity():
    assert generator_capacity() >= 20_000


def test_generator_deterministic():
    assert generate_sentences(500, seed=7) == generate_sentences(500, seed=7)
    assert generate_sentences(500, seed=7) != generate_sentences(500, seed=8)
    assert generate_sentences(0) == []


def test_generator_distinct_and_well_formed():
    out = generate_sentences(20_000, seed=1)
    assert len(out) == 20_000
    assert len(set(out)) == len(out)
    for s in out[:2000]:
        assert ALLOWED.fullmatch(s), s
        assert s[0].isupper() and s.endswith((".", "?", "!")), s
        assert 3 <= len(words(s)) <= 20, s
    ends = {end: sum(s.endswith(end) for s in out) for end in ".?!"}
    assert all(count >= 2000 for count in ends.values()), ends  # types are balanced
    assert sum(", " in s and " и " in s for s in out) >= 2000  # enumerations


def test_generator_agreement():
    verbs = [forms for forms, _ in sentences_module._VERBS]
    allowed = {
        "m": {f[0] for f in verbs} | {f[3] for f in verbs},
        "f": {f[1] for f in verbs} | {f[3] for f in verbs},
        "pl": {f[2] for f in verbs} | {f[4] for f in verbs},
    }
    subjects = sorted(sentences_module._SUBJECTS, key=lambda sg: -len(sg[0]))
    for s in generate_sentences(5000, seed=2):
        low = s.lower()
        for subject, gender in subjects:
            m = re.search(rf"(?:^|\s){re.escape(subject.lower())} (\w+)", low)
            if m:
                assert m.group(1) in allowed[gender], s
                break
        else:
            pytest.fail(f"no subject found in {s!r}")


def test_generator_too_many():
    with pytest.raises(ValueError, match=str(generator_capacity())):
        generate_sentences(generator_capacity() + 1)
    with pytest.raises(ValueError):
        generate_sentences(-1)


@pytest.mark.slow
def test_generator_every_template_sentence_is_distinct():
    everything = list(sentences_module._iter_all())
    assert len(everything) == generator_capacity() == len(set(everything))
    assert len(SENTENCE_TYPES) == 5
