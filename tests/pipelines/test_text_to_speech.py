"""Speaking offline: the composite text-to-waveform model, pipeline("text-to-speech"), prosody-tts synthesize."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch
from transformers import AutoModel, AutoModelForTextToWaveform, pipeline

from prosody_tts.cli import main
from prosody_tts.configuration import (
    DualStreamConfig,
    GradTTSConfig,
    GriffinLimConfig,
    HifiGanConfig,
    TextToWaveformConfig,
)
from prosody_tts.configuration.hifigan import HIFIGAN_PRESETS
from prosody_tts.modeling import GradTTSModel, GriffinLimVocoder, HifiGanVocoder, TextToWaveformModel

SPEAKERS = ["anna", "boris"]


@pytest.fixture(scope="module")
def tts_dirs(processor, tmp_path_factory):
    """A random tiny dual-stream Grad-TTS (2 named speakers), a vocoder and their composite, saved."""
    torch.manual_seed(0)
    text = DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
    tts = GradTTSModel(GradTTSConfig.with_text_encoder(
        text, num_speakers=2, speaker_names=SPEAKERS, decoder_dim=16, decoder_dim_mults=[1, 2],
        decoder_attention_heads=2, decoder_attention_head_dim=8, duration_predictor_channels=32, segment_frames=32,
    ))  # fmt: skip
    vocoder = GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(processor.feature_extractor, n_iter=4, nnls_iter=10))
    root = tmp_path_factory.mktemp("tts")
    dirs = {"tts": root / "tts", "vocoder": root / "vocoder", "full": root / "full"}
    tts.save_pretrained(dirs["tts"])
    vocoder.save_pretrained(dirs["vocoder"])
    TextToWaveformModel.from_parts(tts, vocoder, n_timesteps=2).save_pretrained(dirs["full"])
    for name in ("tts", "full"):
        processor.save_pretrained(dirs[name])
    return dirs


def test_composite_loads_with_the_auto_classes_and_speaks_the_same_after_loading(tts_dirs, processor):
    loaded = AutoModelForTextToWaveform.from_pretrained(tts_dirs["full"]).eval()
    assert isinstance(loaded, TextToWaveformModel) and isinstance(AutoModel.from_pretrained(tts_dirs["full"]), TextToWaveformModel)
    parts = TextToWaveformModel.from_parts(tts_dirs["tts"], tts_dirs["vocoder"], n_timesteps=2).eval()
    inputs = processor(text=["Привет, мир!", "Да."], return_tensors="pt")
    a, b = loaded(**inputs, speaker="boris"), parts(**inputs, speaker=1)
    assert torch.equal(a.waveform, b.waveform) and torch.equal(a.spectrogram, b.spectrogram)
    assert a[0] is a.waveform  # waveform first: what the pipeline reads
    hop = loaded.config.vocoder_config.hop_length
    assert a.waveform_lengths.tolist() == [int(n) * hop for n in a.spectrogram_lengths]
    again = loaded(**inputs, speaker="boris")
    assert torch.equal(a.waveform, again.waveform)  # config.seed: the same text gives the same audio
    other = loaded(**inputs, speaker="boris", seed=1)
    assert not torch.equal(a.spectrogram, other.spectrogram)


def test_composite_refuses_mismatched_parts_and_unknown_speakers(tts_dirs, processor):
    with pytest.raises(ValueError, match="disagree"):
        TextToWaveformConfig(tts_config=GradTTSConfig.tiny(), vocoder_config=GriffinLimConfig(hop_length=200, n_fft=1000, win_length=1000))
    model = TextToWaveformModel.from_pretrained(tts_dirs["full"]).eval()
    inputs = processor(text="Привет.", return_tensors="pt")
    with pytest.raises(ValueError, match="unknown speaker"):
        model(**inputs, speaker="clara")
    with pytest.raises(ValueError, match="needs speaker_ids"):
        model(**inputs)


def test_text_to_speech_pipeline_speaks_offline_for_text_lists_and_speakers(tts_dirs):
    tts = pipeline("text-to-speech", model=str(tts_dirs["full"]))
    one = tts("Привет, мир!", forward_params={"speaker": "anna"})
    assert one["sampling_rate"] == 22050 and one["audio"].ndim == 1 and np.isfinite(one["audio"]).all()
    many = tts(["Первая фраза.", "Вторая фраза, подлиннее."], forward_params={"speaker": "boris"})
    assert len(many) == 2 and all(item["audio"].ndim == 1 for item in many)
    assert not np.array_equal(one["audio"], tts("Привет, мир!", forward_params={"speaker": "boris"})["audio"])


def test_pipeline_over_a_spectrogram_model_takes_a_vocoder_directory_or_griffin_lim(tts_dirs):
    with_dir = pipeline("text-to-speech", model=str(tts_dirs["tts"]), vocoder=str(tts_dirs["vocoder"]))
    assert isinstance(with_dir.vocoder, GriffinLimVocoder) and with_dir.vocoder.config.n_iter == 4
    audio = with_dir("Привет.", forward_params={"speaker_ids": torch.tensor([0]), "n_timesteps": 2})
    assert audio["sampling_rate"] == 22050 and audio["audio"].ndim == 1
    default = pipeline("text-to-speech", model=str(tts_dirs["tts"]))  # no download: Griffin-Lim from the mel settings
    assert isinstance(default.vocoder, GriffinLimVocoder)


def test_synthesize_command_writes_one_wav_or_one_per_line(tts_dirs, tmp_path, monkeypatch, capsys):
    target = tmp_path / "out.wav"
    assert main(["synthesize", "Прив+ет, мир!", "--model", str(tts_dirs["full"]), "--out", str(target), "--speaker", "anna", "--steps", "2"]) == 0
    audio, rate = soundfile.read(target)
    assert rate == 22050 and audio.ndim == 1 and len(audio) > 0
    lines = tmp_path / "lines.txt"
    lines.write_text("Раз.\n\nДва три.\n", encoding="utf-8")
    folder = tmp_path / "many"
    code = main(["synthesize", "--file", str(lines), "--model", str(tts_dirs["tts"]), "--out", str(folder),
                 "--speaker", "1", "--steps", "1", "--temperature", "2", "--length-scale", "1.2"])  # fmt: skip
    assert code == 0 and sorted(p.name for p in folder.iterdir()) == ["0001.wav", "0003.wav"]
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Четыре.\n"))
    assert main(["synthesize", "--model", str(tts_dirs["full"]), "--out", str(tmp_path / "stdin"), "--speaker", "anna"]) == 0
    assert (tmp_path / "stdin" / "0001.wav").is_file()
    assert main(["synthesize", "Да.", "--model", str(tts_dirs["full"]), "--out", str(target), "--speaker", "clara"]) == 1
    assert "unknown speaker" in capsys.readouterr().err


# ---------------------------------------------------------------------------- HiFi-GAN in the chain
@pytest.fixture(scope="module")
def hifigan_dirs(tts_dirs, processor, tmp_path_factory):
    """A tiny HiFi-GAN; the Grad-TTS dir copied with it in vocoder/; a composite holding it."""
    import shutil

    from prosody_tts.constants import VOCODER_SUBFOLDER

    torch.manual_seed(0)
    vocoder = HifiGanVocoder(HifiGanConfig.from_feature_extractor(processor.feature_extractor, **HIFIGAN_PRESETS["tiny"]))
    root = tmp_path_factory.mktemp("hifigan")
    dirs = {"vocoder": root / "vocoder", "tts": root / "tts", "full": root / "full"}
    vocoder.save_pretrained(dirs["vocoder"])
    shutil.copytree(tts_dirs["tts"], dirs["tts"])
    vocoder.save_pretrained(dirs["tts"] / VOCODER_SUBFOLDER)
    TextToWaveformModel.from_parts(tts_dirs["tts"], vocoder, n_timesteps=2).save_pretrained(dirs["full"])
    processor.save_pretrained(dirs["full"])
    return dirs


def test_pipeline_uses_the_hifigan_a_directory_holds(hifigan_dirs):
    composite = pipeline("text-to-speech", model=str(hifigan_dirs["full"]))
    assert isinstance(composite.model.vocoder, HifiGanVocoder)
    out = composite("Привет.", forward_params={"speaker": "anna"})
    assert out["sampling_rate"] == 22050 and out["audio"].ndim == 1 and np.isfinite(out["audio"]).all()
    beside = pipeline("text-to-speech", model=str(hifigan_dirs["tts"]))  # Grad-TTS dir with vocoder/
    assert isinstance(beside.vocoder, HifiGanVocoder)
    chosen = pipeline("text-to-speech", model=str(hifigan_dirs["tts"]), vocoder=str(hifigan_dirs["vocoder"]))
    assert isinstance(chosen.vocoder, HifiGanVocoder)


def test_a_vocoder_of_other_mels_is_refused(tts_dirs, processor, tmp_path):
    other = HifiGanVocoder(HifiGanConfig.from_feature_extractor(processor.feature_extractor, f_max=11025.0, **HIFIGAN_PRESETS["tiny"]))
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(ValueError, match=r"mel settings differ \(f_max: vocoder 11025.0 vs mels 8000.0\)"):
        pipeline("text-to-speech", model=str(tts_dirs["tts"]), vocoder=str(tmp_path / "other"))
    with pytest.raises(SystemExit, match=r"prosody-tts synthesize: .*f_max"):
        main(["synthesize", "Да.", "--model", str(tts_dirs["tts"]), "--vocoder", str(tmp_path / "other"), "--out", str(tmp_path / "x.wav")])


def test_synthesize_with_a_hifigan_vocoder_directory(tts_dirs, hifigan_dirs, tmp_path):
    target = tmp_path / "hifigan.wav"
    code = main(["synthesize", "Привет.", "--model", str(tts_dirs["tts"]), "--vocoder", str(hifigan_dirs["vocoder"]),
                 "--out", str(target), "--speaker", "anna", "--steps", "2"])  # fmt: skip
    assert code == 0
    audio, rate = soundfile.read(target)
    assert rate == 22050 and len(audio) > 0
