"""Audio decoding and waveform preparation: the one path every audio source goes through.

Files, bytes and file objects are decoded with :mod:`soundfile`; in-memory arrays are validated
and converted by :func:`prepare_waveform`. Either way the result is a float32 mono waveform in
``[-1, 1]`` (shape ``(samples,)``), resampled with :mod:`soxr` (high quality) when a target rate
is asked for. Bad input raises :class:`~prosody_tts.text.errors.AudioError` with a message
naming the problem, so callers (feature extractor, datasets, CLI) never see a half-valid array.

Channel layout of 2-D arrays
----------------------------
soundfile returns ``(samples, channels)``. Arrays from other libraries (torchaudio, some
datasets) are ``(channels, samples)``. With ``channels_axis="auto"`` (the default) a 2-D array
is read as ``(channels, samples)`` when its first dimension is at most
:data:`MAX_CHANNELS` (8) **and** smaller than its second; otherwise as ``(samples, channels)``.
Pass ``channels_axis=0`` or ``1`` to say which it is. Channels are down-mixed by averaging.

Clipping
--------
Float input with ``abs(x) > 1`` is kept as is (no clipping, no rescaling: the caller may have
a reason) but a :class:`ClippingWarning` is issued. Its message is constant, so under Python's
default warning filters it is shown once per process, not once per file.
"""

from __future__ import annotations

import io
import math
import numbers
import os
import warnings
from typing import Literal

import numpy as np
import soundfile as sf
import soxr

from ..text.errors import AudioError

__all__ = [
    "MAX_CHANNELS",
    "ClippingWarning",
    "load_audio",
    "prepare_waveform",
    "resample",
    "resampled_length",
    "to_mono_float",
    "validate_sampling_rate",
]

#: Largest first dimension of a 2-D array that ``channels_axis="auto"`` reads as channels.
MAX_CHANNELS = 8

# Divisors that map each supported integer dtype to [-1, 1); uint8 is offset by 128 first.
_INT_SCALES: dict[np.dtype, float] = {
    np.dtype(np.int8): 2.0**7,
    np.dtype(np.uint8): 2.0**7,
    np.dtype(np.int16): 2.0**15,
    np.dtype(np.int32): 2.0**31,
}

_CLIPPING_MESSAGE = (
    "audio has samples with absolute value > 1 (clipped or not normalised); values are kept as they are"
)


class ClippingWarning(UserWarning):
    """Float audio holds samples outside ``[-1, 1]``; they are kept, not clipped."""


def validate_sampling_rate(sampling_rate: object, name: str = "sampling_rate") -> int:
    """Return ``sampling_rate`` as an ``int``, or raise :class:`AudioError` if it is not a positive int.

    Floats (even ``22050.0``) and bools are refused: a rate is a count of samples per second
    and a float usually means a unit mix-up upstream.
    """
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, numbers.Integral):
        raise AudioError(
            f"{name} must be a positive int, got {sampling_rate!r} ({type(sampling_rate).__name__})"
        )
    if sampling_rate <= 0:
        raise AudioError(f"{name} must be a positive int, got {sampling_rate}")
    return int(sampling_rate)


def resampled_length(num_samples: int, orig_rate: int, target_rate: int) -> int:
    """Number of samples :func:`resample` returns for ``num_samples`` input samples.

    soxr rounds ``num_samples * target_rate / orig_rate`` to the nearest integer.
    """
    if orig_rate == target_rate:
        return int(num_samples)
    return int(num_samples * target_rate / orig_rate + 0.5)


def resample(waveform: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a float32 mono waveform ``(samples,)`` with soxr (HQ); a no-op when rates match."""
    if orig_rate == target_rate:
        return waveform
    out = soxr.resample(waveform, orig_rate, target_rate, quality="HQ")  # (samples',)
    return np.ascontiguousarray(out, dtype=np.float32)


def to_mono_float(
    waveform: np.ndarray,
    channels_axis: int | Literal["auto"] = "auto",
) -> np.ndarray:
    """Validate an in-memory waveform and return it as float32 mono ``(samples,)``.

    Integer PCM is scaled to ``[-1, 1)`` (int8 / 128, uint8 (x - 128) / 128, int16 / 2**15,
    int32 / 2**31); other float widths are cast to float32; 2-D input is down-mixed by averaging
    over ``channels_axis`` (see the module docstring for the ``"auto"`` rule).

    Raises:
        AudioError: not an array of numbers, an unsupported integer width, more than 2 dims,
            no samples, or NaN / inf values.
    """
    if not isinstance(waveform, np.ndarray):
        try:
            waveform = np.asarray(waveform)
        except (TypeError, ValueError) as err:
            raise AudioError(f"audio must be an array of numbers, got {type(waveform).__name__}") from err

    dtype = waveform.dtype
    if dtype.kind not in "iuf":
        raise AudioError(
            f"audio must have a numeric (int or float) dtype, got {dtype}; "
            "expected float32/float64 in [-1, 1] or int8/uint8/int16/int32 PCM"
        )
    if dtype.kind in "iu" and dtype not in _INT_SCALES:
        raise AudioError(
            f"unsupported integer audio dtype {dtype}: its full scale is ambiguous; "
            "pass int8/uint8/int16/int32 PCM or float audio in [-1, 1]"
        )
    if waveform.ndim == 0 or waveform.ndim > 2:
        raise AudioError(
            f"audio must be 1-D (samples,) or 2-D (samples, channels) / (channels, samples), "
            f"got {waveform.ndim} dims with shape {waveform.shape}"
        )
    if waveform.size == 0:
        raise AudioError(f"audio is empty (shape {waveform.shape})")

    if dtype.kind in "iu":
        out = waveform.astype(np.float32)
        if dtype == np.uint8:
            out -= 128.0
        out *= np.float32(1.0 / _INT_SCALES[dtype])
    else:
        with np.errstate(over="ignore"):  # float64 beyond float32 range becomes inf, reported below
            out = waveform.astype(np.float32, copy=False)
        lowest, highest = float(out.min()), float(out.max())  # NaN propagates; no temporaries
        if not (math.isfinite(lowest) and math.isfinite(highest)):
            bad = "NaN" if np.isnan(out).any() else "inf"
            raise AudioError(f"audio holds {bad} values (or values too large for float32)")
        if max(-lowest, highest) > 1.0:
            warnings.warn(_CLIPPING_MESSAGE, ClippingWarning, stacklevel=3)

    if out.ndim == 2:
        if channels_axis == "auto":
            channels_first = out.shape[0] <= MAX_CHANNELS and out.shape[0] < out.shape[1]
            axis = 0 if channels_first else 1
        elif channels_axis in (0, 1, -1, -2):
            axis = int(channels_axis) % 2
        else:
            raise ValueError(f"channels_axis must be 'auto', 0 or 1, got {channels_axis!r}")
        out = out.mean(axis=axis, dtype=np.float32)  # (samples,)

    return np.ascontiguousarray(out, dtype=np.float32)


def prepare_waveform(
    waveform: np.ndarray,
    sampling_rate: int,
    target_rate: int | None = None,
    channels_axis: int | Literal["auto"] = "auto",
) -> np.ndarray:
    """Validate an in-memory waveform, make it float32 mono and resample it to ``target_rate``.

    Args:
        waveform: ``(samples,)`` or 2-D multichannel audio, float or int PCM.
        sampling_rate: rate of ``waveform`` in Hz (positive int).
        target_rate: rate to resample to (soxr, HQ); ``None`` keeps ``sampling_rate``.
        channels_axis: see :func:`to_mono_float`.

    Returns:
        float32 array ``(samples',)``.

    Raises:
        AudioError: bad rate, or any problem :func:`to_mono_float` reports.
    """
    sampling_rate = validate_sampling_rate(sampling_rate)
    if target_rate is not None:
        target_rate = validate_sampling_rate(target_rate, "target_rate")
    mono = to_mono_float(waveform, channels_axis=channels_axis)  # (samples,)
    if target_rate is not None and target_rate != sampling_rate:
        mono = resample(mono, sampling_rate, target_rate)
        if mono.size == 0:
            raise AudioError(
                f"audio of shape {np.shape(waveform)} at {sampling_rate} Hz is empty after "
                f"resampling to {target_rate} Hz"
            )
    return mono


def load_audio(
    source: str | os.PathLike | bytes | io.IOBase,
    sampling_rate: int | None = None,
) -> tuple[np.ndarray, int]:
    """Decode an audio file, encoded bytes or a binary file object to float32 mono.

    Any format the installed libsndfile reads (WAV, FLAC, OGG/Vorbis, usually MP3) works.

    Args:
        source: a path, the encoded file's bytes, or a readable binary file object.
        sampling_rate: resample to this rate (soxr, HQ); ``None`` keeps the file's rate.

    Returns:
        ``(waveform, rate)``: float32 ``(samples,)`` in ``[-1, 1]`` and its rate in Hz.

    Raises:
        FileNotFoundError: ``source`` is a path that does not exist.
        AudioError: the data cannot be decoded, or decodes to empty / non-finite audio.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        handle: object = io.BytesIO(bytes(source))
        what = f"{len(source)} bytes"
    elif isinstance(source, (str, os.PathLike)):
        handle = os.fspath(source)
        what = repr(handle)
        if not os.path.exists(handle):
            raise FileNotFoundError(f"audio file not found: {handle}")
    elif hasattr(source, "read"):
        handle = source
        what = f"file object {getattr(source, 'name', type(source).__name__)!r}"
    else:
        raise TypeError(f"source must be a path, bytes or a binary file object, got {type(source).__name__}")

    try:
        data, file_rate = sf.read(handle, dtype="float32", always_2d=True)  # (samples, channels)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"could not decode audio from {what}: {err}") from err

    if data.shape[0] == 0:
        raise AudioError(f"audio decoded from {what} has no samples")
    waveform = prepare_waveform(data, int(file_rate), sampling_rate, channels_axis=1)
    return waveform, int(sampling_rate if sampling_rate is not None else file_rate)
