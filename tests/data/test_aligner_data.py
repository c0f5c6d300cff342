"""Aligner data: training rows and batches, and aligning canonical examples (nothing dropped silently)."""

from __future__ import annotations

import doctest
import io
import json

import numpy as np
import pytest
import soundfile as sf

from prosody_tts.data import alignment
from prosody_tts.data.alignment import AlignerCollator, AlignerDataset, align_examples, fold_edge_silence
from prosody_tts.data.sources.embedded import load_embedded_corpus
from prosody_tts.text.inventory import WORD_BOUNDARY


@pytest.fixture(scope="module")
def random_aligner(processor):
    import torch

    from prosody_tts.configuration import PhonemeAlignerConfig
    from prosody_tts.modeling import PhonemeAlignerModel

    torch.manual_seed(0)
    tokenizer = processor.tokenizer
    config = PhonemeAlignerConfig.tiny(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
        unaligned_token_ids=[tokenizer.convert_tokens_to_ids(WORD_BOUNDARY)],
    )  # fmt: skip
    return PhonemeAlignerModel(config).eval()


def test_module_examples_run():
    assert doctest.testmod(alignment).failed == 0


def test_fold_needs_the_edge_tokens():
    with pytest.raises(ValueError, match="need <s>"):
        fold_edge_silence([3, 4])


def test_dataset_refuses_rows_shorter_than_their_tokens():
    rows = [
        {"id": "ok", "phoneme_input_ids": [1, 7, 5, 8, 2], "num_frames": 4, "input_features": np.zeros((4, 80))},
        {"id": "short", "phoneme_input_ids": [1, 7, 8, 9, 2], "num_frames": 3, "input_features": np.zeros((3, 80))},
    ]
    dataset = AlignerDataset(rows, unaligned_token_ids=[5])
    assert len(dataset) == 1 and dataset.skipped == [("short", "too short: 3 frames for 5 tokens")]
    batch = AlignerCollator(pad_token_id=0)([dataset[0], dataset[0]])
    assert batch["input_ids"].shape == (2, 5) and batch["feature_attention_mask"].sum().item() == 8
    with pytest.raises(ValueError, match="no usable rows"):
        AlignerDataset(rows[1:], unaligned_token_ids=[5])


def test_every_example_is_aligned_or_rejected_with_a_reason(random_aligner, processor, tiny_corpus_dir, tmp_path):
    examples = [dict(e) for e in load_embedded_corpus(tiny_corpus_dir, "heldout")][:3]
    broken = {**examples[0], "id": "missing", "audio": {"path": str(tmp_path / "nope.wav"), "bytes": None}}
    wave, rate = sf.read(examples[1]["audio"]["path"], dtype="float32")
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV")
    in_memory = {**examples[1], "id": "bytes_only", "audio": {"path": None, "bytes": buffer.getvalue()}}
    results = list(align_examples(random_aligner, processor, [*examples, broken, in_memory], batch_size=2,
                                  min_score=0.0, audio_dir=tmp_path / "audio"))  # fmt: skip
    kinds = {record["id"]: kind for kind, record in results}
    assert kinds == {**{e["id"]: "aligned" for e in examples}, "missing": "rejected", "bytes_only": "aligned"}
    rejected = next(record for kind, record in results if kind == "rejected")
    assert rejected["reason"].startswith("missing_audio")
    for kind, record in results:
        if kind != "aligned":
            continue
        frames = sf.info(record["audio"]).frames * 22050 // sf.info(record["audio"]).samplerate // 256
        assert sum(record["phoneme_durations"]) == frames  # every mel frame belongs to one phoneme
        assert len(record["phoneme_durations"]) == len(record["phonemes"])
        assert all(d == 0 for p, d in zip(record["phonemes"], record["phoneme_durations"], strict=True) if p == WORD_BOUNDARY)
    written = next(record for kind, record in results if record["id"] == "bytes_only")
    assert written["audio"] == str((tmp_path / "audio" / "bytes_only.wav").resolve())


def test_a_score_threshold_rejects_with_the_score(random_aligner, processor, tiny_corpus_dir):
    examples = [dict(e) for e in load_embedded_corpus(tiny_corpus_dir, "heldout")][:2]
    results = list(align_examples(random_aligner, processor, examples, min_score=1.0))
    assert [kind for kind, _ in results] == ["rejected", "rejected"]
    assert all("alignment score" in record["reason"] and "< 1.0" in record["reason"] for _, record in results)


def test_stream_aligns_on_the_fly_and_skips_low_scores(random_aligner, processor, tiny_corpus_dir):
    from prosody_tts.data.streaming import RobustExampleStream

    examples = [{**dict(e), "phonemes": None, "phoneme_durations": None}
                for e in load_embedded_corpus(tiny_corpus_dir, "heldout")][:2]  # fmt: skip
    stream = RobustExampleStream(examples, processor, require_durations=True, with_occurrences=True,
                                 aligner=random_aligner, min_alignment_score=0.0)  # fmt: skip
    items = list(stream)
    assert len(items) == 2 and not stream.skipped
    for item in items:
        assert sum(item["phoneme_durations"]) == item["num_frames"]
        assert item["occurrences"] and all(o.num_frames >= 1 for o in item["occurrences"])
    strict = RobustExampleStream(examples, processor, aligner=random_aligner, min_alignment_score=1.0)
    assert list(strict) == [] and strict.skipped == {"alignment": 2}
    with pytest.raises(ValueError, match="needs a DualStreamProcessor"):
        RobustExampleStream(examples, processor.feature_extractor, aligner=random_aligner)


def test_manifest_loader_keeps_stored_durations(tiny_corpus_dir):
    from prosody_tts.data.sources.local import load_manifest

    rows = list(load_manifest(tiny_corpus_dir / "train.jsonl", streaming=False))
    original = [json.loads(line) for line in (tiny_corpus_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["phoneme_durations"] for r in rows] == [o["phoneme_durations"] for o in original]
    assert [r["phonemes"] for r in rows] == [o["phonemes"] for o in original]
