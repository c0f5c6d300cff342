"""The TTS stage: TextToSpeechTrainer steps, the recipe files, run_tts_stage end to end (samples, held-out errors)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, TrainingArguments

from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.data.collators import DualStreamCollator, TextToSpeechCollator
from prosody_tts.evaluation.spectrograms import evaluate_spectrograms
from prosody_tts.modeling.dual_stream import DualStreamModel
from prosody_tts.modeling.grad_tts import GradTTSModel
from prosody_tts.trainers.recipe import parse_recipe, run_recipe
from prosody_tts.trainers.tts import LOSS_PARTS, TextToSpeechTrainer

RECIPES = Path(__file__).parents[2] / "recipes"


def _faithful(processor, speakers) -> GradTTSModel:
    blank = len(processor.tokenizer)
    return GradTTSModel(
        GradTTSConfig.tiny(vocab_size=blank + 1, blank_id=blank, num_speakers=len(speakers), speaker_names=speakers)
    )


def test_tts_trainer_fills_the_frame_budget_and_logs_each_loss_part(tmp_path, processor, prepared_tiny):
    train = prepared_tiny["train"]
    model = _faithful(processor, train.speakers)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=3, logging_steps=1, report_to=[], use_cpu=True, disable_tqdm=True, seed=0
    )
    trainer = TextToSpeechTrainer(
        model=model, args=args, train_dataset=train, processor=processor, max_frames=1500,
        speaker_to_id={name: i for i, name in enumerate(train.speakers)},
    )  # fmt: skip
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["spectrogram"].shape[0] * batch["spectrogram"].shape[1] <= 1500
    assert batch["speaker_ids"].shape == (batch["spectrogram"].shape[0],)
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 3
    for entry in logs:
        parts = [entry[name] for name in LOSS_PARTS]
        assert all(math.isfinite(value) for value in parts)
        assert entry["loss"] == pytest.approx(sum(parts), rel=1e-3, abs=1e-3)
    changed = [name for name, p in trainer.model.named_parameters() if not torch.equal(p, before[name])]
    assert any(name.startswith("encoder.") for name in changed) and any(name.startswith("decoder.") for name in changed)


def test_a_multi_speaker_trainer_needs_a_fixed_speaker_map(tmp_path, processor, prepared_tiny):
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=1, report_to=[], use_cpu=True)
    with pytest.raises(ValueError, match="speaker_to_id"):
        TextToSpeechTrainer(model=_faithful(processor, ["a", "b"]), args=args, processor=processor)


def test_tts_recipes_parse_and_start_from_stage_two(tmp_path):
    for preset in ("tiny", "paper"):
        model, data_args, stage, training = parse_recipe(str(RECIPES / preset / "grad_tts.json"))
        assert stage.stage == "tts" and model.tts_preset == preset and model.init_from.endswith("stage2")
        assert training.max_steps > 0 and stage.max_frames > 0 and data_args.corpus_dir
    paper = json.loads((RECIPES / "paper" / "grad_tts.json").read_text())
    assert paper["learning_rate"] == 1e-4  # the paper's Adam step
    # a recipe file followed by --flag overrides
    _, _, stage, training = parse_recipe([str(RECIPES / "tiny" / "grad_tts.json"), "--max_steps", "7", "--max_frames", "99"])
    assert training.max_steps == 7 and stage.max_frames == 99


def test_evaluation_is_the_same_in_batches_and_alone(processor, prepared_tiny):
    heldout = prepared_tiny["heldout"]
    model = _faithful(processor, prepared_tiny["train"].speakers).eval()
    speaker_to_id = {name: i for i, name in enumerate(model.config.speaker_names)}
    collator = TextToSpeechCollator(
        DualStreamCollator.from_processor(processor, speaker_to_id=speaker_to_id), with_speaker_ids=True, with_durations=True
    )
    rows = [heldout[i] for i in range(min(4, len(heldout)))]
    alone = evaluate_spectrograms(model, rows, collator, n_timesteps=2, batch_size=1, show_progress=False)
    batched = evaluate_spectrograms(model, rows, collator, n_timesteps=2, batch_size=4, show_progress=False)
    assert alone.utterances == batched.utterances == len(rows)
    assert alone.prior_mel_l1 == pytest.approx(batched.prior_mel_l1, rel=1e-4)
    assert alone.duration_mae_frames == pytest.approx(batched.duration_mae_frames, rel=1e-5)
    assert math.isfinite(alone.mel_l1) and math.isfinite(batched.mel_l1)
    with pytest.raises(ValueError, match="with_durations"):
        evaluate_spectrograms(model, rows, TextToSpeechCollator(collator.base, True), show_progress=False)


def test_tts_stage_from_a_curriculum_encoder_leaves_a_loadable_model_samples_and_errors(
    tmp_path, tiny_corpus_dir, processor, prepared_tiny
):
    pytest.importorskip("tensorboard")
    stage = tmp_path / "stage2"
    DualStreamModel(
        DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
    ).save_pretrained(stage)
    processor.save_pretrained(stage)
    prepared = Path(prepared_tiny["train"].rows.cache_files[0]["filename"]).parents[1]
    out = tmp_path / "grad_tts"
    result = run_recipe([
        str(RECIPES / "tiny" / "grad_tts.json"), "--init_from", str(stage), "--corpus_dir", str(tiny_corpus_dir),
        "--prepared_dir", str(prepared), "--output_dir", str(out), "--max_steps", "4", "--save_steps", "100",
        "--sample_every_steps", "2", "--eval_timesteps", "2", "--logging_steps", "1", "--show_progress", "false",
        "--max_frames", "1500",
    ])  # fmt: skip
    model = AutoModel.from_pretrained(out)
    assert isinstance(model, GradTTSModel) and model.config.encoder_type == "dual_stream"
    assert model.config.speaker_names == prepared_tiny["train"].speakers
    errors = json.loads((out / "spectrogram_errors.json").read_text())
    assert errors == result.spectrogram_errors and errors["utterances"] == len(prepared_tiny["heldout"])
    assert all(math.isfinite(errors[key]) for key in ("mel_l1", "prior_mel_l1", "duration_mae_frames", "length_error"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "runs" / "samples"), size_guidance={"images": 0, "audio": 0})
    events.Reload()
    assert [e.step for e in events.Images("samples/spectrogram")] == [2, 4]
    assert [e.step for e in events.Audio("samples/audio")] == [2, 4]


def test_rows_without_timings_are_measured_against_the_models_alignment(processor, prepared_tiny):
    model = _faithful(processor, prepared_tiny["train"].speakers).eval()
    speaker_to_id = {name: i for i, name in enumerate(model.config.speaker_names)}
    collator = TextToSpeechCollator(
        DualStreamCollator.from_processor(processor, speaker_to_id=speaker_to_id), with_speaker_ids=True, with_durations=True
    )
    rows = [prepared_tiny["heldout"][i] for i in range(2)]
    untimed = [{**row, "phoneme_durations": None} for row in rows]
    errors = evaluate_spectrograms(model, untimed, collator, n_timesteps=1, show_progress=False)
    assert errors.reference_durations == "alignment" and math.isfinite(errors.mel_l1)
    assert evaluate_spectrograms(model, rows, collator, n_timesteps=1, show_progress=False).reference_durations == "truth"
    with pytest.raises(ValueError, match="separately"):
        evaluate_spectrograms(model, [rows[0], untimed[1]], collator, n_timesteps=1, batch_size=1, show_progress=False)


def _festvox_installed() -> bool:
    from prosody_tts.data.sources.festvox import FestvoxNotInstalled, find_festvox_ru

    try:
        find_festvox_ru()
    except FestvoxNotInstalled:
        return False
    return True


@pytest.mark.skipif(not _festvox_installed(), reason="festvox-ru is not installed: apt-get install festvox-ru")
def test_grad_tts_trains_on_real_festvox_speech_without_phoneme_timings(tmp_path, processor):
    from prosody_tts.data.prepared import prepare_corpus
    from prosody_tts.data.sources.festvox import festvox_split, load_festvox_ru

    examples = festvox_split(load_festvox_ru(), "train")[:6]
    prepared = prepare_corpus(examples, processor, show_progress=False, require_durations=False)
    assert len(prepared) == 6 and prepared[0]["phoneme_durations"] is None
    blank = len(processor.tokenizer)
    model = GradTTSModel(GradTTSConfig.tiny(vocab_size=blank + 1, blank_id=blank))
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, logging_steps=1, report_to=[], use_cpu=True,
                             disable_tqdm=True, seed=0)  # fmt: skip
    longest = max(int(row["num_frames"]) for row in prepared.rows)
    trainer = TextToSpeechTrainer(model=model, args=args, train_dataset=prepared, processor=processor, max_frames=2 * longest)
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2 and all(math.isfinite(entry["diffusion_loss"]) for entry in logs)
