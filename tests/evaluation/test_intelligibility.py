"""WER / CER after the documented normalisation, PER edits, and an ASR model loaded from a local directory."""

from __future__ import annotations

import pytest

from prosody_tts.evaluation.intelligibility import (
    AsrTranscriber,
    corpus_error_rates,
    error_rates,
    normalize_transcript,
    phoneme_edits,
)


def test_normalisation_steps():
    assert normalize_transcript("Ёлка, ЗЕЛЁНАЯ!") == "елка зеленая"
    assert normalize_transcript("Зам+ок на двер\u0301и") == "замок на двери"
    assert normalize_transcript("кто-то  пришёл…") == "кто то пришел"
    assert normalize_transcript("в 2025 году") == normalize_transcript("в две тысячи двадцать пятом году")
    assert normalize_transcript("в 2025 году", expand=False) == "в 2025 году"
    assert normalize_transcript("<unk> Кот", strict=False) == "unk кот"
    with pytest.raises(ValueError, match="cannot normalise"):
        normalize_transcript("<unk> Кот")
    with pytest.raises(TypeError):
        normalize_transcript(None)


def _levenshtein(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [("мама мыла раму", "мама мыла раму"), ("мама мыла раму", "мама раму"), ("мама мыла раму", "папа мыл раму сегодня"), ("кот", "")],
)
def test_error_rates_against_a_naive_levenshtein(reference, hypothesis):
    got = error_rates(reference, hypothesis)
    assert got["word_edits"] == _levenshtein(reference.split(), hypothesis.split())
    assert got["char_edits"] == _levenshtein(reference, hypothesis)
    assert got["wer"] == pytest.approx(got["word_edits"] / len(reference.split()))


def test_corpus_rates_pool_the_edits():
    out = corpus_error_rates(["мама мыла раму", "кот"], ["мама раму", "кот"])
    assert out["wer"] == pytest.approx(1 / 4) and out["utterances"] == 2
    with pytest.raises(ValueError, match="cannot normalise"):
        error_rates("!!!", "кот")
    # recogniser noise in a hypothesis is scored, not raised
    assert error_rates("кот", "<unk> cat")["word_edits"] == 2
    with pytest.raises(ValueError, match="2 references but 1"):
        corpus_error_rates(["а", "б"], ["а"])


def test_phoneme_edits():
    assert phoneme_edits(["a", "rʲ", "ˈe"], ["a", "r", "ˈe"]) == (1, 3)
    assert phoneme_edits(["a", "b"], []) == (2, 2)
    with pytest.raises(ValueError, match="without spaces"):
        phoneme_edits(["a b"], ["a"])


def test_asr_from_a_local_directory(tiny_asr_dir, corpus_utterances):
    """Any transformers ASR checkpoint works; a tiny random one transcribes (nonsense) offline."""
    asr = AsrTranscriber(str(tiny_asr_dir))
    assert asr.sampling_rate == 16000
    waveform, rate, row = next(iter(corpus_utterances.values()))[0]
    text = asr.transcribe(waveform, rate)
    assert isinstance(text, str)
    scores = error_rates(row["text"], text)
    assert scores["wer"] >= 0.0 and scores["reference_words"] == len(normalize_transcript(row["text"]).split())
