"""`stage="aligner"` from the tiny recipe: finite forward-sum losses, the saved aligner, held-out boundary errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

from prosody_tts.modeling import PhonemeAlignerModel
from prosody_tts.trainers.aligner_stage import ACCURACY_FILE
from prosody_tts.trainers.recipe import run_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_aligner_recipe_trains_saves_and_scores_held_out_boundaries(tmp_path, tiny_corpus_dir):
    out = tmp_path / "aligner"
    result = run_recipe([
        str(RECIPES / "tiny" / "aligner.json"), "--corpus_dir", str(tiny_corpus_dir), "--output_dir", str(out),
        "--aligner_preset", "tiny", "--max_steps", "3", "--per_device_train_batch_size", "4",
        "--save_strategy", "no", "--show_progress", "false", "--report_to", "none", "--logging_steps", "1",
    ])  # fmt: skip
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert len(losses) == 3 and all(math.isfinite(x) and x > 0 for x in losses)
    accuracy = json.loads((out / ACCURACY_FILE).read_text(encoding="utf-8"))
    assert accuracy == result.alignment_accuracy
    assert accuracy["reference"] == "stored_durations" and accuracy["aligned"] == accuracy["utterances"] > 0
    errors = accuracy["boundary_errors"]
    assert errors["boundaries"] > 0 and 0 <= errors["within_ms"]["20"] <= errors["within_ms"]["50"] <= 1
    model = PhonemeAlignerModel.from_pretrained(out)
    assert model.config.unaligned_token_ids  # the word boundary, from the saved tokenizer
