"""Tests for MelFeatureExtractor: filterbank and log-mel vs librosa, shapes, padding, round trip."""

from __future__ import annotations

import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

librosa = pytest.importorskip("librosa")

from prosody_tts.processing.feature_extraction import (  # noqa: E402
    MelFeatureExtractor,
    hz_to_mel,
    mel_filterbank,
    mel_to_hz,
)
from prosody_tts.text.errors import AudioError  # noqa: E402

SR = 22050


@pytest.fixture(scope="module")
def fe() -> MelFeatureExtractor:
    return MelFeatureExtractor()


def _speechlike(seconds: float, seed: int, rate: int = SR) -> np.ndarray:
    """Harmonic tone with a wandering pitch plus a little noise, amplitude-modulated."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    x = x * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2) + 0.01 * rng.standard_normal(n)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _librosa_logmel(x: np.ndarray, fe: MelFeatureExtractor) -> np.ndarray:
    """Naive reference: same reflect padding, librosa STFT (center=False), power 1. (frames, n_mels)."""
    pad = (fe.n_fft - fe.hop_length) // 2
    y = np.pad(x, pad, mode="reflect")
    mel = librosa.feature.melspectrogram(
        y=y, sr=fe.sampling_rate, n_fft=fe.n_fft, hop_length=fe.hop_length, win_length=fe.win_length,
        window="hann", center=False, power=1.0, n_mels=fe.feature_size, fmin=fe.f_min, fmax=fe.f_max,
    )  # fmt: skip
    return np.log(np.maximum(mel, 1e-5)).T


# ----------------------------------------------------------------------------- filterbank


@pytest.mark.parametrize(
    ("sr", "n_fft", "n_mels", "fmin", "fmax", "htk", "norm"),
    [
        (22050, 1024, 80, 0.0, 8000.0, False, "slaney"),
        (16000, 512, 64, 50.0, None, False, "slaney"),
        (24000, 2048, 100, 0.0, 12000.0, True, None),
        (22050, 1024, 80, 0.0, 8000.0, True, "slaney"),
    ],
)
def test_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, "htk" if htk else "slaney", norm)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    assert ours.shape == ref.shape == (n_mels, 1 + n_fft // 2)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8)


def test_mel_scale_round_trip():
    hz = np.array([0.0, 100.0, 999.0, 1000.0, 4000.0, 11025.0])
    for scale in ("slaney", "htk"):
        np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz, scale), scale), hz, atol=1e-6)
        np.testing.assert_allclose(hz_to_mel(hz, scale), librosa.hz_to_mel(hz, htk=scale == "htk"))
    with pytest.raises(ValueError, match="mel_scale"):
        hz_to_mel(100.0, "bark")


def test_extractor_filterbank_is_librosa_default(fe):
    ref = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=80, fmin=0, fmax=8000)
    np.testing.assert_allclose(fe.mel_filters, ref, rtol=1e-5, atol=1e-8)


# ----------------------------------------------------------------------------- values and shapes


def test_log_mel_matches_librosa_reference(fe):
    x = _speechlike(2.0, seed=1)
    out = fe(x, sampling_rate=SR)
    ours = out["input_features"][0]
    ref = _librosa_logmel(x, fe)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-3


def test_defaults_and_padding_value(fe):
    assert fe.feature_size == 80 and fe.sampling_rate == SR
    assert (fe.n_fft, fe.hop_length, fe.win_length) == (1024, 256, 1024)
    assert (fe.f_min, fe.f_max) == (0.0, 8000.0)
    assert fe.padding_value == pytest.approx(math.log(1e-5))
    assert fe.model_input_names == ["input_features", "attention_mask"]


@pytest.mark.parametrize("n", [256, 300, 511, 512, 1000, 22050, 22050 * 3 + 17])
def test_frame_count(fe, n):
    x = _speechlike(n / SR + 1e-9, seed=n)[:n]
    x = np.pad(x, (0, n - len(x)))
    out = fe(x, sampling_rate=SR)
    assert out["input_features"].shape == (1, n // 256, 80)
    assert fe.frame_count(n) == n // 256
    assert out["attention_mask"].sum() == n // 256


def test_frame_helpers(fe):
    assert fe.frame_count(48000, sampling_rate=48000) == 22050 // 256
    assert fe.frames_to_seconds(86) == pytest.approx(86 * 256 / 22050)
    np.testing.assert_allclose(fe.frames_to_seconds(np.array([0, 1])), [0.0, 256 / 22050])


def test_silence_gives_floor(fe):
    out = fe(np.zeros(4096, dtype=np.float32), sampling_rate=SR)
    np.testing.assert_allclose(out["input_features"], math.log(1e-5))


def test_too_short_raises(fe):
    with pytest.raises(AudioError, match="too short"):
        fe(np.zeros(255, dtype=np.float32), sampling_rate=SR)


# ----------------------------------------------------------------------------- batching


def test_batch_padding_invariance(fe):
    items = [_speechlike(s, seed=i) for i, s in enumerate([0.7, 1.3, 0.31])]
    items.insert(2, _speechlike(0.1, seed=9)[:300])  # shorter than the reflect pad (384)
    batch = fe(items, sampling_rate=SR, return_tensors="pt")
    feats, mask = batch["input_features"], batch["attention_mask"]
    lengths = [len(x) // 256 for x in items]
    assert feats.shape == (4, max(lengths), 80) and feats.dtype == torch.float32
    assert mask.shape == (4, max(lengths)) and mask.dtype == torch.int64
    for i, (x, n) in enumerate(zip(items, lengths, strict=True)):
        alone = fe(x, sampling_rate=SR, return_tensors="pt")["input_features"][0]
        assert alone.shape == (n, 80)
        torch.testing.assert_close(feats[i, :n], alone, rtol=0, atol=0)
        assert mask[i, :n].all() and not mask[i, n:].any()
        assert (feats[i, n:] == fe.padding_value).all()


def test_2d_batch_array_and_list_of_floats(fe):
    x = np.stack([_speechlike(0.5, seed=3), _speechlike(0.5, seed=4)])  # (2, samples)
    out = fe(x, sampling_rate=SR)
    assert out["input_features"].shape == (2, x.shape[1] // 256, 80)
    single = fe(x[0].tolist(), sampling_rate=SR)
    np.testing.assert_array_equal(single["input_features"][0], out["input_features"][0])
    from_tensor = fe(torch.from_numpy(x), sampling_rate=SR)
    np.testing.assert_array_equal(from_tensor["input_features"], out["input_features"])


def test_padding_options(fe):
    items = [_speechlike(0.3, seed=5), _speechlike(0.5, seed=6)]
    out = fe(items, sampling_rate=SR, padding="max_length", max_length=100, pad_to_multiple_of=8)
    assert out["input_features"].shape == (2, 104, 80)
    unpadded = fe(items, sampling_rate=SR, padding=False)
    assert [f.shape[0] for f in unpadded["input_features"]] == [len(x) // 256 for x in items]
    with pytest.raises(ValueError, match="different lengths"):
        fe(items, sampling_rate=SR, padding=False, return_tensors="pt")
    with pytest.raises(ValueError, match="never truncated"):
        fe(items, sampling_rate=SR, padding="max_length", max_length=10)
    no_mask = fe(items, sampling_rate=SR, return_attention_mask=False)
    assert "attention_mask" not in no_mask


# ----------------------------------------------------------------------------- inputs and errors


def test_missing_sampling_rate(fe):
    with pytest.raises(ValueError, match="sampling_rate"):
        fe(np.zeros(1000, dtype=np.float32))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (np.zeros(0, dtype=np.float32), "empty"),
        ([np.zeros(1000, dtype=np.float32), np.array([np.nan] * 1000, dtype=np.float32)], "NaN"),
        (np.zeros((2, 2, 1000), dtype=np.float32), "3 dims"),
        ([], "empty"),
    ],
)
def test_bad_audio_raises_audio_error(fe, raw, match):
    with pytest.raises(AudioError, match=match):
        fe(raw, sampling_rate=SR)


def test_bad_rate_raises_audio_error(fe):
    with pytest.raises(AudioError, match="sampling_rate"):
        fe(np.zeros(1000, dtype=np.float32), sampling_rate=-1)


def test_48k_stereo_int16(fe):
    mono = _speechlike(1.0, seed=7, rate=48000)
    stereo = (np.stack([mono, mono], axis=1) * 32767).astype(np.int16)  # (48000, 2), soundfile layout
    for raw in (stereo, [stereo], [stereo.T]):
        out = fe(raw, sampling_rate=48000, return_tensors="np")
        assert out["input_features"].shape == (1, 22050 // 256, 80)
        assert out["input_features"].dtype == np.float32
        assert np.isfinite(out["input_features"]).all()
    # same as passing the left channel as float mono ourselves
    ref = fe(stereo[:, 0].astype(np.float32) / 32768, sampling_rate=48000)["input_features"]
    assert np.abs(out["input_features"] - ref).max() < 1e-4


# ----------------------------------------------------------------------------- serialisation


def test_save_and_load_round_trip(tmp_path):
    fe = MelFeatureExtractor(feature_size=64, sampling_rate=16000, n_fft=512, hop_length=128, win_length=400,
                             f_min=20.0, f_max=7600.0)  # fmt: skip
    d = fe.to_dict()
    assert "mel_filters" not in d and not any(k.startswith("_") for k in d)
    assert MelFeatureExtractor(**d).to_dict() == d

    fe.save_pretrained(tmp_path)
    loaded = MelFeatureExtractor.from_pretrained(tmp_path)
    assert loaded.to_dict() == d
    np.testing.assert_array_equal(loaded.mel_filters, fe.mel_filters)
    x = _speechlike(0.5, seed=8, rate=16000)
    np.testing.assert_array_equal(
        loaded(x, sampling_rate=16000)["input_features"], fe(x, sampling_rate=16000)["input_features"]
    )


def test_filterbank_rebuilt_after_attribute_change():
    fe = MelFeatureExtractor()
    fe.feature_size = 40
    out = fe(np.zeros(2048, dtype=np.float32), sampling_rate=SR)
    assert out["input_features"].shape == (1, 8, 40)
    assert fe.mel_filters.shape == (40, 513)
