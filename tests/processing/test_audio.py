"""Tests for prosody_tts.processing.audio: decoding, dtype scaling, down-mix, resampling, errors."""

from __future__ import annotations

import io
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import soundfile as sf

from prosody_tts.processing.audio import (
    ClippingWarning,
    load_audio,
    prepare_waveform,
    resampled_length,
    to_mono_float,
)
from prosody_tts.text.errors import AudioError


def _sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


# ----------------------------------------------------------------------------- decoding


def test_load_wav_from_path_bytes_and_file_object(tmp_path):
    x = _sine(440, 16000, 0.5)
    path = tmp_path / "a.wav"
    sf.write(path, x, 16000, subtype="PCM_16")

    from_path, rate = load_audio(path)
    assert rate == 16000
    assert from_path.dtype == np.float32 and from_path.shape == x.shape
    np.testing.assert_allclose(from_path, x, atol=1 / 2**15 + 1e-6)

    data = path.read_bytes()
    from_bytes, rate_b = load_audio(data)
    np.testing.assert_array_equal(from_bytes, from_path)
    assert rate_b == 16000

    with open(path, "rb") as fh:
        from_file, _ = load_audio(fh)
    np.testing.assert_array_equal(from_file, from_path)

    from_str, _ = load_audio(str(path))
    np.testing.assert_array_equal(from_str, from_path)


def test_load_stereo_file_is_downmixed_and_resampled(tmp_path):
    left, right = _sine(440, 48000, 0.5, 0.4), _sine(440, 48000, 0.5, 0.2)
    buf = io.BytesIO()
    sf.write(buf, np.stack([left, right], axis=1), 48000, format="WAV", subtype="FLOAT")
    y, rate = load_audio(buf.getvalue(), sampling_rate=22050)
    assert rate == 22050
    assert y.ndim == 1 and len(y) == resampled_length(len(left), 48000, 22050)
    assert abs(np.abs(y).max() - 0.3) < 0.01


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="could not decode"):
        load_audio(b"definitely not audio")
    with pytest.raises(TypeError):
        load_audio(12345)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    ("dtype", "values", "expected"),
    [
        (np.int8, [-128, 0, 64, 127], [-1.0, 0.0, 0.5, 127 / 128]),
        (np.uint8, [0, 128, 192, 255], [-1.0, 0.0, 0.5, 127 / 128]),
        (np.int16, [-32768, 0, 16384, 32767], [-1.0, 0.0, 0.5, 32767 / 32768]),
        (np.int32, [-(2**31), 0, 2**30, 2**31 - 1], [-1.0, 0.0, 0.5, (2**31 - 1) / 2**31]),
    ],
)
def test_integer_scaling(dtype, values, expected):
    out = to_mono_float(np.array(values, dtype=dtype))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


def test_float64_becomes_float32_and_silence_is_valid():
    out = prepare_waveform(np.zeros(1000, dtype=np.float64), 22050)
    assert out.dtype == np.float32 and out.shape == (1000,) and not out.any()


def test_clipping_is_kept_with_a_warning():
    x = np.array([0.0, 1.5, -2.0], dtype=np.float32)
    with pytest.warns(ClippingWarning, match="absolute value > 1"):
        out = to_mono_float(x)
    np.testing.assert_array_equal(out, x)
    with warnings.catch_warnings():  # int input can never clip
        warnings.simplefilter("error")
        to_mono_float(np.array([32767, -32768], dtype=np.int16))


# ----------------------------------------------------------------------------- channels


def test_stereo_downmix_both_layouts():
    left = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    right = np.full(1000, 0.25, dtype=np.float32)
    expected = (left + right) / 2
    samples_first = np.stack([left, right], axis=1)  # (1000, 2), soundfile layout
    channels_first = np.stack([left, right], axis=0)  # (2, 1000)
    np.testing.assert_allclose(to_mono_float(samples_first), expected, atol=1e-7)
    np.testing.assert_allclose(to_mono_float(channels_first), expected, atol=1e-7)
    # explicit axis overrides the heuristic
    np.testing.assert_allclose(to_mono_float(channels_first, channels_axis=0), expected, atol=1e-7)
    # a tiny (3, 2) array is (samples, channels): first dim is not smaller than the second
    assert to_mono_float(np.ones((3, 2), dtype=np.float32)).shape == (3,)


def test_stereo_int16_downmix():
    x = np.array([[32767, -32768], [16384, 16384]], dtype=np.int16)
    x = np.tile(x, (10, 1))  # (20, 2)
    out = to_mono_float(x)
    assert out.shape == (20,)
    np.testing.assert_allclose(out[:2], [-0.5 / 32768, 0.5], atol=1e-6)


# ----------------------------------------------------------------------------- resampling


def test_resample_48k_to_22k_keeps_pitch():
    x = _sine(440, 48000, 1.0)
    y = prepare_waveform(x, 48000, 22050)
    assert y.dtype == np.float32
    assert len(y) == 22050 == resampled_length(len(x), 48000, 22050)
    assert abs(_peak_hz(y, 22050) - 440) <= 1.0
    # same rate: untouched
    np.testing.assert_array_equal(prepare_waveform(x, 48000, 48000), x)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("waveform", "match"),
    [
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.zeros((0, 2), dtype=np.float32), "empty"),
        (np.array([0.0, np.nan, 0.1], dtype=np.float32), "NaN"),
        (np.array([0.0, np.inf], dtype=np.float64), "inf"),
        (np.array([1e300, 0.0]), "inf"),
        (np.zeros((2, 3, 100), dtype=np.float32), "3 dims"),
        (np.float32(0.5), "0 dims"),
        (np.array(["a", "b"]), "numeric"),
        (np.array([True, False]), "numeric"),
        (np.array([1 + 1j]), "numeric"),
        (np.array([1, 2, 3], dtype=np.int64), "int64"),
    ],
)
def test_bad_waveforms(waveform, match):
    with pytest.raises(AudioError, match=match):
        prepare_waveform(waveform, 22050)


@pytest.mark.parametrize("rate", [0, -16000, 22050.0, "22050", None, True])
def test_bad_sampling_rate(rate):
    with pytest.raises(AudioError, match="sampling_rate must be a positive int"):
        prepare_waveform(np.zeros(100, dtype=np.float32), rate)


def test_bad_target_rate():
    with pytest.raises(AudioError, match="target_rate"):
        prepare_waveform(np.zeros(100, dtype=np.float32), 16000, 0)


def test_audio_error_is_value_error():
    with pytest.raises(ValueError):
        prepare_waveform(np.zeros(0), 16000)
