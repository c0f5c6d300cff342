"""Griffin-Lim vocoder: mels come back, batching and padding, the mel-settings check, save/load, errors."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

from prosody_tts.configuration.vocoder import GriffinLimConfig
from prosody_tts.modeling import griffin_lim
from prosody_tts.modeling.griffin_lim import GriffinLimVocoder
from prosody_tts.processing.feature_extraction import MelFeatureExtractor

RATE = 22050


@pytest.fixture(scope="module")
def extractor() -> MelFeatureExtractor:
    return MelFeatureExtractor()


def voiced(seconds: float, f0: float = 180.0, seed: int = 0) -> np.ndarray:
    """A vibrato tone with three harmonics and a little noise (a crude voiced sound)."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * (f0 * t + 20 / (2 * np.pi * 3) * np.sin(2 * np.pi * 3 * t))
    x = 0.3 * np.sin(phase) + 0.2 * np.sin(2 * phase) + 0.1 * np.sin(5 * phase)
    return (x + 0.01 * np.random.default_rng(seed).standard_normal(len(t))).astype(np.float32)


def mel_l1(extractor, waveform: np.ndarray, reference: torch.Tensor) -> float:
    again = extractor(waveform, sampling_rate=RATE, return_tensors="pt")["input_features"][0]
    return float((again - reference).abs().mean())


def test_iterations_bring_the_mels_back(extractor):
    mel = extractor(voiced(1.0), sampling_rate=RATE, return_tensors="pt")["input_features"]
    errors = {}
    for n_iter in (0, 32, 64):
        vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=n_iter))
        waveform = vocoder(mel, generator=torch.Generator().manual_seed(0)).waveform[0].numpy()
        assert waveform.shape == (mel.shape[1] * 256,) and np.isfinite(waveform).all()
        errors[n_iter] = mel_l1(extractor, waveform, mel[0])
    # measured 0.76 (random phase), 0.16 (32), 0.15 (64): the frames line up and the phase converges
    assert errors[0] > 0.5 and errors[32] < 0.25 and errors[64] <= errors[32] + 1e-3


def test_the_magnitude_reprojects_onto_the_mels(extractor):
    mel = extractor(voiced(0.5), sampling_rate=RATE, return_tensors="pt")["input_features"]
    vocoder = GriffinLimVocoder(GriffinLimConfig())
    magnitude = vocoder.magnitude(mel)  # (1, F, T)
    assert bool((magnitude >= 0).all())
    back = torch.log(torch.clamp(vocoder.filters @ magnitude[0], min=1e-5)).T
    crude = GriffinLimVocoder(GriffinLimConfig(nnls_iter=0)).magnitude(mel)
    crude_back = torch.log(torch.clamp(vocoder.filters @ crude[0], min=1e-5)).T
    assert float((back - mel[0]).abs().mean()) < 0.02 < float((crude_back - mel[0]).abs().mean())


def test_a_batch_equals_each_item_alone_and_padding_stays_silent(extractor):
    waves = [voiced(0.6, 150.0), voiced(0.3, 220.0, seed=1)]
    batch = extractor(waves, sampling_rate=RATE, return_tensors="pt")
    lengths = batch["attention_mask"].sum(1)
    vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=8, init_phase="zeros"))
    out = vocoder(batch["input_features"], lengths)
    assert torch.equal(out.waveform_lengths, lengths * 256)
    for b in range(2):
        alone = vocoder(batch["input_features"][b : b + 1, : int(lengths[b])]).waveform[0]
        n = int(out.waveform_lengths[b])
        torch.testing.assert_close(out.waveform[b, :n], alone, atol=1e-5, rtol=1e-4)
        assert bool((out.waveform[b, n:] == 0).all())


def test_same_generator_same_waveform():
    mel = torch.randn(1, 30, 80) - 4
    vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=4))
    first = vocoder(mel, generator=torch.Generator().manual_seed(3)).waveform
    again = vocoder(mel, generator=torch.Generator().manual_seed(3)).waveform
    other = vocoder(mel, generator=torch.Generator().manual_seed(4)).waveform
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_mel_settings_come_from_the_extractor_and_a_mismatch_is_refused(extractor):
    config = GriffinLimConfig.from_feature_extractor(extractor, n_iter=16)
    assert (config.hop_length, config.num_mel_bins, config.f_max, config.n_iter) == (256, 80, 8000.0, 16)
    config.check_compatible(extractor)
    other = MelFeatureExtractor(f_max=11025.0, hop_length=200, n_fft=1000, win_length=1000)
    with pytest.raises(ValueError, match=r"mel settings differ \(n_fft: vocoder 1024 vs mels 1000.*f_max"):
        config.check_compatible(other)


def test_save_load_through_the_auto_classes(tmp_path):
    from transformers import AutoConfig, AutoModel

    import prosody_tts  # noqa: F401

    vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=5, momentum=0.9))
    vocoder.save_pretrained(tmp_path)  # a config and no weights: it has none
    loaded = AutoModel.from_pretrained(tmp_path)
    assert type(loaded) is GriffinLimVocoder and type(AutoConfig.from_pretrained(tmp_path)) is GriffinLimConfig
    mel = torch.randn(1, 12, 80) - 4
    expected = vocoder(mel, generator=torch.Generator().manual_seed(0)).waveform
    assert torch.equal(loaded(mel, generator=torch.Generator().manual_seed(0)).waveform, expected)
    assert isinstance(vocoder(mel, return_dict=False), tuple)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(n_iter=-1), "n_iter"),
        (dict(momentum=1.0), "momentum"),
        (dict(power=0.0), "power"),
        (dict(init_phase="noise"), "init_phase"),
        (dict(win_length=2048), "win_length"),
    ],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        GriffinLimConfig(**overrides)


def test_bad_inputs_name_the_problem():
    vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=1))
    with pytest.raises(ValueError, match=r"\(batch, frames, 80\)"):
        vocoder(torch.zeros(2, 10, 40))
    with pytest.raises(ValueError, match=r"spectrogram_lengths must be in \[1, 10\]"):
        vocoder(torch.zeros(2, 10, 80), torch.tensor([10, 11]))
    with pytest.raises(ValueError, match="n_iter must be >= 0"):
        vocoder(torch.zeros(1, 10, 80), n_iter=-2)


def test_docstring_examples_run():
    import prosody_tts.configuration.vocoder as vocoder_config

    assert doctest.testmod(griffin_lim).failed == 0
    assert doctest.testmod(vocoder_config).failed == 0
