"""Hub corpora streamed into the canonical schema: a registry of :class:`CorpusAdapter`.

:func:`load_corpus` calls ``datasets.load_dataset(repo, config, split=..., streaming=...)``, keeps
the audio undecoded (``Audio(decode=False)``; WebDataset audio declared ``Value("binary")``) and
maps every row to a canonical example (:func:`prosody_tts.data.schema.make_example`) whose id is
``"<corpus>/<split>/<key>"``. The first row is checked against the adapter's expected columns:
a renamed or missing column raises :class:`SourceChangedError` ("the source changed: expected
columns …, got …") instead of a ``KeyError`` deep inside a training loop.

The same mapping reads local copies: pass ``data_files=`` and the repo id is replaced by the
adapter's file builder (``"parquet"``, ``"json"`` or ``"webdataset"``; override with
``builder=``). Tests use this with small fixtures that copy each corpus's column layout.

Text-only corpora (Wikipedia, FineWeb-2) yield ``{"id", "text", "source"}`` rows: documents are
split into paragraphs (``text_unit="paragraph"``: non-empty lines) or sentences
(``text_unit="sentence"``, the default; see :func:`split_sentences`). Units shorter than
``min_words`` words, without a Cyrillic letter, or longer than ``max_chars`` are dropped (headings,
list debris, tables).

``docs/data_sources.md`` lists what was verified about each Hub layout and what is assumed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ...text.sentence_split import clean_whitespace, split_paragraphs, split_sentences
from ..schema import FIELDS, make_example
from .local import (
    OnError,
    audio_reference,
    check_on_error,
    finish_rows,
    flag_or_raise,
    undecoded_audio,
)

__all__ = [
    "CORPORA",
    "CorpusAdapter",
    "SourceChangedError",
    "clean_common_voice",
    "get_adapter",
    "list_corpora",
    "load_corpus",
    "register_adapter",
]

#: A canonical field's source column, or alternatives tried in order (first present wins).
ColumnSpec = str | tuple[str, ...]


class SourceChangedError(ValueError):
    """The first row of a corpus lacks columns its adapter expects (renamed or removed upstream)."""


# ---------------------------------------------------------------- text cleanups


_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_QUOTE_PAIRS = {'"': '"', "«": "»", "„": "“", "“": "”"}


def clean_common_voice(text: str) -> str:
    """Common Voice sentences: collapse whitespace, ``""`` → ``"``, drop quotes wrapping the whole line.

    Sentences scraped from CSV exports are often wrapped in quotes (``"Привет."``) or carry doubled
    quotes; quotes inside a sentence are kept (the normaliser decides what to do with them).
    """
    text = clean_whitespace(text).replace('""', '"')
    while len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1] and _balanced_inner(text[1:-1], text[0]):
        text = text[1:-1].strip()
    return text


def _balanced_inner(inner: str, quote: str) -> bool:
    # "А" и "Б" must not lose its outer quotes: only strip when the inside has no quote of that kind.
    return quote not in inner and _QUOTE_PAIRS[quote] not in inner


# ---------------------------------------------------------------- adapters


@dataclass(frozen=True)
class CorpusAdapter:
    """How one Hub corpus maps to the canonical schema.

    Attributes:
        name: registry key and id prefix.
        repo_id / config / revision: what ``load_dataset`` is called with.
        splits: the corpus's split names.
        columns: canonical field → source column (``"audio"``, ``"text"``, and optionally
            ``"id"``, ``"speaker"``, ``"stressed_text"``); a tuple lists alternatives.
        optional_columns: canonical fields whose source column may be absent.
        builder: the packaged builder reading local copies of the same files.
        text_cleanup: applied to ``text`` (and ``stressed_text``).
        speaker: constant speaker when ``columns`` has no ``"speaker"``.
        has_audio: False for text-only corpora (rows are ``{"id", "text", "source"}``).
        text_has_stress: the text column carries ``+`` stress marks: copied to ``stressed_text``.
        needs_audio_root: audio columns hold paths relative to locally downloaded audio.
        features: declared features passed to ``load_dataset`` (WebDataset: audio as bytes).
        license / notes: for ``docs/data_sources.md`` and users.
    """

    name: str
    repo_id: str
    config: str | None
    splits: tuple[str, ...]
    columns: Mapping[str, ColumnSpec]
    optional_columns: frozenset[str] = frozenset()
    builder: str = "parquet"
    text_cleanup: Callable[[str], str] = clean_whitespace
    speaker: str | None = None
    has_audio: bool = True
    text_has_stress: bool = False
    needs_audio_root: bool = False
    revision: str | None = None
    features: Callable[[], Any] | None = None
    license: str = ""
    notes: str = ""

    def expected_columns(self) -> list[str]:
        """Source columns that must be present (alternatives shown as ``a|b``)."""
        return [_spec_label(spec) for name, spec in self.columns.items() if name not in self.optional_columns]

    def resolve_columns(self, present: Iterable[str]) -> dict[str, str | None]:
        """Canonical field → the source column present in this source, or raise :class:`SourceChangedError`."""
        present = list(present)
        have = set(present)
        resolved: dict[str, str | None] = {}
        missing = []
        for name, spec in self.columns.items():
            options = (spec,) if isinstance(spec, str) else tuple(spec)
            found = next((c for c in options if c in have), None)
            if found is None and name not in self.optional_columns:
                missing.append(_spec_label(spec))
            resolved[name] = found
        if missing:
            raise SourceChangedError(
                f"{self.name} ({self.repo_id}): the source changed: expected columns "
                f"{self.expected_columns()}, got {sorted(present)}; missing {missing}"
            )
        return resolved


def _spec_label(spec: ColumnSpec) -> str:
    return spec if isinstance(spec, str) else "|".join(spec)


CORPORA: dict[str, CorpusAdapter] = {}

_BALALAIKA_100H = CorpusAdapter(
    name="balalaika_100h",
    repo_id="MTUCI/Balalaika100H",
    config=None,
    splits=("train",),
    columns={
        "audio": ("audio_path", "filepath"),
        "text": ("punct", "text", "rover"),
        "stressed_text": "accent",
        "speaker": "speaker_id",
    },
    optional_columns=frozenset({"stressed_text"}),
    needs_audio_root=True,
    license="CC-BY-NC-ND-4.0",
    notes="Metadata only on the Hub; audio is downloaded with the Balalaika scripts "
    "(github.com/mtuciru/balalaika) and found under audio_root.",
)
_BALALAIKA_1000H = replace(
    _BALALAIKA_100H,
    name="balalaika_1000h",
    repo_id="MTUCI/Balalaika1000H",
    notes="As balalaika_100h, larger subset.",
)


def register_adapter(adapter: CorpusAdapter, overwrite: bool = False) -> CorpusAdapter:
    """Add ``adapter`` to :data:`CORPORA` (refuses to replace one unless ``overwrite``)."""
    if adapter.name in CORPORA and not overwrite:
        raise ValueError(f"corpus {adapter.name!r} is already registered")
    CORPORA[adapter.name] = adapter
    return adapter


def get_adapter(name: str) -> CorpusAdapter:
    """The registered adapter called ``name``."""
    try:
        return CORPORA[name]
    except KeyError:
        raise KeyError(f"unknown corpus {name!r}; registered: {sorted(CORPORA)}") from None


def list_corpora(has_audio: bool | None = None) -> list[str]:
    """Registered corpus names (only speech or only text corpora when ``has_audio`` is given)."""
    return sorted(n for n, a in CORPORA.items() if has_audio is None or a.has_audio == has_audio)


def _ruslan_features():
    from datasets import Features, Value

    return Features(
        {
            "__key__": Value("string"),
            "__url__": Value("string"),
            "wav": Value("binary"),
            "txt": Value("string"),
        }
    )


_GOLOS_NOTE = (
    "Transcripts are lower-case without punctuation (ASR-style), so no prosodic boundaries; "
    "no speaker labels (speaker is a constant)."
)

for _adapter in (
    CorpusAdapter(
        name="common_voice_ru",
        repo_id="fixie-ai/common_voice_17_0",
        config="ru",
        splits=("train", "validation", "test", "validated", "invalidated", "other"),
        columns={"audio": "audio", "text": "sentence", "speaker": "client_id", "id": "path"},
        text_cleanup=clean_common_voice,
        license="CC0-1.0 (Mozilla Common Voice 17.0)",
        notes="48 kHz MP3. Speaker is the contributor's client_id hash.",
    ),
    CorpusAdapter(
        name="golos_crowd",
        repo_id="bond005/sberdevices_golos_10h_crowd",
        config=None,
        splits=("train", "validation", "test"),
        columns={"audio": "audio", "text": "transcription"},
        speaker="golos_crowd:unknown",
        license="SberDevices Golos license (custom, see openslr.org/114)",
        notes=_GOLOS_NOTE,
    ),
    CorpusAdapter(
        name="golos_farfield",
        repo_id="bond005/sberdevices_golos_100h_farfield",
        config=None,
        splits=("train", "validation", "test"),
        columns={"audio": "audio", "text": "transcription"},
        speaker="golos_farfield:unknown",
        license="SberDevices Golos license (custom, see openslr.org/114)",
        notes=_GOLOS_NOTE + " Far-field (smart speaker) recordings: reverberant, noisy.",
    ),
    CorpusAdapter(
        name="sova_rudevices",
        repo_id="bond005/sova_rudevices",
        config=None,
        splits=("train", "validation", "test"),
        columns={"audio": "audio", "text": "transcription"},
        speaker="sova_rudevices:unknown",
        license="CC-BY-4.0",
        notes="Live device speech, lower-case ASR transcripts; no speaker labels.",
    ),
    CorpusAdapter(
        name="russian_librispeech",
        repo_id="istupakov/russian_librispeech",
        config=None,
        splits=("train", "validation", "test"),
        columns={"audio": "audio", "text": "text_no_preprocessing", "id": "audio_filepath"},
        speaker="russian_librispeech:unknown",
        license="Public domain (LibriVox); card says CC-BY-4.0",
        notes="Audiobooks (RuLS, SLR96). text = text_no_preprocessing (as written); no speaker column.",
    ),
    CorpusAdapter(
        name="fleurs_ru",
        repo_id="google/fleurs",
        config="ru_ru",
        revision="refs/convert/parquet",
        splits=("train", "validation", "test"),
        columns={"audio": "audio", "text": "raw_transcription", "id": "path"},
        speaker="fleurs_ru:unknown",
        license="CC-BY-4.0",
        notes="google/fleurs is a loading-script dataset (unsupported by datasets>=4): read from the "
        "Hub's parquet conversion branch. The `id` column is the FLoRes sentence id, shared by "
        "several speakers, so ids come from `path`.",
    ),
    CorpusAdapter(
        name="ruslan",
        repo_id="stilletto/ruslan-stressed",
        config=None,
        builder="webdataset",
        splits=("train",),
        columns={"audio": "wav", "text": "txt", "id": "__key__"},
        speaker="ruslan",
        text_has_stress=True,
        features=_ruslan_features,
        license="RUSLAN: CC BY-NC-SA 4.0 (the mirror's card says CC-BY-4.0)",
        notes="Single male speaker (RUSLAN corpus), text with '+' before stressed vowels. Member "
        "names (.wav + .txt) are ASSUMED: the mirror's card could not be read.",
    ),
    _BALALAIKA_100H,
    _BALALAIKA_1000H,
    CorpusAdapter(
        name="wikipedia_ru",
        repo_id="wikimedia/wikipedia",
        config="20231101.ru",
        splits=("train",),
        columns={"text": "text", "id": "id"},
        has_audio=False,
        license="CC-BY-SA-4.0 / GFDL",
        notes="Text only (stage 1).",
    ),
    CorpusAdapter(
        name="fineweb2_ru",
        repo_id="HuggingFaceFW/fineweb-2",
        config="rus_Cyrl",
        splits=("train", "test"),
        columns={"text": "text", "id": "id"},
        has_audio=False,
        license="ODC-By 1.0 (plus Common Crawl terms of use)",
        notes="Text only (stage 1). Web text: expect boilerplate.",
    ),
):
    register_adapter(_adapter)


# ---------------------------------------------------------------- loading


def load_corpus(
    name: str,
    split: str = "train",
    streaming: bool = True,
    data_files: str | Sequence[str] | Mapping[str, Any] | None = None,
    *,
    builder: str | None = None,
    audio_root: str | os.PathLike | None = None,
    on_error: OnError = "raise",
    text_unit: Literal["sentence", "paragraph"] = "sentence",
    min_words: int = 3,
    max_chars: int = 1000,
    **kwargs: Any,
):
    """Load corpus ``name`` as canonical examples (or ``{"id", "text", "source"}`` for text corpora).

    Args:
        name: a registered corpus (:func:`list_corpora`).
        split: the split to read.
        streaming: ``IterableDataset`` (default) or an in-memory ``Dataset``.
        data_files: local files with the corpus's layout; then the adapter's ``builder`` reads
            them instead of the Hub repo (a list/str is read as ``split``).
        builder: the builder or repo to read ``data_files`` with (default: the adapter's builder).
        audio_root: folder relative audio paths are joined to (required by Balalaika).
        on_error: ``"raise"`` on an invalid row (empty text, no audio) or ``"skip"`` it with a
            warning. A missing/renamed column always raises :class:`SourceChangedError`.
        text_unit / min_words / max_chars: how text corpora are split and filtered.
        **kwargs: passed to ``datasets.load_dataset``.
    """
    from datasets import load_dataset

    adapter = get_adapter(name)
    check_on_error(on_error)
    if adapter.needs_audio_root and audio_root is None:
        raise ValueError(
            f"{name}: the Hub holds only metadata; download the audio and pass audio_root= (the folder "
            "the metadata's audio paths are relative to)"
        )
    if data_files is not None:
        source, config, revision = builder or adapter.builder, None, None
        if not isinstance(data_files, Mapping):
            data_files = {split: data_files}
    else:
        source, config, revision = builder or adapter.repo_id, adapter.config, adapter.revision
    if adapter.features is not None and "features" not in kwargs:
        kwargs["features"] = adapter.features()
    if revision is not None:
        kwargs.setdefault("revision", revision)
    ds = load_dataset(source, config, split=split, streaming=streaming, data_files=data_files, **kwargs)
    ds = undecoded_audio(ds)
    columns = list(ds.column_names) if ds.column_names is not None else None
    if not adapter.has_audio:
        return _map_text_corpus(ds, adapter, columns, text_unit, min_words, max_chars)
    return _map_speech_corpus(ds, adapter, split, columns, audio_root, on_error)


def _map_speech_corpus(
    ds: Any,
    adapter: CorpusAdapter,
    split: str,
    columns: list[str] | None,
    audio_root: str | os.PathLike | None,
    on_error: OnError,
) -> Any:
    where = f"{adapter.name} ({adapter.repo_id}, split {split!r})"
    resolved: dict[str, str | None] = {}

    def to_example(row: dict[str, Any], index: int) -> dict[str, Any]:
        if not resolved:  # first row: fail loudly if the source's columns changed
            resolved.update(adapter.resolve_columns(row.keys()))
        audio = audio_reference(row.get(resolved["audio"]), audio_root)
        text = row.get(resolved["text"])
        text = adapter.text_cleanup(str(text)) if text is not None else None
        stressed = row.get(resolved["stressed_text"]) if resolved.get("stressed_text") else None
        stressed = adapter.text_cleanup(str(stressed)) if stressed else None
        if stressed is None and adapter.text_has_stress and text and "+" in text:
            stressed = text
        speaker = row.get(resolved["speaker"]) if resolved.get("speaker") else None
        example = make_example(
            id=f"{adapter.name}/{split}/{_row_key(row, resolved.get('id'), audio, index)}",
            audio=audio,
            text=text,
            speaker=str(speaker)
            if speaker not in (None, "")
            else (adapter.speaker or f"{adapter.name}:unknown"),
            stressed_text=stressed,
            source=adapter.name,
        )
        return flag_or_raise(example, on_error, where, f"row {index}", check_files=audio_root is not None)

    ds = ds.map(to_example, with_indices=True, remove_columns=columns)
    if columns is None:
        ds = ds.select_columns([*FIELDS, "__problems__"])
    return finish_rows(ds, on_error, where)


def _row_key(row: Mapping[str, Any], id_column: str | None, audio: Any, index: int) -> str:
    """A row's key: the id column, else the audio file name, else the row index (stable only unshuffled)."""
    value = row.get(id_column) if id_column else None
    if value is None or value == "":
        value = (
            audio.get("path") if isinstance(audio, Mapping) else (audio if isinstance(audio, str) else None)
        )
        value = os.path.basename(value) if value else None
    if value is None or value == "":
        return f"{index:09d}"
    value = str(value)
    root, ext = os.path.splitext(value)
    return root if ext.lower() in (".wav", ".mp3", ".flac", ".ogg", ".opus") else value


def _map_text_corpus(
    ds: Any, adapter: CorpusAdapter, columns: list[str] | None, text_unit: str, min_words: int, max_chars: int
) -> Any:
    if text_unit not in ("sentence", "paragraph"):
        raise ValueError(f"text_unit must be 'sentence' or 'paragraph', got {text_unit!r}")
    split_fn = split_sentences if text_unit == "sentence" else split_paragraphs
    resolved: dict[str, str | None] = {}

    def to_units(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[str]]:
        if not resolved:
            resolved.update(adapter.resolve_columns(batch.keys()))
        out: dict[str, list[str]] = {"id": [], "text": [], "source": []}
        ids = batch[resolved["id"]] if resolved.get("id") else indices
        for doc_id, document in zip(ids, batch[resolved["text"]], strict=True):
            for k, unit in enumerate(_keep_units(split_fn(document or ""), min_words, max_chars)):
                out["id"].append(f"{adapter.name}/{doc_id}/{k}")
                out["text"].append(unit)
                out["source"].append(adapter.name)
        return out

    remove = columns if columns is not None else _all_specs(adapter)
    return ds.map(to_units, batched=True, with_indices=True, remove_columns=remove)


def _keep_units(units: Iterable[str], min_words: int, max_chars: int) -> Iterator[str]:
    for unit in units:
        if len(unit) <= max_chars and len(unit.split()) >= min_words and _CYRILLIC.search(unit):
            yield unit


def _all_specs(adapter: CorpusAdapter) -> list[str]:
    names: list[str] = []
    for spec in adapter.columns.values():
        names.extend((spec,) if isinstance(spec, str) else spec)
    return names
