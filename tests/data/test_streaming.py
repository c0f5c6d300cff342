"""Rank sharding, the robust stream (skips, workers, resume), Accelerate re-sharding, occurrence index."""

from __future__ import annotations

import json
import logging
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

from prosody_tts.data.collators import DualStreamCollator
from prosody_tts.data.occurrences import OccurrenceIndex, iter_occurrences
from prosody_tts.data.schema import make_example
from prosody_tts.data.sharding import shard_for_rank
from prosody_tts.data.stream_state import StreamStateCallback, restore_stream_state
from prosody_tts.data.streaming import RobustExampleStream, read_skip_counts
from prosody_tts.processing.feature_extraction import MelFeatureExtractor

SR, HOP = 22050, 256
PHONEMES = ["m", "ˈa", "m", "ə", "#", "m", "ˈɨ", "l", "ə", "#", "r", "ˈa", "m", "ʊ"]  # мама мыла раму
TEXT = "мама мыла раму"


def spread(total: int, phonemes: list[str]) -> list[int]:
    """Durations summing to ``total`` frames, 0 for ``#``."""
    sounds = [i for i, p in enumerate(phonemes) if p != "#"]
    out = [0] * len(phonemes)
    for k, i in enumerate(sounds):
        out[i] = total // len(sounds) + (1 if k < total % len(sounds) else 0)
    return out


def write_wav(path, seconds: float, seed: int, rate: int = SR) -> int:
    rng = np.random.default_rng(seed)
    samples = int(seconds * rate)
    sf.write(path, (0.1 * rng.standard_normal(samples)).astype(np.float32), rate, subtype="PCM_16")
    return samples // HOP if rate == SR else samples * SR // rate // HOP


def good_example(tmp_path, i: int, speaker: str = "spk0") -> dict:
    frames = write_wav(tmp_path / f"u{i:03d}.wav", 0.2 + 0.01 * (i % 7), seed=i)
    return make_example(
        f"u{i:03d}",
        f"u{i:03d}.wav",
        TEXT,
        speaker,
        phonemes=PHONEMES,
        phoneme_durations=spread(frames, PHONEMES),
    )


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny STFTs: with 2 intra-op threads on a busy 2-core box they run ~30x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """20 good examples and 7 bad ones (one per reason), written as wavs + a list of dicts."""
    root = tmp_path_factory.mktemp("corpus")
    good = [good_example(root, i, speaker=f"spk{i % 3}") for i in range(20)]
    (root / "corrupt.wav").write_bytes(b"RIFF\x00\x00 this is not audio at all")
    sf.write(root / "empty.wav", np.zeros(0, dtype=np.float32), SR)
    sf.write(root / "short.wav", np.zeros(100, dtype=np.float32), SR)
    frames = write_wav(root / "mismatch.wav", 0.2, seed=99)
    bad = [
        make_example("bad-corrupt", "corrupt.wav", TEXT, "spk0"),
        make_example("bad-empty", "empty.wav", TEXT, "spk0"),
        make_example("bad-missing", "nowhere.wav", TEXT, "spk0"),
        make_example("bad-short", "short.wav", TEXT, "spk0"),
        make_example("bad-durations", "mismatch.wav", TEXT, "spk0", phonemes=PHONEMES,
                     phoneme_durations=spread(frames + 10, PHONEMES)),
        make_example("bad-phoneme", "mismatch.wav", TEXT, "spk0", phonemes=["m", "Q", "a"], phoneme_durations=[1, 1, 1]),
        {"id": "bad-schema", "audio": "mismatch.wav", "speaker": "spk0"},  # no text
    ]  # fmt: skip
    expected = Counter({"bad_audio": 2, "missing_audio": 1, "too_short": 1, "duration_mismatch": 1,
                        "unknown_phoneme": 1, "schema": 1})  # fmt: skip
    mixed = []
    for i, example in enumerate(good):
        mixed.append(example)
        if i % 3 == 0 and bad:
            mixed.append(bad.pop(0))
    mixed.extend(bad)
    return SimpleNamespace(root=root, good=good, mixed=mixed, expected=expected)


@pytest.fixture(scope="module")
def fe():
    return MelFeatureExtractor()


def ids(items) -> list[str]:
    return [x["id"] for x in items]


# ---------------------------------------------------------------------------------- skips
def test_stream_skips_every_bad_example_once_logged_and_counted(corpus, fe, caplog):
    stream = RobustExampleStream(corpus.mixed, fe, base_dir=corpus.root)
    with caplog.at_level(logging.WARNING, logger="prosody_tts.data.streaming"):
        out = list(stream)
    assert ids(out) == ids(corpus.good)
    assert stream.skipped == corpus.expected
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 7 and all("bad-" in m for m in warned)
    assert out[0]["input_features"].shape == (out[0]["num_frames"], 80)
    assert sum(out[0]["phoneme_durations"]) == out[0]["num_frames"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="prosody_tts.data.streaming"):
        assert ids(list(stream)) == ids(corpus.good)  # second pass: counted again, not logged again
    assert not caplog.records
    assert stream.skipped["bad_audio"] == 4
    report = stream.report()
    assert "bad_audio: 4" in report and "7 distinct ids" in report


@pytest.mark.parametrize("num_workers", [0, 2])
def test_stream_in_dataloader_workers(corpus, fe, tmp_path, num_workers):
    stream = RobustExampleStream(corpus.mixed, fe, base_dir=corpus.root, skip_log_dir=tmp_path / "skips")
    loader = torch.utils.data.DataLoader(
        stream, batch_size=4, num_workers=num_workers, collate_fn=DualStreamCollator(return_ids=True)
    )
    seen = [i for batch in loader for i in batch["ids"]]
    assert sorted(seen) == sorted(ids(corpus.good))
    assert read_skip_counts(tmp_path / "skips") == corpus.expected
    if num_workers:  # the main-process copy saw nothing: counts live in the workers
        assert sum(stream.skipped.values()) == 0


# ---------------------------------------------------------------------------------- resume
def _hf_sources(corpus, tmp_path):
    from datasets import Dataset, Features, Value, load_dataset

    rows = [{"id": e["id"], "audio": e["audio"], "text": e["text"], "speaker": e["speaker"],
             "phonemes": e["phonemes"], "phoneme_durations": e["phoneme_durations"]} for e in corpus.mixed
            if e.get("text")]  # fmt: skip
    files = []
    for k in range(2):
        path = tmp_path / f"part{k}.jsonl"
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[k::2]), encoding="utf-8"
        )
        files.append(str(path))
    feats = Features({"id": Value("string"), "audio": Value("string"), "text": Value("string"),
                      "speaker": Value("string"), "phonemes": [Value("string")],
                      "phoneme_durations": [Value("int32")]})  # fmt: skip
    return {
        "map": lambda: shard_for_rank(Dataset.from_list(rows, features=feats), 0, 1, seed=3),
        "iterable-buffer": lambda: shard_for_rank(
            load_dataset("json", data_files=files, split="train", streaming=True, features=feats),
            0,
            1,
            seed=3,
            buffer_size=5,
        ),
        "iterable-native": lambda: Dataset.from_list(rows, features=feats).to_iterable_dataset(num_shards=3),
    }


@pytest.mark.parametrize("source", ["map", "iterable-buffer", "iterable-native"])
def test_resume_continues_exactly(corpus, fe, tmp_path, source):
    make = _hf_sources(corpus, tmp_path)[source]
    full = ids(RobustExampleStream(make(), fe, base_dir=corpus.root))
    assert sorted(full) == sorted(ids(corpus.good))
    first = RobustExampleStream(make(), fe, base_dir=corpus.root)
    expected_mode = {"map": "index", "iterable-buffer": "replay", "iterable-native": "native"}[source]
    assert first.mode == expected_mode
    head, it = [], iter(first)
    for _ in range(7):
        head.append(next(it)["id"])
    state = json.loads(json.dumps(first.state_dict()))  # survives JSON
    second = RobustExampleStream(make(), fe, base_dir=corpus.root)
    second.load_state_dict(state)
    tail = ids(second)
    assert head + tail == full
    assert second.skipped.total() == corpus.expected.total() - 1  # the text-less row is not written
    assert sorted(ids(second)) == sorted(
        full
    )  # the next pass is a whole pass again (reshuffled: seed + pass)


def test_state_at_examples_and_callback_roundtrip(corpus, fe, tmp_path):
    stream = RobustExampleStream(corpus.good, fe, base_dir=corpus.root)
    loader = torch.utils.data.DataLoader(stream, batch_size=3, collate_fn=DualStreamCollator(return_ids=True))
    it = iter(loader)
    batches = [next(it)["ids"] for _ in range(3)]
    next(it)  # a lookahead batch, as Accelerate does: pulled, not trained on
    args = SimpleNamespace(output_dir=str(tmp_path), dataloader_num_workers=0, gradient_accumulation_steps=1,
                           per_device_train_batch_size=3, process_index=0)  # fmt: skip
    StreamStateCallback(stream).on_save(args, SimpleNamespace(global_step=3), None)
    resumed = RobustExampleStream(corpus.good, fe, base_dir=corpus.root)
    assert restore_stream_state(resumed, tmp_path / "checkpoint-3")
    assert [i for b in batches for i in b] + ids(resumed) == ids(corpus.good)
    assert not restore_stream_state(resumed, tmp_path / "checkpoint-9")


def test_examples_after_batches_counts_partial_last_batch(corpus, fe):
    stream = RobustExampleStream(corpus.good[:5], fe, base_dir=corpus.root)
    list(stream)
    list(stream)  # two passes of 5 → batches of 2: [2, 2, 1] per pass
    assert stream.examples_after_batches(3, 2) == 5
    assert stream.examples_after_batches(4, 2) == 7
    assert stream.state_dict(at_examples=7)["consumed"] == 2
    with pytest.raises(ValueError):
        stream.load_state_dict({**stream.state_dict(), "mode": "native"})


# ---------------------------------------------------------------------------------- sharding
def _union_check(parts: list[list], whole: list) -> None:
    assert sorted(x for p in parts for x in p) == sorted(whole)
    assert not set(parts[0]) & set(parts[1])
    assert all(parts)


@pytest.mark.parametrize("n_files", [1, 2, 4])
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_two_ranks_partition_streamed_files(tmp_path, monkeypatch, n_files, fmt):
    import datasets.config
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import load_dataset

    rows = [{"id": f"x{i:03d}", "n": i} for i in range(40)]
    files = []
    for k in range(n_files):
        path = tmp_path / f"part{k}.{fmt}"
        chunk = rows[k::n_files]
        if fmt == "jsonl":
            path.write_text("".join(json.dumps(r) + "\n" for r in chunk))
        else:
            pq.write_table(pa.Table.from_pylist(chunk), path)
        files.append(str(path))
    builder = "json" if fmt == "jsonl" else "parquet"
    # datasets sleeps 5 s after a multi-source parquet pass (an Arrow thread-shutdown workaround)
    monkeypatch.setattr(datasets.config, "SLEEP_TIME_ON_THREADS_SHUTDOWN", 0)
    ds = load_dataset(builder, data_files=files, split="train", streaming=True)
    assert ds.n_shards == n_files
    parts = [[r["id"] for r in shard_for_rank(ds, rank, 2, seed=7, buffer_size=8)] for rank in (0, 1)]
    _union_check(parts, [r["id"] for r in rows])


def test_two_ranks_partition_map_dataset_and_stream(corpus, fe):
    from datasets import Dataset

    ds = Dataset.from_list([{"id": f"x{i}", "n": i} for i in range(41)])
    parts = [shard_for_rank(ds, rank, 2, seed=1)["id"] for rank in (0, 1)]
    _union_check(parts, ds["id"])
    assert parts[0] != sorted(parts[0])  # shuffled before the split
    streams = [
        RobustExampleStream(
            shard_for_rank(Dataset.from_list(corpus.good), r, 2, seed=2),
            fe,
            base_dir=corpus.root,
            rank_sharded=(r, 2),
        )
        for r in (0, 1)
    ]
    _union_check([ids(s) for s in streams], ids(corpus.good))


def test_accelerate_shards_a_rank_sharded_stream_again_so_trainers_build_their_own_loaders(corpus, fe):
    """The fact behind ``trainers.common.batch_sampler_dataloader``: Accelerate's ``prepare_data_loader``
    keeps 1/world_size of an already rank-sharded stream even with ``dispatch_batches=False``;
    the plain loader the trainers build keeps all of it."""
    from accelerate.data_loader import prepare_data_loader

    plain, prepared_seen = [], []
    for rank in (0, 1):
        stream = RobustExampleStream(corpus.good[rank::2], fe, base_dir=corpus.root, rank_sharded=(rank, 2))
        loader = torch.utils.data.DataLoader(
            stream, batch_size=4, collate_fn=DualStreamCollator(return_ids=True)
        )
        plain.append([i for batch in loader for i in batch["ids"]])
        prepared = prepare_data_loader(loader, num_processes=2, process_index=rank, put_on_device=False,
                                       dispatch_batches=False, split_batches=False)  # fmt: skip
        prepared_seen.append([i for batch in prepared for i in batch["ids"]])
    _union_check(plain, ids(corpus.good))
    assert len(set(prepared_seen[0]) | set(prepared_seen[1])) < len(ids(corpus.good))


# ---------------------------------------------------------------------------------- occurrences
def test_occurrence_index(corpus, fe):
    index = OccurrenceIndex(corpus.mixed)
    sounds = [p for p in PHONEMES if p != "#"]
    # the index reads no audio: bad-durations (wrong sum) is indexed, bad-phoneme is not
    assert len(index) == 21 * len(sounds)
    assert index.skipped == Counter({"no_durations": 5, "schema": 1})
    assert index.counts()["m"] == 4 * 21 and index.counts()["ˈa"] == 2 * 21
    assert all(o.phoneme == "ˈa" for o in index.by_phoneme("ˈa"))
    utt = index.by_utterance("u003")
    assert [o.phoneme for o in utt] == sounds and utt[-1].end_frame == sum(
        corpus.good[3]["phoneme_durations"]
    )
    assert [o.word_index for o in utt] == [0] * 4 + [1] * 4 + [2] * 4
    unstressed = OccurrenceIndex(corpus.good, keep_stress=False)
    assert unstressed.counts()["a"] == 2 * 20 and "ˈa" not in unstressed.counts()
    assert set(index.speakers_of("m")) == {"spk0", "spk1", "spk2"}
    stream = RobustExampleStream(corpus.mixed, fe, base_dir=corpus.root, with_occurrences=True)
    pairs = list(iter_occurrences(stream))
    assert [o for _, occ in pairs for o in occ] == list(OccurrenceIndex(corpus.good))


@pytest.fixture(scope="module")
def processor():
    """The default processor with a no-op stress placer (no model load; stored phonemes are used)."""
    from prosody_tts.processing.processing_dual_stream import DualStreamProcessor
    from prosody_tts.text.frontend import RussianFrontend

    processor = DualStreamProcessor.from_defaults()
    processor.frontend = RussianFrontend(stress=lambda text: text)
    return processor


def test_stream_with_processor_aligns_durations_to_phoneme_ids(corpus, processor):
    stream = RobustExampleStream(corpus.mixed[:6], processor, base_dir=corpus.root)
    out = list(stream)
    assert out, stream.report()
    ex = out[0]
    assert len(ex["phoneme_durations"]) == len(ex["phoneme_input_ids"]) == len(PHONEMES) + 2
    assert processor.tokenizer.convert_ids_to_tokens(ex["phoneme_input_ids"][1:-1]) == PHONEMES
    assert max(ex["phoneme_word_ids"]) == max(ex["bpe_word_ids"]) == 2
    batch = DualStreamCollator.from_processor(processor)(out)
    assert batch["phoneme_durations"].sum(1).tolist() == [e["num_frames"] for e in out]
    wrong = dict(corpus.good[0], id="words", text="мама мыла")
    bad = RobustExampleStream([wrong], processor, base_dir=corpus.root)
    assert list(bad) == [] and bad.skipped == Counter({"word_mismatch": 1})
