"""Evaluating TTS outputs against references: pairing, problems counted, records, summary, report, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile

from prosody_tts.cli import main
from prosody_tts.evaluation.synthesis import (
    SynthesisEvaluationOptions,
    evaluate_pairs,
    pair_files,
    read_texts,
    summarize_records,
)
from prosody_tts.evaluation.synthesis_report import write_synthesis_report


@pytest.fixture(scope="module")
def pair_folders(tmp_path_factory, corpus_utterances):
    """3 references; their +2-semitone shifts as 'synthesised' outputs; one unpaired, one broken file."""
    import librosa

    root = tmp_path_factory.mktemp("pairs")
    (root / "ref").mkdir()
    (root / "syn").mkdir()
    lines = []
    for waveform, rate, row in next(iter(corpus_utterances.values()))[:3]:
        soundfile.write(root / "ref" / f"{row['id']}.wav", waveform, rate)
        soundfile.write(root / "syn" / f"{row['id']}.wav", librosa.effects.pitch_shift(waveform, sr=rate, n_steps=2.0), rate)
        lines.append(f"{row['id']}\t{row['text']}")
    soundfile.write(root / "ref" / "only_reference.wav", np.zeros(1600, np.float32), 16000)
    (root / "ref" / "broken.wav").write_bytes(b"not audio")
    (root / "syn" / "broken.wav").write_bytes(b"not audio either")
    (root / "texts.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_pairing_reports_every_unpaired_file(pair_folders, tmp_path):
    pairs, problems = pair_files(pair_folders / "ref", pair_folders / "syn")
    assert [key for key, _, _ in pairs] == sorted(["broken", *[p.stem for p in (pair_folders / "syn").glob("train_*.wav")]])
    assert [(p.id, "no synthesized" in p.reason) for p in problems] == [("only_reference", True)]
    with pytest.raises(FileNotFoundError):
        pair_files(tmp_path / "absent", pair_folders / "syn")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="no audio files"):
        pair_files(tmp_path / "a", tmp_path / "b")


def test_texts_files(tmp_path):
    (tmp_path / "t.tsv").write_text("a\tПривет.\n\nb\tМир\n", encoding="utf-8")
    assert read_texts(tmp_path / "t.tsv") == {"a": {"text": "Привет."}, "b": {"text": "Мир"}}
    (tmp_path / "t.jsonl").write_text('{"id": "a", "text": "x", "reference_durations": [1, 2]}\n', encoding="utf-8")
    assert read_texts(tmp_path / "t.jsonl")["a"]["reference_durations"] == [1, 2]
    (tmp_path / "bad.tsv").write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:1"):
        read_texts(tmp_path / "bad.tsv")
    (tmp_path / "dup.tsv").write_text("a\tx\na\ty\n", encoding="utf-8")
    with pytest.raises(ValueError, match="twice"):
        read_texts(tmp_path / "dup.tsv")


def test_evaluate_pairs_records_summary_and_problems(pair_folders, tmp_path):
    pairs, problems = pair_files(pair_folders / "ref", pair_folders / "syn")
    texts = read_texts(pair_folders / "texts.tsv")
    options = SynthesisEvaluationOptions(speaker_encoder=None, mos_proxy=False)
    evaluation, tracks = evaluate_pairs(pairs, options, texts=texts, problems=problems, show_progress=False)
    assert len(evaluation.records) == 3
    reasons = {p.id: p.reason for p in evaluation.problems}
    assert "not evaluated" in reasons["broken"] and "only_reference" in reasons
    assert len(evaluation.problems) == 2  # an unevaluated pair is not also reported for its missing text
    summary = evaluation.summary
    assert 170 < summary["f0_rmse_cents"].mean < 230  # the +2-semitone shift
    assert summary["speaking_rate_ratio"].mean == pytest.approx(1.0, abs=0.05)
    assert all(r["phoneme_count"] > 5 for r in evaluation.records)
    assert "sim_o" not in summary and "wer" not in summary
    written = write_synthesis_report(evaluation, tmp_path / "out", tracks)
    assert {"records.jsonl", "summary.json", "report.md", "f0_contours.png", "mel_comparison.png", "metric_distributions.png"} <= set(written)
    lines = (tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(json.loads(line)["mcd_db"] > 0 for line in lines)
    saved = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert saved["utterances"] == 3 and len(saved["problems"]) == len(evaluation.problems)
    assert "F0 RMSE (cents)" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    again, _ = evaluate_pairs(pairs, options, texts=texts, show_progress=False)
    assert again.summary == evaluation.summary  # same inputs, same seed → same numbers


def test_undefined_metrics_are_counted_not_dropped():
    options = SynthesisEvaluationOptions()
    records = [{"mcd_db": 5.0, "sim_o": 0.9}, {"mcd_db": 7.0, "sim_o": math.nan}, {"mcd_db": 6.0}]
    summary = summarize_records(records, options)
    assert summary["mcd_db"].count == 3 and summary["sim_o"].count == 1 and summary["sim_o"].missing == 2
    pooled = summarize_records([{"word_edits": 1, "reference_words": 4}, {"word_edits": 1, "reference_words": 6}], options)
    assert pooled["wer"].mean == pytest.approx(0.2)


def test_wer_through_a_local_asr_model_and_durations(corpus_utterances, tiny_asr_dir):
    waveform, rate, row = next(iter(corpus_utterances.values()))[0]
    options = SynthesisEvaluationOptions(speaker_encoder=None, mos_proxy=False, asr=str(tiny_asr_dir))
    texts = {"u": {"text": row["text"], "reference_durations": [3, 4, 5], "synthesized_durations": [4, 4, 3]}}
    evaluation, _ = evaluate_pairs([("u", (waveform, rate), (waveform, rate))], options, texts=texts, show_progress=False)
    record = evaluation.records[0]
    assert isinstance(record["transcript"], str) and record["wer"] >= 0
    assert record["duration_error_frames"] == pytest.approx(1.0)
    assert evaluation.summary["wer"].count == 1 and record["mcd_db"] == 0.0


def test_cli_pairs_writes_the_report(pair_folders, tmp_path, capsys):
    out = tmp_path / "report"
    code = main(["evaluate", "pairs", "--reference", str(pair_folders / "ref"), "--synthesized", str(pair_folders / "syn"),
                 "--text", str(pair_folders / "texts.tsv"), "--speaker-encoder", "none", "--no-mos-proxy",
                 "--no-figures", "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert "| MCD (dB) |" in captured.out and "only_reference" in captured.err
    assert (out / "summary.json").is_file() and not (out / "f0_contours.png").exists()
    with pytest.raises(SystemExit, match="not a directory"):
        main(["evaluate", "pairs", "--reference", str(tmp_path / "nope"), "--synthesized", str(pair_folders / "syn"), "--out", str(out)])
