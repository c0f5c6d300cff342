"""`prosody-tts train recognizer`: a few CTC steps on ground truth, the saved directory, PER on held-out audio,
and the recogniser in `evaluate pairs` (its PER on the references reported beside the synthesised one)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from prosody_tts.cli import main
from prosody_tts.data.recognition import RecognizerCollator, RecognizerDataset, ctc_frames_needed
from prosody_tts.trainers.recipe import run_recipe
from prosody_tts.trainers.recognizer_stage import PER_FILE

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.fixture(scope="module")
def recognizer_dir(tmp_path_factory, tiny_corpus_dir):
    out = tmp_path_factory.mktemp("recognizer") / "rec"
    result = run_recipe([
        str(RECIPES / "tiny" / "recognizer.json"), "--corpus_dir", str(tiny_corpus_dir), "--output_dir", str(out),
        "--recognizer_preset", "tiny", "--max_steps", "4", "--per_device_train_batch_size", "4",
        "--save_strategy", "no", "--show_progress", "false", "--report_to", "none", "--logging_steps", "1",
    ])  # fmt: skip
    return out, result


def test_stage_trains_saves_and_scores_held_out_ground_truth(recognizer_dir):
    from prosody_tts.evaluation.recognition import PhonemeRecognizer

    out, result = recognizer_dir
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert len(losses) == 4 and all(math.isfinite(x) for x in losses)
    per = json.loads((out / PER_FILE).read_text(encoding="utf-8"))
    assert per == result.phoneme_error_rate
    assert 0.0 <= per["per_ci_low"] <= per["per"] <= per["per_ci_high"] and per["utterances"] > 0
    recognizer = PhonemeRecognizer(out)  # model + the feature extractor saved beside it
    assert isinstance(recognizer.recognize(np.zeros(22050, np.float32) + 0.01, 22050), list)


def test_train_recognizer_by_stage_name(tmp_path, tiny_corpus_dir, capsys):
    code = main(["train", "recognizer", "--corpus_dir", str(tiny_corpus_dir), "--output_dir", str(tmp_path / "r"),
                 "--recognizer_preset", "tiny", "--max_steps", "1", "--per_device_train_batch_size", "2",
                 "--save_strategy", "no", "--show_progress", "false", "--report_to", "none", "--use_cpu", "true",
                 "--evaluate_recognizer", "false"])  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()  # the Trainer's log lines, then the JSON summary
    start = max(i for i, line in enumerate(lines) if line == "{")
    summary = json.loads("\n".join(lines[start:]))
    assert summary["output_dir"] == str(tmp_path / "r") and "phoneme_error_rate" not in summary


def test_rows_that_cannot_fit_ctc_are_refused_with_their_id():
    assert ctc_frames_needed([1, 2, 2, 3]) == 5

    def ids(phonemes):
        return [1] * len([p for p in phonemes if p != "#"])

    rows = [
        {"id": "ok", "input_features": np.zeros((20, 80), np.float32), "phonemes": ["a", "#", "b"]},
        {"id": "short", "input_features": np.zeros((3, 80), np.float32), "phonemes": ["a", "b", "c", "d"]},
    ]
    dataset = RecognizerDataset(rows, ids, subsampling=2)
    assert len(dataset) == 1 and dataset.skipped[0][0] == "short"
    batch = RecognizerCollator()([dataset[0], {"input_features": np.zeros((5, 80), np.float32), "labels": [4]}])
    assert batch["input_features"].shape == (2, 20, 80) and batch["labels"].tolist() == [[1, 1], [4, -100]]
    assert batch["feature_attention_mask"].sum(1).tolist() == [20, 5]
    with pytest.raises(ValueError, match="no usable rows"):
        RecognizerDataset(rows[1:], ids, subsampling=2)


def test_evaluate_pairs_reports_the_recogniser_on_ground_truth_beside_synthesis(recognizer_dir, corpus_utterances):
    from prosody_tts.evaluation.synthesis import SynthesisEvaluationOptions, evaluate_pairs

    out, _ = recognizer_dir
    waveform, rate, row = next(iter(corpus_utterances.values()))[0]
    noisy = waveform + 0.05 * np.random.default_rng(0).standard_normal(len(waveform)).astype(np.float32)
    options = SynthesisEvaluationOptions(speaker_encoder=None, mos_proxy=False, recognizer=str(out))
    evaluation, _ = evaluate_pairs([("u", (waveform, rate), (noisy, rate))], options,
                                   texts={"u": {"text": row["text"], "phonemes": row["phonemes"]}}, show_progress=False)  # fmt: skip
    record = evaluation.records[0]
    from prosody_tts.text.inventory import is_phoneme

    assert record["reference_phonemes"] == sum(map(is_phoneme, row["phonemes"]))  # boundaries, punctuation dropped
    assert {"per", "per_ground_truth"} <= set(evaluation.summary)
    assert "PER of the references" in evaluation.to_markdown()
