"""Local sources: manifests (jsonl / csv / tsv / parquet), wav+txt folders, WebDataset shards."""

from __future__ import annotations

import io
import json
import os
import tarfile
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from datasets import Dataset, IterableDataset

from prosody_tts.data.schema import ExampleError, decode_example_audio, validate_example
from prosody_tts.data.sources.local import (
    BadRowWarning,
    load_manifest,
    load_wav_txt_dir,
    load_webdataset,
    scan_wav_txt_dir,
    webdataset_features,
)

RATE = 16000


def write_wav(path, seconds: float = 0.1, rate: int = RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), rate)


def wav_bytes(seconds: float = 0.1) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(RATE * seconds), np.float32) + 0.1, RATE, format="WAV")
    return buffer.getvalue()


def check(examples: list[dict], n: int) -> None:
    assert len(examples) == n
    for example in examples:
        validate_example(example)
        assert decode_example_audio(example, 22050).size == int(0.1 * 22050 + 0.5)


# ---------------------------------------------------------------- manifests


@pytest.fixture
def corpus_dir(tmp_path):
    for i in range(3):
        write_wav(tmp_path / "wavs" / f"{i:04d}.wav")
    return tmp_path


def test_jsonl_manifest_relative_paths(corpus_dir):
    manifest = corpus_dir / "train.jsonl"
    rows = [
        {"audio": f"wavs/{i:04d}.wav", "text": f" Фраза  номер {i}. ", "speaker": "anna"} for i in range(3)
    ]
    manifest.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    ds = load_manifest(manifest)
    assert isinstance(ds, IterableDataset)
    examples = list(ds)
    check(examples, 3)
    assert examples[0]["audio"] == str(
        corpus_dir / "wavs" / "0000.wav"
    )  # resolved against the manifest's folder
    assert examples[0]["id"] == "wavs/0000"  # no id column: the relative audio path
    assert examples[0]["text"] == "Фраза номер 0."
    assert examples[0]["speaker"] == "anna" and examples[0]["source"] == "train"


def test_csv_manifest_columns_read_as_strings(corpus_dir):
    manifest = corpus_dir / "meta.csv"
    manifest.write_text(
        "id,wav,sentence,speaker_id\n0001,0000.wav,Первая фраза.,7\n0002,0001.wav,Вторая фраза.,7\n",
        encoding="utf-8",
    )
    examples = list(load_manifest(manifest, audio_root=corpus_dir / "wavs"))
    check(examples, 2)
    assert [e["id"] for e in examples] == ["0001", "0002"]  # not the ints 1, 2
    assert examples[0]["speaker"] == "7"
    assert examples[1]["audio"] == str(corpus_dir / "wavs" / "0001.wav")


def test_tsv_manifest_with_column_map_and_constant_speaker(corpus_dir):
    manifest = corpus_dir / "list.tsv"
    manifest.write_text("file\tnormalized\nwavs/0002.wav\tтри\n", encoding="utf-8")
    ds = load_manifest(manifest, column_map={"text": "normalized"}, speaker="narrator", source="mine")
    (example,) = list(ds)
    check([example], 1)
    assert (example["text"], example["speaker"], example["source"]) == ("три", "narrator", "mine")


def test_parquet_manifest_non_streaming(corpus_dir):
    manifest = corpus_dir / "m.parquet"
    table = pa.table(
        {
            "audio_path": [str(corpus_dir / "wavs" / "0000.wav")],
            "transcript": ["абсолютный путь"],
            "utt_id": ["u1"],
        }
    )
    pq.write_table(table, manifest)
    ds = load_manifest(manifest, streaming=False, cache_dir=str(corpus_dir / "cache"))
    assert isinstance(ds, Dataset) and len(ds) == 1
    check([ds[0]], 1)
    assert ds[0]["id"] == "u1"


def test_bad_rows_raise_by_default_and_skip_with_warning(corpus_dir):
    manifest = corpus_dir / "bad.csv"
    manifest.write_text(
        "audio,text\nwavs/0000.wav,хорошая строка\nwavs/0001.wav,\nwavs/missing.wav,нет файла\nwavs/0002.wav,  \n",
        encoding="utf-8",
    )
    with pytest.raises(ExampleError, match=r"row 1 \(id 'wavs/0001'\): missing required field 'text'"):
        list(load_manifest(manifest))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        examples = list(load_manifest(manifest, on_error="skip"))
    assert [e["id"] for e in examples] == ["wavs/0000"]
    messages = [str(w.message) for w in caught if issubclass(w.category, BadRowWarning)]
    assert len(messages) == 3
    assert any("audio file not found" in m for m in messages)
    assert any("'text' is empty" in m for m in messages)


def test_manifest_without_text_column_is_a_clear_error(corpus_dir):
    manifest = corpus_dir / "m.jsonl"
    manifest.write_text(json.dumps({"audio": "wavs/0000.wav", "words": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no text column"):
        load_manifest(manifest)
    with pytest.raises(ValueError, match="is not a column"):
        load_manifest(manifest, column_map={"text": "transcript"})
    with pytest.raises(ValueError, match="unknown manifest format"):
        load_manifest(corpus_dir / "m.xml")


# ---------------------------------------------------------------- wav + txt folders


def test_wav_txt_dir_speakers_from_subfolders(tmp_path):
    for speaker in ("anna", "boris"):
        write_wav(tmp_path / speaker / "a.wav")
        (tmp_path / speaker / "a.txt").write_text(f"Говорит {speaker}.\n", encoding="utf-8")
    write_wav(tmp_path / "top.wav")
    (tmp_path / "top.txt").write_text("Без папки.", encoding="utf-8")
    ds = load_wav_txt_dir(tmp_path, speaker="default")
    examples = list(ds)
    check(examples, 3)
    assert {e["id"]: e["speaker"] for e in examples} == {
        "anna/a": "anna",
        "boris/a": "boris",
        "top": "default",
    }
    flat = list(load_wav_txt_dir(tmp_path, speaker="one", speaker_from_subfolder=False))
    assert {e["speaker"] for e in flat} == {"one"}


def test_wav_txt_dir_reports_unpaired_files(tmp_path):
    write_wav(tmp_path / "ok.wav")
    (tmp_path / "ok.txt").write_text("Есть текст.", encoding="utf-8")
    write_wav(tmp_path / "no_text.wav")
    write_wav(tmp_path / "empty.wav")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "orphan.txt").write_text("Нет звука.", encoding="utf-8")
    scan = scan_wav_txt_dir(tmp_path)
    assert [e["id"] for e in scan.examples] == ["ok"]
    assert scan.missing_text == ["no_text.wav"]
    assert scan.empty_text == ["empty.txt"]
    assert scan.missing_audio == ["orphan.txt"]
    with pytest.warns(UserWarning, match=r"3 problem\(s\): no \.txt for no_text\.wav"):
        ds = load_wav_txt_dir(tmp_path)
    assert len(ds) == 1
    with pytest.raises(ValueError, match=r"no \.txt for no_text\.wav"):
        load_wav_txt_dir(tmp_path, strict=True)


# ---------------------------------------------------------------- WebDataset


def write_shard(path, samples: list[dict[str, bytes]]) -> str:
    with tarfile.open(path, "w") as tar:
        for sample in samples:
            key = sample.pop("__key__")
            for ext, data in sample.items():
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return str(path)


def test_webdataset_wav_txt_and_json(tmp_path):
    shard0 = write_shard(
        tmp_path / "shard-000000.tar",
        [
            {
                "__key__": f"utt{i}",
                "wav": wav_bytes(),
                "txt": f"Текст {i}.".encode(),
                "json": b'{"speaker": "s1"}',
            }
            for i in range(2)
        ],
    )
    shard1 = write_shard(
        tmp_path / "shard-000001.tar",
        [{"__key__": "utt9", "wav": wav_bytes(), "txt": "Девять.".encode(), "json": b'{"speaker": "s2"}'}],
    )
    features = webdataset_features(shard0)
    assert str(features["wav"]) == "Value('binary')"
    examples = list(load_webdataset([shard0, shard1], source="mine"))
    check(examples, 3)
    assert [(e["id"], e["text"], e["speaker"]) for e in examples] == [
        ("utt0", "Текст 0.", "s1"),
        ("utt1", "Текст 1.", "s1"),
        ("utt9", "Девять.", "s2"),
    ]
    assert isinstance(examples[0]["audio"], bytes)


def test_webdataset_json_only_and_bad_sample(tmp_path):
    samples = [
        {"__key__": "a", "flac": b"", "json": json.dumps({"text": "Из json."}).encode()},
        {"__key__": "b", "flac": b"", "json": json.dumps({"text": ""}).encode()},
    ]
    flac = io.BytesIO()
    sf.write(flac, np.zeros(1600, np.float32) + 0.1, RATE, format="FLAC")
    for sample in samples:
        sample["flac"] = flac.getvalue()
    shard = write_shard(tmp_path / "s.tar", samples)
    with pytest.raises(ExampleError, match=r"sample 'b'.*'text' is empty"):
        list(load_webdataset(shard))
    with pytest.warns(BadRowWarning):
        examples = list(load_webdataset(shard, speaker="x", on_error="skip"))
    check(examples, 1)
    assert (examples[0]["text"], examples[0]["speaker"]) == ("Из json.", "x")


def test_webdataset_without_text_member(tmp_path):
    shard = write_shard(tmp_path / "s.tar", [{"__key__": "a", "wav": wav_bytes(), "cls": b"1"}])
    with pytest.raises(ValueError, match=r"no \.txt or \.json member"):
        load_webdataset(shard)
