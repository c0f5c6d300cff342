"""The Mel-VAE and latent-diffusion stages end to end: recipes, statistics, held-out measures, text to waveform."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModel

from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.data.collators import DualStreamCollator, TextToSpeechCollator
from prosody_tts.modeling.dual_stream import DualStreamModel
from prosody_tts.modeling.latent_diffusion import LatentDiffusionTTSModel
from prosody_tts.modeling.mel_vae import MelVaeModel
from prosody_tts.trainers.mel_vae_stage import mel_statistics
from prosody_tts.trainers.recipe import parse_recipe, run_recipe

RECIPES = Path(__file__).parents[2] / "recipes"


@pytest.fixture(scope="module")
def prepared_root(tmp_path_factory) -> Path:
    """This module's own prepared cache: the stages prepare without the timings filter, and the
    shared ``prepared_tiny`` cache must stay as the other tests expect it."""
    return tmp_path_factory.mktemp("latent_prepared")


@pytest.fixture(scope="module")
def trained_vae(tmp_path_factory, tiny_corpus_dir, prepared_root):
    out = tmp_path_factory.mktemp("latent") / "mel_vae"
    result = run_recipe([
        str(RECIPES / "tiny" / "mel_vae.json"), "--corpus_dir", str(tiny_corpus_dir), "--prepared_dir",
        str(prepared_root), "--output_dir", str(out), "--max_steps", "3", "--save_steps", "100",
        "--logging_steps", "1", "--show_progress", "false", "--max_frames", "1500", "--report_to", "none",
    ])  # fmt: skip
    return out, result


def test_mel_vae_stage_measures_its_statistics_and_its_held_out_reconstruction(trained_vae, prepared_tiny):
    out, result = trained_vae
    vae = AutoModel.from_pretrained(out)
    assert isinstance(vae, MelVaeModel)
    mean, std = mel_statistics(prepared_tiny["train"], 256)
    assert vae.config.mel_mean == pytest.approx(mean) and vae.config.mel_std == pytest.approx(std)
    errors = json.loads((out / "reconstruction.json").read_text())
    assert errors == result.spectrogram_errors and errors["utterances"] == len(prepared_tiny["heldout"])
    assert math.isfinite(errors["mel_l1"]) and errors["mel_l1"] > 0
    logged = [entry for entry in result.log_history if "reconstruction_loss" in entry]
    assert len(logged) == 3 and all("kl_loss" in entry for entry in logged)
    if pytest.importorskip("matplotlib"):
        assert (out / "figures" / "reconstruction.png").is_file()


def test_latent_stage_from_a_curriculum_encoder_trains_measures_lengths_and_speaks(
    tmp_path, trained_vae, tiny_corpus_dir, processor, prepared_tiny, prepared_root
):
    stage = tmp_path / "stage2"
    DualStreamModel(
        DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
    ).save_pretrained(stage)
    processor.save_pretrained(stage)
    out = tmp_path / "latent_tts"
    result = run_recipe([
        str(RECIPES / "tiny" / "latent_tts.json"), "--init_from", str(stage), "--vae_model", str(trained_vae[0]),
        "--corpus_dir", str(tiny_corpus_dir), "--prepared_dir", str(prepared_root), "--output_dir", str(out),
        "--max_steps", "3", "--save_steps", "100", "--sample_every_steps", "0", "--logging_steps", "1",
        "--show_progress", "false", "--max_frames", "1500", "--report_to", "none",
    ])  # fmt: skip
    model = AutoModel.from_pretrained(out)
    assert isinstance(model, LatentDiffusionTTSModel)
    assert model.config.speaker_names == prepared_tiny["train"].speakers
    # the latent statistics were measured on the training rows through the VAE
    collator = TextToSpeechCollator(DualStreamCollator.from_processor(processor), spectrogram_only=True)
    batch = collator([prepared_tiny["train"][i] for i in range(4)])
    latents, lengths = model.vae.encode(batch["spectrogram"], batch["spectrogram_lengths"])
    assert len(model.config.latent_mean) == model.config.latent_channels and min(model.config.latent_std) > 0
    errors = json.loads((out / "latent_errors.json").read_text())
    assert errors == result.spectrogram_errors and errors["utterances"] == len(prepared_tiny["heldout"])
    assert all(math.isfinite(errors[k]) for k in ("mean_abs_frames", "mean_abs_seconds", "mean_relative"))
    assert all("diffusion_loss" in e and "length_loss" in e for e in result.log_history if "loss" in e)

    from prosody_tts.pipelines.text_to_speech import load_text_to_speech

    speaker = prepared_tiny["train"].speakers[0]
    tts, tts_processor = load_text_to_speech(str(out))
    assert tts.config.n_timesteps == 25 and tts.config.temperature == 1.0  # the head's own defaults
    inputs = tts_processor(text="Мама мыла раму.", return_tensors="pt")
    with torch.no_grad():
        speech = tts(**inputs, speaker=speaker, n_timesteps=2, guidance_scale=2.0)
    assert speech.waveform.shape[1] == int(speech.spectrogram_lengths[0]) * 256 and torch.isfinite(speech.waveform).all()
    assert float(latents.abs().sum()) > 0 and lengths.min() > 0


def test_latent_stage_needs_a_vae(tmp_path, tiny_corpus_dir, prepared_root):
    with pytest.raises(ValueError, match="vae_model"):
        run_recipe([
            str(RECIPES / "tiny" / "latent_tts.json"), "--init_from", "", "--vae_model", "", "--corpus_dir", str(tiny_corpus_dir),
            "--prepared_dir", str(prepared_root), "--output_dir", str(tmp_path / "x"), "--max_steps", "1",
            "--show_progress", "false", "--report_to", "none",
        ])  # fmt: skip


@pytest.mark.parametrize("name", ["mel_vae", "latent_tts"])
@pytest.mark.parametrize("scale", ["tiny", "paper"])
def test_latent_recipes_parse(name, scale):
    path = RECIPES / scale / f"{name}.json"
    model_args, _, stage_args, training_args = parse_recipe([str(path), "--bf16", "false"])  # bf16 needs a GPU here
    assert stage_args.stage == name and training_args.max_steps > 0
    if name == "latent_tts":
        assert model_args.vae_model and model_args.init_from
    assert json.loads(path.read_text())["bf16"] is (scale == "paper")
