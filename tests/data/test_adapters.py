"""Hub corpus adapters, exercised offline on local fixtures that copy each corpus's column layout.

Every fixture goes through the same ``load_corpus`` → ``datasets.load_dataset(..., streaming=True)``
path as the Hub, with ``data_files=`` replacing the repo id (``docs/data_sources.md``).
"""

from __future__ import annotations

import io
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
from datasets import Audio, ClassLabel, Features, Value

from prosody_tts.data.schema import ExampleError, decode_example_audio, validate_example
from prosody_tts.data.sources.adapters import (
    CORPORA,
    CorpusAdapter,
    SourceChangedError,
    clean_common_voice,
    get_adapter,
    list_corpora,
    load_corpus,
    register_adapter,
)
from prosody_tts.data.sources.local import BadRowWarning
from prosody_tts.text.sentence_split import split_paragraphs, split_sentences

RATE = 16000


def wav_bytes(seconds: float = 0.1, rate: int = RATE, fmt: str = "WAV") -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    buffer = io.BytesIO()
    sf.write(buffer, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, format=fmt)
    return buffer.getvalue()


def write_hub_parquet(path, rows: list[dict], features: Features) -> str:
    """A parquet file as ``push_to_hub`` writes it: Arrow types + the ``huggingface`` features metadata."""
    pq.write_table(pa.Table.from_pylist(rows, schema=features.arrow_schema), path)
    return str(path)


def audio_struct(name: str, rate: int = RATE, fmt: str = "WAV") -> dict:
    return {"bytes": wav_bytes(rate=rate, fmt=fmt), "path": name}


def check_examples(examples: list[dict], corpus: str, n: int) -> None:
    assert len(examples) == n
    for example in examples:
        validate_example(example)
        assert example["id"].startswith(f"{corpus}/")
        assert example["source"] == corpus
        waveform = decode_example_audio(example, 22050)
        assert waveform.dtype == np.float32 and waveform.size > 0
    assert len({e["id"] for e in examples}) == n


# ---------------------------------------------------------------- per-corpus layouts

CV_FEATURES = Features(
    {
        "client_id": Value("string"),
        "path": Value("string"),
        "audio": Audio(sampling_rate=48000),
        "sentence": Value("string"),
        "up_votes": Value("int64"),
        "down_votes": Value("int64"),
        "age": Value("string"),
        "gender": Value("string"),
        "accent": Value("string"),
        "locale": Value("string"),
        "segment": Value("string"),
        "variant": Value("string"),
    }
)


def cv_rows() -> list[dict]:
    sentences = ['"Привет, мир."', "Как  дела?", "«Он сказал: „да“»"]
    return [
        {
            "client_id": f"c{i % 2}",
            "path": f"common_voice_ru_{i}.mp3",
            "audio": audio_struct(f"common_voice_ru_{i}.mp3", rate=48000),
            "sentence": s,
            "up_votes": 2,
            "down_votes": 0,
            "age": "",
            "gender": "",
            "accent": "",
            "locale": "ru",
            "segment": "",
            "variant": "",
        }
        for i, s in enumerate(sentences)
    ]


def test_common_voice(tmp_path):
    files = write_hub_parquet(tmp_path / "train-00000-of-00001.parquet", cv_rows(), CV_FEATURES)
    ds = load_corpus("common_voice_ru", data_files=files)
    examples = list(ds)
    check_examples(examples, "common_voice_ru", 3)
    assert examples[0]["id"] == "common_voice_ru/train/common_voice_ru_0"
    assert examples[0]["text"] == "Привет, мир."  # wrapping quotes dropped
    assert examples[1]["text"] == "Как дела?"
    assert [e["speaker"] for e in examples] == ["c0", "c1", "c0"]
    assert examples[0]["language"] == "ru"
    assert isinstance(examples[0]["audio"], dict) and examples[0]["audio"]["bytes"]


def test_golos_and_sova(tmp_path):
    features = Features({"audio": Audio(sampling_rate=RATE), "transcription": Value("string")})
    rows = [
        {"audio": audio_struct(f"{i}.wav"), "transcription": f"включи музыку номер {i}"} for i in range(3)
    ]
    rows.append({"audio": {"bytes": wav_bytes(), "path": None}, "transcription": "без пути"})
    files = write_hub_parquet(tmp_path / "train.parquet", rows, features)
    for corpus in ("golos_crowd", "golos_farfield", "sova_rudevices"):
        examples = list(load_corpus(corpus, data_files=files))
        check_examples(examples, corpus, 4)
        assert examples[0]["id"] == f"{corpus}/train/0"
        assert examples[3]["id"] == f"{corpus}/train/000000003"  # no path: the row index
        assert examples[0]["speaker"] == f"{corpus}:unknown"


def test_russian_librispeech(tmp_path):
    features = Features(
        {
            "audio": Audio(),
            "duration": Value("float64"),
            "text": Value("string"),
            "text_no_preprocessing": Value("string"),
            "score": Value("float64"),
            "audio_filepath": Value("string"),
        }
    )
    rows = [
        {
            "audio": audio_struct(f"train/{i}.wav"),
            "duration": 0.1,
            "text": "карл иваныч сначала понюхал",
            "text_no_preprocessing": "Карл Иваныч сначала понюхал.",
            "score": -0.5,
            "audio_filepath": f"train/audio/4397/{i}.wav",
        }
        for i in range(2)
    ]
    files = write_hub_parquet(tmp_path / "validation.parquet", rows, features)
    examples = list(load_corpus("russian_librispeech", split="validation", data_files=files))
    check_examples(examples, "russian_librispeech", 2)
    assert examples[0]["id"] == "russian_librispeech/validation/train/audio/4397/0"
    assert examples[0]["text"] == "Карл Иваныч сначала понюхал."


def test_fleurs(tmp_path):
    features = Features(
        {
            "id": Value("int32"),
            "num_samples": Value("int32"),
            "path": Value("string"),
            "audio": Audio(sampling_rate=RATE),
            "transcription": Value("string"),
            "raw_transcription": Value("string"),
            "gender": ClassLabel(names=["male", "female", "other"]),
            "lang_id": ClassLabel(names=["ru_ru"]),
            "language": Value("string"),
            "lang_group_id": ClassLabel(names=["eastern_european"]),
        }
    )
    rows = [
        {
            "id": 7,  # the same FLoRes sentence read by two speakers
            "num_samples": 1600,
            "path": f"{i}.wav",
            "audio": audio_struct(f"{i}.wav"),
            "transcription": "в 2011 году",
            "raw_transcription": "В 2011 году.",
            "gender": i,
            "lang_id": 0,
            "language": "Russian",
            "lang_group_id": 0,
        }
        for i in range(2)
    ]
    files = write_hub_parquet(tmp_path / "fleurs-train.parquet", rows, features)
    examples = list(load_corpus("fleurs_ru", data_files=files))
    check_examples(examples, "fleurs_ru", 2)
    assert examples[0]["text"] == "В 2011 году."
    assert get_adapter("fleurs_ru").revision == "refs/convert/parquet"


def test_ruslan_webdataset(tmp_path):
    shard = tmp_path / "ruslan-000000.tar"
    with tarfile.open(shard, "w") as tar:
        for i, text in enumerate(["Зд+есь был+а кр+епость.", "Н+очь."]):
            for name, data in ((f"{i:06d}.wav", wav_bytes()), (f"{i:06d}.txt", text.encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    examples = list(load_corpus("ruslan", data_files=str(shard)))
    check_examples(examples, "ruslan", 2)
    assert examples[0]["id"] == "ruslan/train/000000"
    assert examples[0]["text"] == examples[0]["stressed_text"] == "Зд+есь был+а кр+епость."
    assert examples[0]["speaker"] == "ruslan"
    assert isinstance(examples[0]["audio"], bytes)


def test_balalaika_local_audio(tmp_path):
    audio_root = tmp_path / "Balalaika100H"
    (audio_root / "12" / "345").mkdir(parents=True)
    rows = []
    for i in range(2):
        rel = f"12/345/{i}.00_{i + 1}.00_12_345.wav"
        (audio_root / rel).write_bytes(wav_bytes())
        rows.append(
            {
                "audio_path": rel,
                "start": float(i),
                "end": float(i + 1),
                "speaker_id": f"spk{i}",
                "playlist_id": 12,
                "podcast_id": 345,
                "punct": "Привет, как дела?",
                "accent": "Прив+ет, как дел+а?",
            }
        )
    features = Features(
        {
            "audio_path": Value("string"),
            "start": Value("float64"),
            "end": Value("float64"),
            "speaker_id": Value("string"),
            "playlist_id": Value("int64"),
            "podcast_id": Value("int64"),
            "punct": Value("string"),
            "accent": Value("string"),
        }
    )
    files = write_hub_parquet(tmp_path / "Balalaika100H.parquet", rows, features)
    with pytest.raises(ValueError, match="audio_root"):
        load_corpus("balalaika_100h", data_files=files)
    examples = list(load_corpus("balalaika_100h", data_files=files, audio_root=audio_root))
    check_examples(examples, "balalaika_100h", 2)
    assert examples[0]["audio"] == str(audio_root / rows[0]["audio_path"])
    assert examples[0]["stressed_text"] == "Прив+ет, как дел+а?"
    assert examples[1]["speaker"] == "spk1"
    # audio that was not downloaded is a clear error
    (audio_root / rows[1]["audio_path"]).unlink()
    with pytest.raises(ExampleError, match="audio file not found"):
        list(load_corpus("balalaika_100h", data_files=files, audio_root=audio_root))


# ---------------------------------------------------------------- the source-changed check


def test_renamed_column_raises_clear_error_at_first_example(tmp_path):
    rows = cv_rows()
    for row in rows:
        row["text"] = row.pop("sentence")
    features = Features({("text" if k == "sentence" else k): v for k, v in CV_FEATURES.items()})
    files = write_hub_parquet(tmp_path / "train.parquet", rows, features)
    ds = load_corpus("common_voice_ru", data_files=files)  # lazy: nothing read yet
    with pytest.raises(SourceChangedError, match="the source changed") as info:
        next(iter(ds))
    message = str(info.value)
    assert "common_voice_ru" in message and "fixie-ai/common_voice_17_0" in message
    assert "missing ['sentence']" in message and "'text'" in message


def test_missing_audio_column_raises(tmp_path):
    features = Features({"speech": Audio(), "transcription": Value("string")})
    files = write_hub_parquet(
        tmp_path / "t.parquet", [{"speech": audio_struct("a"), "transcription": "да"}], features
    )
    with pytest.raises(SourceChangedError, match=r"missing \['audio'\]"):
        list(load_corpus("golos_crowd", data_files=files))


def test_bad_rows_raise_or_skip(tmp_path):
    features = Features({"audio": Audio(), "transcription": Value("string")})
    rows = [
        {"audio": audio_struct("0.wav"), "transcription": "первый"},
        {"audio": audio_struct("1.wav"), "transcription": "   "},
        {"audio": audio_struct("2.wav"), "transcription": "третий"},
    ]
    files = write_hub_parquet(tmp_path / "t.parquet", rows, features)
    with pytest.raises(ExampleError, match=r"row 1 .*'text' is empty"):
        list(load_corpus("sova_rudevices", data_files=files))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        examples = list(load_corpus("sova_rudevices", data_files=files, on_error="skip"))
    assert [e["text"] for e in examples] == ["первый", "третий"]
    assert any(issubclass(w.category, BadRowWarning) and "row 1" in str(w.message) for w in caught)


def test_non_streaming(tmp_path):
    features = Features({"audio": Audio(), "transcription": Value("string")})
    files = write_hub_parquet(
        tmp_path / "t.parquet", [{"audio": audio_struct("a.wav"), "transcription": "да"}], features
    )
    ds = load_corpus("golos_crowd", streaming=False, data_files=files, cache_dir=str(tmp_path / "cache"))
    assert len(ds) == 1
    example = ds[0]
    validate_example(example)
    assert decode_example_audio(example, RATE).size == int(0.1 * RATE)


# ---------------------------------------------------------------- text-only corpora

WIKI_DOC = (
    "Москва́ — столица России. Город основан в 1147 г. Юрием Долгоруким.\n"
    "История\n"
    "А. С. Пушкин родился в Москве. Он писал стихи!\n"
)


def test_wikipedia_sentences_and_paragraphs(tmp_path):
    features = Features(
        {"id": Value("string"), "url": Value("string"), "title": Value("string"), "text": Value("string")}
    )
    rows = [{"id": "42", "url": "https://ru.wikipedia.org/wiki/Москва", "title": "Москва", "text": WIKI_DOC}]
    files = write_hub_parquet(tmp_path / "train-00000-of-00001.parquet", rows, features)
    units = list(load_corpus("wikipedia_ru", data_files=files))
    assert [u["text"] for u in units] == [
        "Москва́ — столица России.",
        "Город основан в 1147 г. Юрием Долгоруким.",
        "А. С. Пушкин родился в Москве.",
        "Он писал стихи!",
    ]  # the heading "История" is dropped (fewer than 3 words)
    assert units[0] == {
        "id": "wikipedia_ru/42/0",
        "text": "Москва́ — столица России.",
        "source": "wikipedia_ru",
    }
    paragraphs = list(load_corpus("wikipedia_ru", data_files=files, text_unit="paragraph"))
    assert len(paragraphs) == 2 and paragraphs[1]["text"].startswith("А. С. Пушкин")


def test_fineweb2(tmp_path):
    names = ["text", "id", "dump", "url", "date", "file_path", "language", "language_score", "language_script",
             "minhash_cluster_size", "top_langs"]  # fmt: skip
    features = Features({n: Value("float64" if n == "language_score" else "int64" if n == "minhash_cluster_size"
                                  else "string") for n in names})  # fmt: skip
    rows = [
        {n: None for n in names}
        | {
            "text": "Купить дёшево! Доставка по всей России за 2 дня.\nMenu Home",
            "id": "<urn:uuid:1>",
            "language_score": 0.9,
            "minhash_cluster_size": 1,
        }
    ]
    files = write_hub_parquet(tmp_path / "000_00000.parquet", rows, features)
    units = list(load_corpus("fineweb2_ru", data_files=files))
    assert [u["text"] for u in units] == [
        "Доставка по всей России за 2 дня."
    ]  # 2-word and Latin units dropped
    renamed = write_hub_parquet(
        tmp_path / "r.parquet", [{"content": "Текст из трёх слов."}], Features({"content": Value("string")})
    )
    with pytest.raises(SourceChangedError, match="the source changed"):
        list(load_corpus("fineweb2_ru", data_files=renamed))


# ---------------------------------------------------------------- registry and helpers


def test_registry():
    assert set(list_corpora(has_audio=False)) == {"wikipedia_ru", "fineweb2_ru"}
    for name in list_corpora():
        adapter = CORPORA[name]
        assert adapter.repo_id and adapter.splits and adapter.license
        assert "text" in adapter.columns
        assert adapter.has_audio == ("audio" in adapter.columns)
    assert get_adapter("common_voice_ru").config == "ru"
    with pytest.raises(KeyError, match="unknown corpus"):
        get_adapter("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_adapter(CorpusAdapter("golos_crowd", "x/y", None, ("train",), {"audio": "a", "text": "t"}))


def test_text_helpers():
    assert clean_common_voice('"Да."') == "Да."
    assert clean_common_voice('"А" и "Б"') == '"А" и "Б"'
    assert clean_common_voice('Он сказал ""нет""') == 'Он сказал "нет"'
    assert split_sentences("Т. е. всё ясно. Нет? Да!") == ["Т. е. всё ясно.", "Нет?", "Да!"]
    assert split_sentences("Было 5 тыс. Рублей не было.") == ["Было 5 тыс. Рублей не было."]
    assert split_sentences("Он ушёл... и вернулся.") == ["Он ушёл... и вернулся."]
    assert split_paragraphs("a\n\n b  c \n") == ["a", "b c"]
