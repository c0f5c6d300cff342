"""The vocoder stage: VocoderTrainer steps, its refusals, the recipes, run_vocoder_stage end to end
(real mels and a Grad-TTS model's teacher-forced mels; continuing and fine-tuning)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, TrainingArguments

from prosody_tts.configuration import GradTTSConfig, HifiGanTrainingConfig
from prosody_tts.constants import VOCODER_SUBFOLDER
from prosody_tts.data.sources.embedded import load_embedded_corpus
from prosody_tts.data.vocoder import VocoderSegmentDataset, load_vocoder_utterances
from prosody_tts.modeling import GradTTSModel, HifiGanVocoder
from prosody_tts.modeling.hifigan_training import HifiGanTrainingModel
from prosody_tts.trainers.recipe import parse_recipe, run_recipe
from prosody_tts.trainers.vocoder import GENERATOR_LOSS_PARTS, VocoderTrainer

RECIPES = Path(__file__).parents[2] / "recipes"


@pytest.fixture(scope="module")
def windows(tiny_corpus_dir, processor):
    extractor = processor.feature_extractor
    rows, _ = load_vocoder_utterances(load_embedded_corpus(tiny_corpus_dir, "train"), extractor, show_progress=False)
    return VocoderSegmentDataset(rows, 8, extractor.hop_length, float(extractor.padding_value))


def _args(tmp_path, **overrides) -> TrainingArguments:
    values = dict(output_dir=str(tmp_path), max_steps=3, logging_steps=1, report_to=[], use_cpu=True, disable_tqdm=True,
                  seed=0, per_device_train_batch_size=4, learning_rate=2e-4, adam_beta1=0.8, adam_beta2=0.99)  # fmt: skip
    return TrainingArguments(**{**values, **overrides})


def test_each_step_updates_both_players_and_logs_every_loss(tmp_path, windows):
    torch.manual_seed(0)
    model = HifiGanTrainingModel(HifiGanTrainingConfig.tiny())
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = VocoderTrainer(model=model, args=_args(tmp_path), train_dataset=windows, lr_decay=0.5, lr_decay_steps=2)
    trainer.train()
    unchanged = [name for name, p in trainer.model.named_parameters() if torch.equal(p, before[name])]
    assert not unchanged, unchanged[:5]
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 3
    for entry in logs:
        parts = ["discriminator_loss", *GENERATOR_LOSS_PARTS]
        assert all(math.isfinite(entry[name]) for name in parts)
        expected = entry["adversarial_loss"] + 2 * entry["feature_matching_loss"] + 45 * entry["mel_loss"]
        assert entry["loss"] == pytest.approx(expected, rel=1e-3)
    # the staircase decay, applied to both optimisers
    assert [entry["learning_rate"] for entry in logs] == pytest.approx([2e-4, 2e-4, 1e-4])  # the rate each step used
    assert trainer.discriminator_optimizer.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5**1)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"gradient_accumulation_steps": 2}, "gradient_accumulation_steps"),
])  # fmt: skip
def test_unsupported_settings_are_refused(tmp_path, windows, overrides, message):
    with pytest.raises(ValueError, match=message):
        VocoderTrainer(model=HifiGanTrainingModel(HifiGanTrainingConfig.tiny()), args=_args(tmp_path, **overrides), train_dataset=windows)
    with pytest.raises(ValueError, match="lr_decay"):
        VocoderTrainer(model=HifiGanTrainingModel(HifiGanTrainingConfig.tiny()), args=_args(tmp_path), train_dataset=windows, lr_decay=0)


def test_vocoder_recipes_parse():
    for preset, version in (("tiny", "tiny"), ("paper", "v1")):
        model, _, stage, training = parse_recipe(str(RECIPES / preset / "hifigan.json"))
        assert stage.stage == "vocoder" and model.vocoder_preset == version and training.max_steps > 0
    paper = json.loads((RECIPES / "paper" / "hifigan.json").read_text())
    assert (paper["per_device_train_batch_size"], paper["learning_rate"], paper["adam_beta1"], paper["adam_beta2"], paper["segment_size"]) == (
        16, 2e-4, 0.8, 0.99, 8192)  # the original V1 training


def _stage(tmp_path, corpus_dir, *extra: str):
    return run_recipe([
        str(RECIPES / "tiny" / "hifigan.json"), "--corpus_dir", str(corpus_dir), "--output_dir", str(tmp_path),
        "--max_steps", "2", "--save_steps", "100", "--segment_size", "2048", "--show_progress", "false",
        "--report_to", "none", "--logging_steps", "1", *extra,
    ])  # fmt: skip


def test_vocoder_stage_leaves_generator_training_dir_and_copy_synthesis_scores(tmp_path, tiny_corpus_dir):
    result = _stage(tmp_path / "new", tiny_corpus_dir)
    out = Path(result.output_dir)
    assert isinstance(AutoModel.from_pretrained(out), HifiGanTrainingModel)
    generator = AutoModel.from_pretrained(out / VOCODER_SUBFOLDER)
    assert isinstance(generator, HifiGanVocoder) and not generator.has_weight_norm
    scores = json.loads((out / "copy_synthesis.json").read_text())
    assert scores == result.copy_synthesis and set(scores) == {"hifigan", "griffin_lim_32"}
    assert all(math.isfinite(s["mel_l1"]) and math.isfinite(s["mcd_db"]) for s in scores.values())
    wavs = sorted(p.name.split(".", 1)[1] for p in (out / "copy_synthesis_samples").iterdir())
    assert wavs == ["griffin_lim_32.wav", "griffin_lim_32.wav", "hifigan.wav", "hifigan.wav", "original.wav", "original.wav"]
    # continue both players, or fine-tune the generator with new discriminators
    again = _stage(tmp_path / "continued", tiny_corpus_dir, "--init_from", str(out), "--evaluate_copy_synthesis", "false")
    assert again.copy_synthesis is None
    tuned = _stage(tmp_path / "tuned", tiny_corpus_dir, "--init_from", str(out / VOCODER_SUBFOLDER), "--evaluate_copy_synthesis", "false")
    assert isinstance(AutoModel.from_pretrained(Path(tuned.output_dir) / VOCODER_SUBFOLDER), HifiGanVocoder)


def test_vocoder_stage_on_teacher_forced_grad_tts_mels(tmp_path, tiny_corpus_dir, processor, prepared_tiny):
    blank = len(processor.tokenizer)
    speakers = prepared_tiny["train"].speakers
    tts = GradTTSModel(GradTTSConfig.tiny(vocab_size=blank + 1, blank_id=blank, num_speakers=len(speakers), speaker_names=speakers))
    tts.save_pretrained(tmp_path / "tts")
    processor.save_pretrained(tmp_path / "tts")
    prepared = Path(prepared_tiny["train"].rows.cache_files[0]["filename"]).parents[1]
    result = _stage(tmp_path / "voc", tiny_corpus_dir, "--vocoder_features", "tts", "--tts_model", str(tmp_path / "tts"),
                    "--prepared_dir", str(prepared), "--evaluate_copy_synthesis", "false")  # fmt: skip
    assert [e for e in result.log_history if "loss" in e]
    with pytest.raises(ValueError, match="needs tts_model"):
        _stage(tmp_path / "bad", tiny_corpus_dir, "--vocoder_features", "tts")


def test_teacher_forced_mels_keep_the_real_length(tiny_corpus_dir, processor, prepared_tiny):
    from prosody_tts.data.collators import DualStreamCollator, TextToSpeechCollator
    from prosody_tts.data.vocoder import teacher_forced_features

    extractor = processor.feature_extractor
    rows, _ = load_vocoder_utterances(list(load_embedded_corpus(tiny_corpus_dir, "train"))[:2], extractor, show_progress=False)
    blank = len(processor.tokenizer)
    tts = GradTTSModel(GradTTSConfig.tiny(vocab_size=blank + 1, blank_id=blank))
    collator = TextToSpeechCollator(DualStreamCollator.from_processor(processor))
    forced = teacher_forced_features(rows, prepared_tiny["train"], tts, collator, n_timesteps=2, show_progress=False)
    for real, generated in zip(rows, forced, strict=True):
        assert generated["input_features"].shape == real["input_features"].shape
        assert generated["waveform"] is real["waveform"] and not (generated["input_features"] == real["input_features"]).all()
    assert (teacher_forced_features(rows, prepared_tiny["train"], tts, collator, n_timesteps=2, show_progress=False)[0]["input_features"]
            == forced[0]["input_features"]).all()  # seeded: the same mels again
    with pytest.raises(KeyError, match="no prepared text"):
        teacher_forced_features([{**rows[0], "id": "nope"}], prepared_tiny["train"], tts, collator, show_progress=False)
