"""The canonical example schema every corpus is mapped to, and its validator.

An example is a plain ``dict``:

==================== ======================== =================================================
field                type                     meaning
==================== ======================== =================================================
``id``               str                      unique within its corpus
``audio``            str | bytes | dict       a path, the encoded file's bytes, or 🤗 datasets'
                                              undecoded ``{"path": ..., "bytes": ...}``
``text``             str                      the transcript as written (may hold ``+`` marks)
``speaker``          str                      speaker id within the corpus
``stressed_text``    str, optional            transcript with ``+`` before stressed vowels
``phonemes``         list[str], optional      inventory symbols (``prosody_tts.processing.
                                              inventory``), as the front-end writes them
``phoneme_durations`` list[int], optional     frames per phoneme symbol at the feature
                                              extractor's hop (0 for ``#``); sums to the
                                              utterance's frame count (± ``DURATION_TOLERANCE``)
``language``         str, optional            BCP-47, ``"ru"`` by default
``source``           str, optional            corpus name (``"common_voice"``, ``"embedded"``…)
==================== ======================== =================================================

Audio is never decoded by 🤗 datasets (its decoder needs torchcodec, which does not load with
the CPU torch build); :func:`decode_example_audio` decodes it with soundfile and soxr through
:func:`prosody_tts.processing.audio.load_audio`, the one decode path of the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from ..processing.audio import load_audio
from ..text.inventory import is_symbol

REQUIRED_FIELDS = ("id", "audio", "text", "speaker")
OPTIONAL_FIELDS = ("stressed_text", "phonemes", "phoneme_durations", "language", "source")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
#: Allowed |sum(durations) - frames| (rounding of phoneme boundaries to the hop).
DURATION_TOLERANCE = 2


class ExampleError(ValueError):
    """An example breaks the canonical schema; the message lists every problem and the id."""


def canonical_features(audio: Literal["undecoded", "struct", "path"] = "undecoded"):
    """🤗 ``datasets.Features`` of the schema; ``audio`` says how the audio column is typed.

    * ``"undecoded"``: ``Audio(decode=False)``, for reading manifests (``load_dataset("json" |
      "parquet", features=...)`` or ``cast_column``). Building an in-memory ``Dataset.from_list``
      or a streamed cast with it fails without torchcodec (datasets' Audio *encoder* needs it).
    * ``"struct"``: the same ``{"bytes", "path"}`` layout as a plain struct (no encoder), for
      in-memory and streamed datasets; ``.cast(canonical_features())`` turns it into Audio.
    * ``"path"``: the audio column as a path string.
    """
    from datasets import Audio, Features, List, Value

    audio_types = {
        "undecoded": lambda: Audio(decode=False),
        "struct": lambda: {"bytes": Value("binary"), "path": Value("string")},
        "path": lambda: Value("string"),
    }
    if audio not in audio_types:
        raise ValueError(f"audio must be one of {sorted(audio_types)}, got {audio!r}")
    return Features(
        {
            "id": Value("string"),
            "audio": audio_types[audio](),
            "text": Value("string"),
            "speaker": Value("string"),
            "stressed_text": Value("string"),
            "phonemes": List(Value("string")),
            "phoneme_durations": List(Value("int32")),
            "language": Value("string"),
            "source": Value("string"),
        }
    )


def make_example(
    id: str,
    audio: str | bytes | Mapping[str, Any],
    text: str,
    speaker: str,
    **optional: Any,
) -> dict[str, Any]:
    """Build a canonical example with every field present (absent optional fields are None)."""
    unknown = set(optional) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ExampleError(f"unknown fields {sorted(unknown)}; the schema has {list(FIELDS)}")
    example = {"id": id, "audio": audio, "text": text, "speaker": speaker}
    example.update({name: optional.get(name) for name in OPTIONAL_FIELDS})
    if example["language"] is None:
        example["language"] = "ru"
    return example


def example_problems(example: Mapping[str, Any], num_frames: int | None = None) -> list[str]:
    """Everything wrong with ``example`` (an empty list when it is valid).

    Args:
        num_frames: the utterance's mel frame count, when known; then the durations must sum
            to it within ``DURATION_TOLERANCE``.
    """
    if not isinstance(example, Mapping):
        return [f"an example must be a mapping, got {type(example).__name__}"]
    problems = []
    for name in REQUIRED_FIELDS:
        if example.get(name) is None:
            problems.append(f"missing required field {name!r}")
    for name in ("id", "text", "speaker"):
        value = example.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{name!r} must be a str, got {type(value).__name__}")
        elif name == "text" and isinstance(value, str) and not value.strip():
            problems.append("'text' is empty")
    audio = example.get("audio")
    if audio is not None and not _audio_reference_ok(audio):
        problems.append("'audio' must be a path, bytes, or a {'path', 'bytes'} dict with one of them set")
    phonemes = example.get("phonemes")
    durations = example.get("phoneme_durations")
    if phonemes is not None:
        if not isinstance(phonemes, (list, tuple)) or not all(isinstance(p, str) for p in phonemes):
            problems.append("'phonemes' must be a list of str")
        else:
            unknown = sorted({p for p in phonemes if not is_symbol(p)})
            if unknown:
                problems.append(f"'phonemes' holds symbols outside the inventory: {unknown}")
    if durations is not None:
        if phonemes is None:
            problems.append("'phoneme_durations' given without 'phonemes'")
        elif not isinstance(durations, (list, tuple)) or not all(
            isinstance(d, (int, np.integer)) and d >= 0 for d in durations
        ):
            problems.append("'phoneme_durations' must be a list of non-negative ints")
        elif len(durations) != len(phonemes):
            problems.append(f"{len(durations)} durations for {len(phonemes)} phonemes")
        elif num_frames is not None and abs(int(sum(durations)) - num_frames) > DURATION_TOLERANCE:
            problems.append(
                f"durations sum to {int(sum(durations))} frames but the audio has {num_frames} "
                f"(tolerance {DURATION_TOLERANCE})"
            )
    for name in ("stressed_text", "language", "source"):
        value = example.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{name!r} must be a str, got {type(value).__name__}")
    return problems


def validate_example(example: Mapping[str, Any], num_frames: int | None = None) -> None:
    """Raise :class:`ExampleError` naming the example and every problem, if there is one."""
    problems = example_problems(example, num_frames)
    if problems:
        identifier = example.get("id", "<no id>") if isinstance(example, Mapping) else "<not a mapping>"
        raise ExampleError(f"example {identifier!r}: " + "; ".join(problems))


def decode_example_audio(example: Mapping[str, Any], sampling_rate: int, base_dir: str | None = None) -> np.ndarray:
    """Decode an example's audio (path, bytes or undecoded dict) to float32 mono at ``sampling_rate``.

    Relative paths are resolved against ``base_dir`` (the manifest's folder) when given.
    """
    audio = example["audio"]
    source = (audio.get("bytes") or audio.get("path")) if isinstance(audio, Mapping) else audio
    if isinstance(source, str) and base_dir is not None and not os.path.isabs(source):
        source = os.path.join(base_dir, source)
    waveform, _ = load_audio(source, sampling_rate=sampling_rate)
    return waveform


def _audio_reference_ok(audio: Any) -> bool:
    if isinstance(audio, (str, bytes, os.PathLike)):
        return len(audio) > 0 if isinstance(audio, (str, bytes)) else True
    if isinstance(audio, Mapping):
        return bool(audio.get("path")) or bool(audio.get("bytes"))
    return False
