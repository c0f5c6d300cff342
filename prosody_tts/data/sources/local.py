"""Generic local speech sources mapped to the canonical schema (:mod:`prosody_tts.data.schema`).

Three layouts are supported; every loader yields canonical examples (``make_example``):

* :func:`load_manifest` — a JSON-lines, CSV/TSV or Parquet manifest, one utterance a row, with an
  audio path per row. Relative paths are resolved against ``audio_root`` or, by default, the
  manifest's folder, and written to the example as absolute paths.
* :func:`load_wav_txt_dir` — a folder of ``x.wav`` + ``x.txt`` pairs (speaker = first-level
  subfolder, or a constant). :func:`scan_wav_txt_dir` returns the examples *and* a problem
  report (wav without txt, txt without wav, empty txt); the loader warns with that report, or
  raises with ``strict=True``.
* :func:`load_webdataset` — WebDataset tar shards with an audio member (``.wav``/``.flac``/…)
  and a ``.txt`` and/or ``.json`` member per sample.

Audio is never decoded by 🤗 datasets (its decoder needs torchcodec, which does not load with the
CPU torch build): parquet ``Audio`` columns are cast to ``Audio(decode=False)``, CSV columns are
read as strings, and WebDataset audio members are declared ``Value("binary")``. Decode with
:func:`prosody_tts.data.schema.decode_example_audio`.

Bad rows
--------
Rows with a missing/empty text, a missing audio reference or a missing audio file are **errors by
default** (``on_error="raise"``): iteration stops with :class:`~prosody_tts.data.schema.ExampleError`
naming the source, the row and every problem. With ``on_error="skip"`` such rows are dropped and a
:class:`BadRowWarning` names each one.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tarfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..schema import FIELDS, ExampleError, canonical_features, example_problems, make_example

__all__ = [
    "AUDIO_EXTENSIONS",
    "BadRowWarning",
    "WavTxtScan",
    "load_manifest",
    "load_wav_txt_dir",
    "load_webdataset",
    "path_features",
    "scan_wav_txt_dir",
]

OnError = Literal["raise", "skip"]

#: WebDataset / folder members read as audio.
AUDIO_EXTENSIONS: tuple[str, ...] = ("wav", "flac", "mp3", "ogg", "opus")
#: Manifest columns looked up by default for each canonical field (first present wins).
DEFAULT_MANIFEST_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "utt_id", "utterance_id"),
    "audio": ("audio", "audio_path", "audio_filepath", "path", "wav", "file"),
    "text": ("text", "transcript", "transcription", "sentence"),
    "speaker": ("speaker", "speaker_id"),
    "stressed_text": ("stressed_text",),
    "language": ("language",),
    "phonemes": ("phonemes",),
    "phoneme_durations": ("phoneme_durations",),
}
_PROBLEMS = "__problems__"


class BadRowWarning(UserWarning):
    """A source row was skipped (``on_error="skip"``); the message names it and its problems."""


def path_features():
    """🤗 ``Features`` of the canonical schema with audio as a path string (for in-memory datasets:
    ``Audio(decode=False)``'s encoder needs torchcodec even for a path)."""
    return canonical_features(audio="path")


# ---------------------------------------------------------------- helpers shared with adapters.py


def audio_reference(value: Any, audio_root: str | os.PathLike | None = None) -> Any:
    """Normalise an undecoded audio value: path str, bytes, or a ``{"path", "bytes"}`` dict.

    Relative paths are joined to ``audio_root`` when given. Other keys of a dict (``array``,
    ``sampling_rate``) are dropped; ``None`` stays ``None`` (reported by validation).
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        return _resolve(value, audio_root) if value else value
    if isinstance(value, Mapping):
        data, path = value.get("bytes"), value.get("path")
        if not data and isinstance(path, str) and path:
            path = _resolve(path, audio_root)
        return {"bytes": bytes(data) if data else None, "path": path}
    raise TypeError(f"unsupported audio value of type {type(value).__name__}")


def _resolve(path: str, root: str | os.PathLike | None) -> str:
    if root is None or os.path.isabs(path) or "://" in path:
        return path
    return os.path.normpath(os.path.join(os.fspath(root), path))


def audio_file_missing(audio: Any) -> str | None:
    """The local path of ``audio`` when it names a file that does not exist (no bytes), else None."""
    path = audio.get("path") if isinstance(audio, Mapping) and not audio.get("bytes") else audio
    if isinstance(path, str) and path and "://" not in path and not os.path.exists(path):
        return path
    return None


def row_problems(example: Mapping[str, Any], check_files: bool) -> list[str]:
    """Schema problems of ``example`` plus, when asked, a missing audio file."""
    problems = example_problems(example)
    if check_files and example.get("audio") is not None:
        missing = audio_file_missing(example["audio"])
        if missing is not None:
            problems.append(f"audio file not found: {missing}")
    return problems


def finish_rows(ds: Any, on_error: OnError, where: str) -> Any:
    """Drop (with a warning) or keep rows flagged by :func:`flag_or_raise`, then the flag column."""
    if on_error == "skip":

        def keep(example: Mapping[str, Any]) -> bool:
            if example[_PROBLEMS]:
                warnings.warn(f"{where}: skipped {example[_PROBLEMS]}", BadRowWarning, stacklevel=2)
                return False
            return True

        ds = ds.filter(keep)
    return ds.remove_columns([_PROBLEMS])


def flag_or_raise(
    example: dict[str, Any], on_error: OnError, where: str, row: str, check_files: bool = False
) -> dict[str, Any]:
    """Validate ``example``; raise (``on_error="raise"``) or flag it for :func:`finish_rows`."""
    problems = row_problems(example, check_files)
    if problems and on_error == "raise":
        raise ExampleError(
            f"{where}, {row} (id {example.get('id')!r}): "
            + "; ".join(problems)
            + " (pass on_error='skip' to drop bad rows)"
        )
    example[_PROBLEMS] = f"{row} (id {example.get('id')!r}): " + "; ".join(problems) if problems else None
    return example


def check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")


def undecoded_audio(ds: Any) -> Any:
    """Cast every ``Audio`` column to ``Audio(decode=False)`` so 🤗 datasets never decodes audio.

    All of them, not only the expected one: a renamed audio column would otherwise be decoded
    (and fail on torchcodec) before the missing-column check can report it.
    """
    from datasets import Audio

    features = getattr(ds, "features", None) or {}
    for column, feature in features.items():
        if isinstance(feature, Audio) and feature.decode:
            ds = ds.cast_column(column, Audio(decode=False))
    return ds


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text


def _first_present(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    present = set(columns)
    return next((c for c in candidates if c in present), None)


# ---------------------------------------------------------------- manifests


def _manifest_format(path: str) -> str:
    lower = path.lower()
    for suffix, builder in (
        (".jsonl", "json"),
        (".json", "json"),
        (".csv", "csv"),
        (".tsv", "csv"),
        (".parquet", "parquet"),
    ):
        if lower.endswith(suffix) or lower.endswith(suffix + ".gz"):
            return builder
    raise ValueError(f"unknown manifest format for {path!r}: use .jsonl/.json, .csv/.tsv or .parquet")


def _manifest_columns(path: str, builder: str) -> list[str] | None:
    if builder == "csv":
        opener = __import__("gzip").open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            delimiter = "\t" if ".tsv" in path.lower() else ","
            return next(csv.reader(handle, delimiter=delimiter), [])
    return None


def load_manifest(
    path: str | os.PathLike,
    streaming: bool = True,
    audio_root: str | os.PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    *,
    speaker: str | None = None,
    source: str | None = None,
    on_error: OnError = "raise",
    check_files: bool = True,
    **kwargs: Any,
):
    """Load a JSON-lines / CSV / TSV / Parquet manifest as canonical examples.

    Args:
        path: the manifest file.
        streaming: return an ``IterableDataset`` (default) or a ``Dataset``.
        audio_root: folder relative audio paths are resolved against (default: the manifest's).
        column_map: canonical field → manifest column, for fields whose column is not one of
            :data:`DEFAULT_MANIFEST_COLUMNS` (e.g. ``{"text": "normalized_text"}``).
        speaker: constant speaker when the manifest has no speaker column (default: the
            manifest's file stem).
        source: the examples' ``source`` (default: the manifest's file stem).
        on_error: ``"raise"`` on a bad row (missing text/audio, missing file) or ``"skip"`` it
            with a :class:`BadRowWarning`.
        check_files: check that local audio files exist (cheap ``os.path.exists`` per row).
        **kwargs: passed to ``datasets.load_dataset`` (e.g. ``cache_dir``).

    Ids default to the audio path relative to ``audio_root`` without its extension when the
    manifest has no id column.
    """
    from datasets import Features, Value, load_dataset

    check_on_error(on_error)
    path = os.fspath(path)
    builder = _manifest_format(path)
    root = os.path.abspath(os.fspath(audio_root) if audio_root is not None else os.path.dirname(path) or ".")
    stem = Path(path).name.split(".")[0]
    speaker = speaker if speaker is not None else stem
    source = source if source is not None else stem
    header = _manifest_columns(path, builder)
    if builder == "csv":
        # Every CSV column is read as a string: pandas would turn "0001" ids into ints.
        kwargs["features"] = Features({name: Value("string") for name in header})
        if ".tsv" in path.lower():
            kwargs["sep"] = "\t"
    ds = load_dataset(builder, data_files={"train": path}, split="train", streaming=streaming, **kwargs)
    columns = list(ds.column_names) if ds.column_names is not None else header
    mapping = _resolve_columns(columns, column_map, path)
    ds = undecoded_audio(ds)
    where = f"manifest {path}"

    def to_example(row: dict[str, Any], index: int) -> dict[str, Any]:
        audio = audio_reference(row.get(mapping["audio"]), root)
        key = row.get(mapping["id"]) if mapping.get("id") else None
        if key is None or key == "":
            key = _id_from_audio(audio, root, index)
        optional = {
            name: _clean(row.get(mapping[name]))
            for name in ("stressed_text", "language")
            if mapping.get(name)
        }
        optional = {k: v for k, v in optional.items() if v}
        for name, kind in (("phonemes", str), ("phoneme_durations", int)):  # e.g. a prosody-tts align output
            if mapping.get(name) and row.get(mapping[name]) not in (None, ""):
                optional[name] = _sequence(row[mapping[name]], kind)
        spk = row.get(mapping["speaker"]) if mapping.get("speaker") else None
        example = make_example(
            id=str(key),
            audio=audio,
            text=_clean(row.get(mapping["text"])),
            speaker=str(spk) if spk not in (None, "") else speaker,
            source=source,
            **optional,
        )
        return flag_or_raise(example, on_error, where, f"row {index}", check_files)

    ds = ds.map(to_example, with_indices=True, remove_columns=columns)
    return finish_rows(ds, on_error, where)


def _sequence(value: Any, kind: type) -> list:
    """A list column (JSON lines, Parquet) or a space-separated CSV cell as a list of ``kind``."""
    items = value.split() if isinstance(value, str) else list(value)
    return [kind(item) for item in items]


def _resolve_columns(columns: Sequence[str] | None, column_map: Mapping[str, str] | None, where: str) -> dict:
    column_map = dict(column_map or {})
    unknown = set(column_map) - set(FIELDS)
    if unknown:
        raise ValueError(f"column_map keys must be canonical fields {list(FIELDS)}, got {sorted(unknown)}")
    if columns is None:
        raise ValueError(f"cannot read the column names of {where}")
    mapping: dict[str, str | None] = {}
    for name, candidates in DEFAULT_MANIFEST_COLUMNS.items():
        if name in column_map:
            if column_map[name] not in columns:
                raise ValueError(
                    f"{where}: column_map[{name!r}] = {column_map[name]!r} is not a column; "
                    f"the manifest has {list(columns)}"
                )
            mapping[name] = column_map[name]
        else:
            mapping[name] = _first_present(columns, candidates)
    for name in ("audio", "text"):
        if mapping[name] is None:
            raise ValueError(
                f"{where}: no {name} column; expected one of {list(DEFAULT_MANIFEST_COLUMNS[name])} "
                f"or column_map={{{name!r}: ...}}; the manifest has {list(columns)}"
            )
    return mapping


def _id_from_audio(audio: Any, root: str, index: int) -> str:
    path = audio.get("path") if isinstance(audio, Mapping) else audio
    if isinstance(path, str) and path:
        rel = os.path.relpath(path, root) if os.path.isabs(path) else path
        return os.path.splitext(rel)[0].replace(os.sep, "/")
    return f"{index:08d}"


# ---------------------------------------------------------------- folders of wav + txt


@dataclass
class WavTxtScan:
    """Result of :func:`scan_wav_txt_dir`: the canonical examples and what could not be paired."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    missing_text: list[str] = field(default_factory=list)
    empty_text: list[str] = field(default_factory=list)
    missing_audio: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per problem, for reports."""
        return (
            [f"no .txt for {p}" for p in self.missing_text]
            + [f"empty transcript {p}" for p in self.empty_text]
            + [f"no audio for {p}" for p in self.missing_audio]
        )


def scan_wav_txt_dir(
    directory: str | os.PathLike,
    speaker: str | None = None,
    speaker_from_subfolder: bool = True,
    source: str | None = None,
    audio_extensions: Sequence[str] = ("wav",),
) -> WavTxtScan:
    """Pair every ``x.<audio ext>`` under ``directory`` (recursively) with the ``x.txt`` next to it.

    The speaker is the first-level subfolder a file lies in (``root/<speaker>/.../x.wav``) when
    ``speaker_from_subfolder``; files directly in ``directory`` (or every file, otherwise) get
    ``speaker`` (default: the folder's name). Ids are the relative path without extension.
    """
    root = Path(directory).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    speaker = speaker if speaker is not None else root.name
    source = source if source is not None else root.name
    extensions = {"." + e.lower().lstrip(".") for e in audio_extensions}
    scan = WavTxtScan()
    audio_stems: set[Path] = set()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in extensions:
            continue
        rel = path.relative_to(root)
        audio_stems.add(path.with_suffix(""))
        txt = path.with_suffix(".txt")
        if not txt.exists():
            scan.missing_text.append(str(rel))
            continue
        text = " ".join(txt.read_text(encoding="utf-8-sig").split())
        if not text:
            scan.empty_text.append(str(rel.with_suffix(".txt")))
            continue
        spk = rel.parts[0] if speaker_from_subfolder and len(rel.parts) > 1 else speaker
        scan.examples.append(
            make_example(
                id=rel.with_suffix("").as_posix(), audio=str(path), text=text, speaker=spk, source=source
            )
        )
    for txt in sorted(root.rglob("*.txt")):
        if txt.with_suffix("") not in audio_stems:
            scan.missing_audio.append(str(txt.relative_to(root)))
    return scan


def load_wav_txt_dir(
    directory: str | os.PathLike,
    speaker: str | None = None,
    speaker_from_subfolder: bool = True,
    *,
    source: str | None = None,
    strict: bool = False,
    audio_extensions: Sequence[str] = ("wav",),
):
    """A ``Dataset`` of canonical examples from a folder of ``x.wav`` + ``x.txt`` pairs.

    Unpaired or empty files are reported in one ``UserWarning`` (or raise ``ValueError`` with
    ``strict=True``); use :func:`scan_wav_txt_dir` to get the report as data.
    """
    from datasets import Dataset

    scan = scan_wav_txt_dir(directory, speaker, speaker_from_subfolder, source, audio_extensions)
    if scan.problems:
        message = f"{directory}: {len(scan.problems)} problem(s): " + "; ".join(scan.problems[:20])
        if len(scan.problems) > 20:
            message += f"; … ({len(scan.problems) - 20} more)"
        if strict:
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    if not scan.examples:
        raise ValueError(f"{directory}: no audio file with a transcript found")
    return Dataset.from_list(scan.examples, features=path_features())


# ---------------------------------------------------------------- WebDataset shards


def _member_fields(name: str) -> tuple[str | None, str | None]:
    """``(sample key, field)`` of a tar member, split as 🤗 datasets' webdataset builder does."""
    match = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", name)
    return (match.group(1), match.group(2)) if match else (None, None)


def webdataset_features(
    shard: str | os.PathLike, audio_extensions: Sequence[str] = AUDIO_EXTENSIONS, max_samples: int = 5
):
    """Features for 🤗 datasets' ``webdataset`` builder with audio members declared ``Value("binary")``.

    The first ``max_samples`` samples of ``shard`` are read (as the builder does to infer them);
    ``.txt`` members become strings, ``.json`` members the inferred struct, audio members bytes.
    """
    import pyarrow as pa
    from datasets import Features, Value

    samples: list[dict[str, Any]] = []
    with tarfile.open(os.fspath(shard)) as tar:
        current: dict[str, Any] = {}
        for member in tar:
            if not member.isfile():
                continue
            key, field_name = _member_fields(member.name)
            if key is None:
                continue
            if current and current["__key__"] != key:
                samples.append(current)
                if len(samples) >= max_samples:
                    current = {}
                    break
                current = {}
            current["__key__"] = key
            data = tar.extractfile(member).read()
            ext = field_name.rsplit(".", 1)[-1].lower()
            if ext == "json":
                current[field_name] = json.loads(data)
            elif ext in ("txt", "text"):
                current[field_name] = data.decode("utf-8")
            else:
                current[field_name] = data
        if current:
            samples.append(current)
    if not samples:
        raise ValueError(f"{shard}: no WebDataset sample found")
    table = pa.Table.from_pylist([{k: v for k, v in s.items() if k != "__key__"} for s in samples])
    inferred = Features.from_arrow_schema(table.schema)
    features = Features({"__key__": Value("string"), "__url__": Value("string")})
    for name, feature in inferred.items():
        ext = name.rsplit(".", 1)[-1].lower()
        features[name] = Value("binary") if ext in audio_extensions else feature
    return features


def load_webdataset(
    shards: str | os.PathLike | Sequence[str | os.PathLike],
    streaming: bool = True,
    *,
    speaker: str | None = None,
    source: str = "webdataset",
    text_field: str | None = None,
    json_text_key: str = "text",
    json_speaker_key: str = "speaker",
    on_error: OnError = "raise",
    **kwargs: Any,
):
    """Canonical examples from WebDataset tar shards (one audio member + ``.txt`` and/or ``.json``).

    The text is the ``.txt`` member, else ``json[json_text_key]`` (``text_field`` names another
    member); the speaker is ``json[json_speaker_key]`` when present, else ``speaker`` (default:
    ``source``). Audio members stay encoded bytes (declared ``Value("binary")``, see
    :func:`webdataset_features`). Ids are the sample keys. ``kwargs`` go to ``load_dataset``.
    """
    from datasets import load_dataset

    check_on_error(on_error)
    if isinstance(shards, (str, os.PathLike)):
        shards = [shards]
    shards = [os.fspath(s) for s in shards]
    if not shards:
        raise ValueError("no shard given")
    features = webdataset_features(shards[0])
    audio_field = next((n for n in features if n.rsplit(".", 1)[-1].lower() in AUDIO_EXTENSIONS), None)
    if audio_field is None:
        raise ValueError(f"{shards[0]}: no audio member ({', '.join(AUDIO_EXTENSIONS)}) in the first samples")
    names = list(features)
    if text_field is None:
        text_field = next((n for n in names if n.rsplit(".", 1)[-1].lower() == "txt"), None)
    json_field = next((n for n in names if n.rsplit(".", 1)[-1].lower() == "json"), None)
    if text_field is None and json_field is None:
        raise ValueError(f"{shards[0]}: samples have no .txt or .json member (members: {names})")
    ds = load_dataset(
        "webdataset",
        data_files={"train": shards},
        split="train",
        streaming=streaming,
        features=features,
        **kwargs,
    )
    speaker = speaker if speaker is not None else source
    where = f"webdataset {shards[0]}" + (f" (+{len(shards) - 1} shards)" if len(shards) > 1 else "")

    def to_example(row: dict[str, Any]) -> dict[str, Any]:
        meta = row.get(json_field) if json_field else None
        meta = meta if isinstance(meta, Mapping) else {}
        text = row.get(text_field) if text_field else None
        if text is None:
            text = meta.get(json_text_key)
        spk = meta.get(json_speaker_key)
        example = make_example(
            id=str(row["__key__"]),
            audio=audio_reference(row.get(audio_field)),
            text=_clean(text),
            speaker=str(spk) if spk not in (None, "") else speaker,
            source=source,
        )
        return flag_or_raise(example, on_error, where, f"sample {row['__key__']!r}")

    ds = ds.map(to_example, remove_columns=names)
    return finish_rows(ds, on_error, where)


#: every ``HELDOUT_EVERY``-th row of a manifest without splits is held out (as festvox-ru's split)
MANIFEST_HELDOUT_EVERY = 10


def manifest_split(path: str | os.PathLike, split: str, every: int = MANIFEST_HELDOUT_EVERY, **kwargs: Any) -> list[dict]:
    """A fixed train / held-out split of a manifest: row ``i`` is held out when ``i % every == every - 1``.

    ``kwargs`` go to :func:`load_manifest` (``audio_root``, ``column_map``, ``speaker``, ...).
    """
    if split not in ("train", "heldout"):
        raise ValueError(f"a manifest has the splits 'train' and 'heldout', got {split!r}")
    if every < 2:
        raise ValueError(f"every must be >= 2, got {every}")
    rows = list(load_manifest(path, streaming=False, **kwargs))
    return [row for i, row in enumerate(rows) if (i % every == every - 1) == (split == "heldout")]
