"""festvox-ru: parsing on a synthetic voice folder always; the real package when it is installed."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from prosody_tts.data.schema import decode_example_audio, validate_example
from prosody_tts.data.sources.festvox import (
    FESTVOX_SOURCE,
    FESTVOX_SPEAKER,
    FESTVOX_TO_IPA,
    FestvoxNotInstalled,
    festvox_label_segments,
    festvox_split,
    find_festvox_ru,
    load_festvox_ru,
    read_lab,
    read_txt_done_data,
)
from prosody_tts.text.inventory import is_symbol


def _installed() -> bool:
    try:
        find_festvox_ru()
    except FestvoxNotInstalled:
        return False
    return True


needs_festvox = pytest.mark.skipif(
    not _installed(), reason="festvox-ru is not installed: apt-get install festvox-ru"
)


@pytest.fixture
def fake_voice(tmp_path):
    """A two-utterance voice folder with the package's layout."""
    root = tmp_path / "msu_ru_nsh_clunits"
    for sub in ("etc", "wav", "lab"):
        (root / sub).mkdir(parents=True)
    (root / "etc" / "txt.done.data").write_text(
        '( ru_0001 "Она завела, прядь вол+ос." )\n( ru_0002 "Да." )\n', encoding="utf-8"
    )
    for name, seconds, labels in (
        ("ru_0001", 0.5, [(0.10, "pau"), (0.18, "a"), (0.30, "n"), (0.49, "aa")]),
        ("ru_0002", 0.3, [(0.05, "pau"), (0.12, "d"), (0.29, "aa")]),
    ):
        sf.write(root / "wav" / f"{name}.wav", np.full(int(16000 * seconds), 0.1, np.float32), 16000)
        body = "".join(f"{end:.5f} 125 {phone}\n" for end, phone in labels)
        (root / "lab" / f"{name}.lab").write_text("#\n" + body, encoding="utf-8")
    return root


def test_parsers_and_mapping_on_a_fake_voice(fake_voice):
    assert read_txt_done_data(fake_voice / "etc" / "txt.done.data")["ru_0001"] == "Она завела, прядь вол+ос."
    assert read_lab(fake_voice / "lab" / "ru_0002.lab") == [
        ("pau", 0.0, 0.05),
        ("d", 0.05, 0.12),
        ("aa", 0.12, 0.29),
    ]
    corpus = load_festvox_ru(fake_voice)
    assert len(corpus) == 2
    example = corpus.examples[0]
    validate_example(example)
    assert example["id"] == "ru_0001" and example["text"] == "Она завела, прядь вол+ос."
    assert (example["speaker"], example["source"]) == (FESTVOX_SPEAKER, FESTVOX_SOURCE)
    assert (
        example["phonemes"] is None
        and example["phoneme_durations"] is None
        and example["stressed_text"] is None
    )
    assert corpus.labels["ru_0002"]["festvox_phones"] == ["pau", "d", "aa"]
    assert np.allclose(corpus.labels["ru_0002"]["festvox_durations_sec"], [0.05, 0.07, 0.17])
    segments = festvox_label_segments(example)
    assert [s[0] for s in segments] == ["pau", "a", "n", "aa"]
    assert np.allclose([s[1:] for s in segments], [s[1:] for s in corpus.segments("ru_0001")])
    assert len(corpus.to_dataset()) == 2


def test_missing_voice_gives_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.delenv("FESTVOX_RU_DIR", raising=False)
    with pytest.raises(FestvoxNotInstalled, match="apt-get install festvox-ru"):
        load_festvox_ru(tmp_path / "nowhere")
    assert issubclass(FestvoxNotInstalled, FileNotFoundError)


def test_env_var_points_to_the_voice(fake_voice, monkeypatch):
    monkeypatch.setenv("FESTVOX_RU_DIR", str(fake_voice))
    assert find_festvox_ru() == fake_voice


def test_missing_wav_is_reported(fake_voice):
    os.remove(fake_voice / "wav" / "ru_0002.wav")
    with pytest.raises(FileNotFoundError, match="ru_0002"):
        load_festvox_ru(fake_voice)
    assert len(load_festvox_ru(fake_voice, strict=False)) == 1


def test_approximate_phone_table_uses_inventory_symbols():
    assert all(is_symbol(symbol) for symbol in FESTVOX_TO_IPA.values() if symbol is not None)
    assert FESTVOX_TO_IPA["pau"] is None


# ---------------------------------------------------------------- the real package


@needs_festvox
def test_real_festvox_ru():
    corpus = load_festvox_ru()
    assert len(corpus) == 620
    total = 0.0
    for example in corpus:
        validate_example(example)
        assert example["text"].strip()
        info = sf.info(example["audio"])
        assert info.samplerate == 16000 and info.channels == 1
        total += info.duration
        segments = festvox_label_segments(example)
        assert segments and segments[0][1] == 0.0
        starts = np.array([s[1] for s in segments])
        ends = np.array([s[2] for s in segments])
        assert np.all(ends > starts), example["id"]  # every phone has a positive duration
        assert np.allclose(starts[1:], ends[:-1])  # contiguous, hence monotonic
        assert ends[-1] <= info.duration + 1e-6, example["id"]  # within the audio
        assert set(corpus.labels[example["id"]]["festvox_phones"]) <= set(FESTVOX_TO_IPA)
    assert 1.5 * 3600 < total < 1.8 * 3600  # about 1.66 h
    assert sum("+" in e["text"] for e in corpus) > 100  # some transcripts carry stress marks
    waveform = decode_example_audio(corpus.examples[0], 22050)
    assert waveform.size == pytest.approx(sf.info(corpus.examples[0]["audio"]).duration * 22050, abs=2)


def test_a_fixed_split_holds_out_every_tenth_utterance_and_untimed_rows_prepare(fake_voice, processor):
    from prosody_tts.data.prepared import prepare_corpus

    corpus = load_festvox_ru(fake_voice)
    assert [ex["id"] for ex in festvox_split(corpus, "train", every=2)] == ["ru_0001"]
    assert [ex["id"] for ex in festvox_split(corpus, "heldout", every=2)] == ["ru_0002"]
    with pytest.raises(ValueError, match="splits"):
        festvox_split(corpus, "test")
    with pytest.raises(ValueError, match="no example survived"):  # no phoneme timings: refused by default
        prepare_corpus(corpus.examples, processor, show_progress=False)
    prepared = prepare_corpus(corpus.examples, processor, show_progress=False, require_durations=False)
    assert len(prepared) == 2 and prepared[0]["phoneme_durations"] is None
    assert prepared[0]["num_frames"] == int(0.5 * 22050) // 256
