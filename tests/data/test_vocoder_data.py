"""Vocoder data: utterances read from a corpus, aligned random windows, silence padding, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

from prosody_tts.data.vocoder import (
    VocoderCollator,
    VocoderSegmentDataset,
    load_vocoder_utterances,
    segment_frames_for,
)

HOP = 256


@pytest.fixture(scope="module")
def utterances(processor, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    examples = []
    for i, seconds in enumerate((0.5, 0.3)):
        t = np.arange(int(22050 * seconds)) / 22050
        wave = (0.3 * np.sin(2 * np.pi * (150 + 50 * i) * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
        soundfile.write(folder / f"u{i}.wav", wave, 22050)
        examples.append({"id": f"u{i}", "audio": {"path": str(folder / f"u{i}.wav"), "bytes": None}})
    examples.append({"id": "broken", "audio": {"path": str(folder / "missing.wav"), "bytes": None}})
    (folder / "short.wav").write_bytes(b"")
    soundfile.write(folder / "tiny.wav", np.zeros(100, dtype=np.float32), 22050)
    examples.append({"id": "tiny", "audio": {"path": str(folder / "tiny.wav"), "bytes": None}})
    return load_vocoder_utterances(examples, processor.feature_extractor, show_progress=False)


def test_bad_files_are_skipped_and_counted_the_rest_kept_whole(utterances, processor):
    rows, skipped = utterances
    assert [row["id"] for row in rows] == ["u0", "u1"]
    assert skipped == {"unreadable audio": 1, "shorter than one frame": 1}
    for row in rows:
        frames = row["input_features"].shape[0]
        assert row["waveform"].shape == (frames * HOP,) and frames == int(22050 * (0.5 if row["id"] == "u0" else 0.3)) // HOP


def test_nothing_usable_is_an_error(processor):
    with pytest.raises(ValueError, match="no usable utterance"):
        load_vocoder_utterances([{"id": "x", "audio": {"path": "/nonexistent.wav", "bytes": None}}], processor.feature_extractor, show_progress=False)


def test_windows_are_aligned_seeded_per_epoch_and_short_items_padded_with_silence(utterances, processor):
    rows, _ = utterances
    extractor = processor.feature_extractor
    dataset = VocoderSegmentDataset(rows, 16, HOP, float(extractor.padding_value), seed=3)
    item = dataset[0]
    assert item["input_features"].shape == (16, 80) and item["waveform"].shape == (16 * HOP,)
    # the window's own mels, recomputed from its samples, match the window (away from its edges)
    again = extractor(item["waveform"], sampling_rate=22050, return_tensors="np")["input_features"][0]
    np.testing.assert_allclose(again[2:-2], item["input_features"][2:-2], atol=1e-4)
    assert np.array_equal(dataset[0]["waveform"], item["waveform"])  # same epoch, same window
    windows = set()
    for epoch in range(6):
        dataset.set_epoch(epoch)
        windows.add(float(dataset[0]["waveform"][0]))
    assert len(windows) > 1  # another window in another epoch
    long = VocoderSegmentDataset(rows, 40, HOP, float(extractor.padding_value))  # longer than u1 (25 frames)
    padded = long[1]
    frames = rows[1]["input_features"].shape[0]
    assert np.array_equal(padded["waveform"][: frames * HOP], rows[1]["waveform"]) and not padded["waveform"][frames * HOP :].any()
    assert (padded["input_features"][frames:] == np.float32(extractor.padding_value)).all()


def test_collator_stacks_and_refuses_mixed_sizes(utterances, processor):
    rows, _ = utterances
    dataset = VocoderSegmentDataset(rows, 8, HOP, float(processor.feature_extractor.padding_value))
    batch = VocoderCollator()([dataset[0], dataset[1]])
    assert batch["input_features"].shape == (2, 8, 80) and batch["waveform"].shape == (2, 8 * HOP)
    assert batch["waveform"].dtype == torch.float32
    other = VocoderSegmentDataset(rows, 4, HOP, -11.5)
    with pytest.raises(ValueError, match="different sizes"):
        VocoderCollator()([dataset[0], other[0]])


def test_misaligned_rows_and_segment_sizes_are_refused():
    with pytest.raises(ValueError, match="frames × hop"):
        VocoderSegmentDataset([{"id": "a", "input_features": np.zeros((3, 80)), "waveform": np.zeros(700)}], 2, HOP, -11.5)
    with pytest.raises(ValueError, match="not a multiple"):
        segment_frames_for(8000, HOP)
    assert segment_frames_for(8192, HOP) == 32
