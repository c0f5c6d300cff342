"""`prosody-tts align`: train an aligner, align a corpus, and the aligned corpus feeding stage 2."""

from __future__ import annotations

import json

import pytest

from prosody_tts.cli import main
from prosody_tts.data.prepared import prepare_corpus
from prosody_tts.data.sources.embedded import load_embedded_corpus


@pytest.fixture(scope="module")
def aligned(tmp_path_factory, tiny_corpus_dir):
    out = tmp_path_factory.mktemp("aligned")
    code = main(["align", "--data", str(tiny_corpus_dir), "--out", str(out), "--train", "--preset", "tiny",
                 "--max-steps", "3", "--batch-size", "4", "--no-progress", "--min-score", "0"])  # fmt: skip
    assert code == 0
    return out


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_align_writes_both_splits_and_a_summary(aligned, tiny_corpus_dir):
    summary = json.loads((aligned / "alignment.json").read_text(encoding="utf-8"))
    for split in ("train", "heldout"):
        source = _lines(tiny_corpus_dir / f"{split}.jsonl")
        records = _lines(aligned / f"{split}.jsonl")
        info = summary["splits"][split]
        assert info["aligned"] == len(records) == len(source) and info["rejected"] == 0
        errors = info["boundary_errors"]  # the embedded corpus carries espeak's timings: compared
        assert errors["utterances"] == len(source) and errors["boundaries"] > 0 and errors["median_ms"] >= 0
        for record, original in zip(records, source, strict=True):
            assert record["id"] == original["id"] and record["phonemes"] == original["phonemes"]
            assert sum(record["phoneme_durations"]) == sum(original["phoneme_durations"])  # the same mel frames
            assert 0 < record["alignment_score"] <= 1
    assert (aligned / "rejected.jsonl").read_text(encoding="utf-8") == ""
    assert (aligned / "aligner" / "config.json").is_file()


def test_aligned_corpus_feeds_the_occurrence_samplers(aligned, processor):
    prepared = prepare_corpus(load_embedded_corpus(aligned, "train"), processor, show_progress=False)
    assert len(prepared) == len(_lines(aligned / "train.jsonl")) and not prepared.skipped


def test_aligning_again_with_the_saved_model_gives_the_same_durations(aligned, tiny_corpus_dir, tmp_path):
    code = main(["align", "--data", str(tiny_corpus_dir), "--out", str(tmp_path), "--model", str(aligned / "aligner"),
                 "--no-progress", "--min-score", "0"])  # fmt: skip
    assert code == 0
    first, again = _lines(aligned / "heldout.jsonl"), _lines(tmp_path / "heldout.jsonl")
    assert [r["phoneme_durations"] for r in first] == [r["phoneme_durations"] for r in again]


def test_a_manifest_without_durations_is_aligned(aligned, tiny_corpus_dir, tmp_path):
    rows = _lines(tiny_corpus_dir / "train.jsonl")[:10]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"id": r["id"], "audio": str(tiny_corpus_dir / r["audio"]), "text": r["text"],
                                            "speaker": r["speaker"]}, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    assert main(["align", "--data", str(manifest), "--out", str(out), "--model", str(aligned / "aligner"), "--no-progress",
                 "--min-score", "0"]) == 0  # fmt: skip
    summary = json.loads((out / "alignment.json").read_text(encoding="utf-8"))
    assert summary["splits"]["train"]["aligned"] == 9 and summary["splits"]["heldout"]["aligned"] == 1  # every 10th held out
    assert summary["splits"]["train"]["boundary_errors"] is None  # no reference timings in the manifest
    record = _lines(out / "train.jsonl")[0]
    assert record["phonemes"] and len(record["phoneme_durations"]) == len(record["phonemes"])


def test_align_needs_exactly_one_of_model_and_train(tmp_path, tiny_corpus_dir):
    with pytest.raises(SystemExit, match="either --model ALIGNER_DIR or --train"):
        main(["align", "--data", str(tiny_corpus_dir), "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="no such folder or manifest"):
        main(["align", "--data", str(tmp_path / "none"), "--out", str(tmp_path), "--train"])
