"""Speaking with the latent-diffusion head: the composite, pipeline("text-to-speech"), synthesize with a voice prompt."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch
from transformers import pipeline

from prosody_tts.cli import main
from prosody_tts.configuration import (
    DualStreamConfig,
    GriffinLimConfig,
    LatentDiffusionTTSConfig,
    MelVaeConfig,
)
from prosody_tts.modeling import GriffinLimVocoder, LatentDiffusionTTSModel, TextToWaveformModel
from prosody_tts.pipelines.text_to_speech import voice_prompt_inputs

SPEAKERS = ["anna", "boris"]


@pytest.fixture(scope="module")
def latent_dirs(processor, tmp_path_factory):
    """A random tiny latent-diffusion head (2 named speakers), alone and composed with Griffin-Lim, saved."""
    torch.manual_seed(0)
    text = DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
    config = LatentDiffusionTTSConfig.tiny(text_config=text, num_speakers=2, speaker_names=SPEAKERS, hidden_size=32,
                                           num_layers=2, vae_config=MelVaeConfig.tiny(channels=8))  # fmt: skip
    tts = LatentDiffusionTTSModel(config)
    vocoder = GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(processor.feature_extractor, n_iter=4, nnls_iter=10))
    root = tmp_path_factory.mktemp("latent")
    dirs = {"tts": root / "tts", "full": root / "full"}
    tts.save_pretrained(dirs["tts"])
    TextToWaveformModel.from_parts(tts, vocoder, n_timesteps=2).save_pretrained(dirs["full"])
    for name in dirs:
        processor.save_pretrained(dirs[name])
    return dirs


@pytest.fixture
def prompt_wav(tmp_path):
    path = tmp_path / "prompt.wav"
    soundfile.write(path, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), 16000)  # 1 s at 16 kHz
    return path


def test_the_pipeline_speaks_a_bare_latent_head_with_its_default_vocoder(latent_dirs):
    tts = pipeline("text-to-speech", model=str(latent_dirs["tts"]))
    params = {"speaker_ids": torch.tensor([0]), "n_timesteps": 2, "latent_lengths": torch.tensor([3])}
    out = tts("Привет, мир!", forward_params=params)
    assert out["sampling_rate"] == 22050 and out["audio"].shape == (3 * 8 * 256,) and np.isfinite(out["audio"]).all()
    composite = pipeline("text-to-speech", model=str(latent_dirs["full"]))
    first = composite("Привет, мир!", forward_params={"speaker": "anna"})
    again = composite("Привет, мир!", forward_params={"speaker": "anna"})
    assert np.array_equal(first["audio"], again["audio"])  # the composite's seed


def test_a_voice_prompt_is_turned_into_log_mels_and_a_transcript_count(latent_dirs, processor, prompt_wav):
    inputs = voice_prompt_inputs(processor, "Да.", prompt_wav, "Мама мыла раму.")
    frames = inputs["prompt_spectrogram"].shape[1]
    assert inputs["prompt_spectrogram"].shape[2] == 80 and abs(frames - 22050 / 256) <= 2  # resampled to 22.05 kHz
    alone = processor(text="Мама мыла раму.", return_tensors="pt")["phoneme_input_ids"]
    assert int(inputs["prompt_phonemes"]) == alone.shape[1] - 1
    assert torch.equal(inputs["phoneme_input_ids"][0, : alone.shape[1] - 1], alone[0, :-1])  # the transcript comes first
    with pytest.raises(ValueError, match="transcript"):
        voice_prompt_inputs(processor, "Да.", prompt_wav, " ")


def test_synthesize_with_a_voice_prompt_writes_only_the_new_speech(latent_dirs, prompt_wav, tmp_path):
    target = tmp_path / "out.wav"
    code = main(["synthesize", "Да.", "--model", str(latent_dirs["full"]), "--out", str(target), "--speaker", "anna",
                 "--prompt-audio", str(prompt_wav), "--prompt-text", "Мама мыла раму.", "--guidance-scale", "2"])  # fmt: skip
    assert code == 0
    audio, rate = soundfile.read(target)
    assert rate == 22050 and len(audio) > 0 and len(audio) % 256 == 0


def test_synthesize_refuses_a_prompt_without_its_transcript_or_for_grad_tts(latent_dirs, prompt_wav, tmp_path):
    with pytest.raises(SystemExit, match="go together"):
        main(["synthesize", "Да.", "--model", str(latent_dirs["full"]), "--prompt-audio", str(prompt_wav), "--out", str(tmp_path / "a.wav")])
    with pytest.raises(SystemExit, match="no such file"):
        main(["synthesize", "Да.", "--model", str(latent_dirs["full"]), "--prompt-audio", str(tmp_path / "none.wav"),
              "--prompt-text", "Да.", "--out", str(tmp_path / "a.wav")])  # fmt: skip
