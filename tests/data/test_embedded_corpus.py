"""The embedded espeak-ng corpus: determinism, schema, exact timings, speakers, splits, failures."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip(
    "espeakng_loader",
    reason="espeak-ng (espeakng-loader) is not installed: pip install 'prosody-tts[espeak]'",
)

from prosody_tts.data.schema import validate_example
from prosody_tts.data.sources import embedded, espeak_synth
from prosody_tts.data.sources.sentences import load_sentences

HOP = 256


def _build(path: Path, **kwargs) -> embedded.CorpusSummary:
    return embedded.build_embedded_corpus(
        path, utterances_per_speaker=6, speakers=2, seed=0, workers=1, show_progress=False, **kwargs
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("embedded")
    summary = _build(path)
    examples = []
    for split in embedded.SPLITS:
        for line in (path / f"{split}.jsonl").read_text("utf-8").splitlines():
            example = json.loads(line)
            audio, rate = sf.read(path / example["audio"], dtype="float32")
            assert rate == embedded.SAMPLING_RATE
            examples.append((split, example, audio))
    return path, summary, examples


def _frame_features(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame RMS and spectral centroid (Hz) at hop 256."""
    frames = audio[: len(audio) // HOP * HOP].reshape(-1, HOP)
    rms = np.sqrt((frames**2).mean(axis=1))
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(HOP), axis=1))
    freqs = np.fft.rfftfreq(HOP, 1 / embedded.SAMPLING_RATE)
    centroid = (spectrum * freqs).sum(axis=1) / np.maximum(spectrum.sum(axis=1), 1e-9)
    return rms, centroid


def test_counts_and_nothing_skipped(corpus):
    _, summary, examples = corpus
    assert summary.counts == {"train": 10, "heldout": 2}
    assert summary.skipped == []
    assert summary.alignment_paths["phoneme_input"] == 12
    assert len(examples) == 12


def test_rebuild_is_byte_identical_whatever_the_scheduling(corpus, tmp_path):
    """Two workers take the 4 shards in whatever order the scheduler gives: same bytes as one worker."""
    path, summary, _ = corpus
    again = embedded.build_embedded_corpus(
        tmp_path, utterances_per_speaker=6, speakers=2, seed=0, workers=2, show_progress=False
    )
    assert again.content_sha256 == summary.content_sha256
    for name in ("train.jsonl", "heldout.jsonl"):
        assert (tmp_path / name).read_bytes() == (path / name).read_bytes()
    wavs = sorted(wav.name for wav in (path / "wavs").iterdir())
    assert wavs == sorted(wav.name for wav in (tmp_path / "wavs").iterdir())
    for name in wavs:
        assert (tmp_path / "wavs" / name).read_bytes() == (path / "wavs" / name).read_bytes(), name


def test_shards_follow_the_plan_not_the_scheduler():
    jobs = embedded.plan_corpus(utterances_per_speaker=50, speakers=2, seed=0)
    shards = embedded.plan_shards(jobs, shard_size=20)
    assert [job for shard in shards for job in shard] == jobs  # plan order, nothing lost
    for shard in shards:
        assert 1 <= len(shard) <= 20
        assert len({(job["speaker"], job["split"]) for job in shard}) == 1
    # 45 train + 5 held-out per speaker: 20 + 20 + 5 and 5
    assert [len(shard) for shard in shards] == [20, 20, 5, 5] * 2
    with pytest.raises(ValueError, match="shard_size"):
        embedded.plan_shards(jobs, shard_size=0)


def test_examples_valid_and_durations_exact(corpus):
    _, _, examples = corpus
    for split, example, audio in examples:
        frames = len(audio) // HOP
        validate_example(example, num_frames=frames)
        assert sum(example["phoneme_durations"]) == frames
        assert example["source"] == "embedded" and example["id"].startswith(split)
        for symbol, duration in zip(example["phonemes"], example["phoneme_durations"], strict=True):
            if symbol == "#":
                assert duration >= 0


def test_phonemes_are_frontend_output(corpus):
    from prosody_tts.text.frontend import RussianFrontend

    _, _, examples = corpus
    frontend = RussianFrontend()
    outputs = frontend.batch([example["text"] for _, example, _ in examples])
    for (_, example, _), output in zip(examples, outputs, strict=True):
        assert example["phonemes"] == output.phonemes
        assert example["stressed_text"] == output.stressed


def test_heldout_disjoint_from_train(corpus):
    _, _, examples = corpus
    train = {example["text"] for split, example, _ in examples if split == "train"}
    heldout = {example["text"] for split, example, _ in examples if split == "heldout"}
    assert heldout and train and not heldout & train
    assert heldout <= set(load_sentences("heldout")) and train <= set(load_sentences("train"))


def test_speakers_sound_different(corpus):
    _, _, examples = corpus
    centroids = defaultdict(list)
    for _, example, audio in examples:
        rms, centroid = _frame_features(audio)
        voiced = rms > 0.1 * rms.max()
        centroids[example["speaker"]].append(float(np.average(centroid[voiced], weights=rms[voiced])))
    means = sorted(np.mean(values) for values in centroids.values())
    assert len(means) == 2 and means[1] / means[0] > 1.05, means


def test_timings_are_real(corpus):
    """Stressed vowels are louder than pauses; voiceless fricatives brighter than vowels."""
    _, _, examples = corpus
    vowel_rms, pause_rms, vowel_centroid, fricative_centroid = [], [], [], []
    for _, example, audio in examples:
        rms, centroid = _frame_features(audio)
        bounds = np.concatenate([[0], np.cumsum(example["phoneme_durations"])])
        for index, symbol in enumerate(example["phonemes"]):
            start, end = bounds[index], bounds[index + 1]
            if end - start < 1:
                continue
            if symbol.startswith("ˈ"):
                vowel_rms.extend(rms[start:end])
                vowel_centroid.extend(centroid[start:end])
            elif symbol in (",", "—", ".", "?", "!", ":", ";", "…") and end - start >= 3:
                pause_rms.extend(rms[start + 1 : end - 1])  # away from the neighbours' edges
            elif symbol in ("s", "sʲ", "ʂ", "ɕː", "f", "fʲ", "sː"):
                fricative_centroid.extend(centroid[start:end])
    assert pause_rms and fricative_centroid
    assert np.mean(vowel_rms) > 5 * np.mean(pause_rms)
    assert np.mean(fricative_centroid) > 1.5 * np.mean(vowel_centroid)


def test_failures_are_reported(tmp_path, monkeypatch):
    pools = {"train": ["Привет ☃ мир."], "heldout": ["Добрый вечер."]}
    monkeypatch.setattr(embedded, "load_sentences", lambda split: pools[split])
    summary = embedded.build_embedded_corpus(
        tmp_path, utterances_per_speaker=2, speakers=1, workers=1, show_progress=False
    )
    assert summary.counts == {"train": 0, "heldout": 1}
    assert [item["id"] for item in summary.skipped] == ["train_espeak_f1_0000"]
    assert "front-end" in summary.skipped[0]["reason"]
    saved = json.loads((tmp_path / "corpus.json").read_text("utf-8"))
    assert saved["skipped"] == summary.skipped and saved["alignment_paths"]["skipped"] == 1


def test_alignment_rejects_a_broken_correspondence():
    phonemes = ["d", "ˈo", "m", ",", "#", "d", "ˈo", "m", "."]
    synthesizer = espeak_synth.EspeakSynthesizer()
    waveform, events = synthesizer.synthesize(espeak_synth.to_espeak_phonemes(phonemes), "ru+f1")
    alignment = espeak_synth.align_events(phonemes, events, len(waveform))
    assert len(alignment.starts) == len(phonemes)
    assert alignment.starts[3] < alignment.starts[5]  # the comma holds the pause
    with pytest.raises(espeak_synth.AlignmentError):
        espeak_synth.align_events(phonemes, events[:-4], len(waveform))  # events missing
    with pytest.raises(espeak_synth.AlignmentError):
        espeak_synth.align_events(["ˈa", *phonemes], events, len(waveform))  # extra vowel


def test_frame_durations_sum_exactly():
    start, end, durations = espeak_synth.frame_durations([100, 300, 300, 5000], 9000, HOP)
    assert (start, end) == (100, 9000)
    assert sum(durations) == (9000 - 100) // HOP and min(durations) >= 0


def test_bad_arguments():
    with pytest.raises(ValueError):
        embedded.build_embedded_corpus("unused", speakers=9)
    with pytest.raises(ValueError):
        embedded.build_embedded_corpus("unused", utterances_per_speaker=0)


def test_durations_are_counted_in_the_feature_extractors_hop(monkeypatch):
    from prosody_tts.processing import feature_extraction

    assert embedded.frame_hop_length() == feature_extraction.MelFeatureExtractor().hop_length == HOP

    class SixteenKilohertz:
        sampling_rate, hop_length = 16_000, 160

    monkeypatch.setattr(feature_extraction, "MelFeatureExtractor", SixteenKilohertz)
    with pytest.raises(ValueError, match="16000 Hz but espeak writes 22050 Hz"):
        embedded.frame_hop_length()
