"""HiFi-GAN: the vocoder (on ``SpeechT5HifiGan``), its discriminators and the adversarial training model.

Through the shared model tester (tiny configs, round trips, a training step reaching every
parameter), plus: the config's checks and presets (the original V1/V2/V3 sizes), per-length
batching (an item's waveform is the same alone and padded), weight norm on/off without changing
the output, the folded copy that leaves the original intact, and the mel-setting refusals.
"""

from __future__ import annotations

import pytest
import torch
from model_tester import ModelTesterMixin
from transformers import AutoModel, SpeechT5HifiGan

from prosody_tts.configuration import (
    GriffinLimConfig,
    HifiGanConfig,
    HifiGanDiscriminatorConfig,
    HifiGanTrainingConfig,
)
from prosody_tts.modeling import HifiGanVocoder
from prosody_tts.modeling.hifigan_discriminator import HifiGanDiscriminator
from prosody_tts.modeling.hifigan_training import HifiGanTrainingModel
from prosody_tts.processing import MelFeatureExtractor


def _mels(batch: int = 2, frames: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, frames, 80, generator=torch.Generator().manual_seed(seed)) - 4.0


class TestHifiGanVocoder(ModelTesterMixin):
    model_class = HifiGanVocoder

    def get_config(self) -> HifiGanConfig:
        return HifiGanConfig.tiny()

    def get_inputs(self, config, seed=0):
        return {"spectrogram": _mels(seed=seed), "spectrogram_lengths": torch.tensor([12, 9])}

    def loss_of(self, output):
        return output.waveform.square().mean()

    def padded_inputs(self, config):
        mels = _mels(1, 9)
        padded = torch.cat([mels, torch.zeros(1, 3, 80)], dim=1)

        def compare(short, long):
            assert long.waveform.shape[1] == 12 * 256 and int(long.waveform_lengths[0]) == 9 * 256
            torch.testing.assert_close(long.waveform[:, : 9 * 256], short.waveform, rtol=0, atol=0)
            assert bool((long.waveform[:, 9 * 256 :] == 0).all())

        return {"spectrogram": mels}, {"spectrogram": padded, "spectrogram_lengths": torch.tensor([9])}, compare


class TestHifiGanDiscriminator(ModelTesterMixin):
    model_class = HifiGanDiscriminator

    def get_config(self) -> HifiGanDiscriminatorConfig:
        return HifiGanDiscriminatorConfig.tiny()

    def get_inputs(self, config, seed=0):
        return {"waveform": torch.randn(2, 1, 2048, generator=torch.Generator().manual_seed(seed))}

    def loss_of(self, output):
        return sum(score.mean() for score in output.scores)


class TestHifiGanTrainingModel(ModelTesterMixin):
    model_class = HifiGanTrainingModel

    def get_config(self) -> HifiGanTrainingConfig:
        return HifiGanTrainingConfig.tiny()

    def get_inputs(self, config, seed=0):
        generator = torch.Generator().manual_seed(seed)
        return {
            "input_features": torch.randn(2, 8, 80, generator=generator) - 4.0,
            "waveform": 0.1 * torch.randn(2, 8 * 256, generator=generator),
            "mode": "generator",
        }

    def test_model_is_tiny(self):  # generator and discriminators together
        model = self.make_model()
        assert sum(p.numel() for p in model.generator.parameters()) < 1_000_000
        assert sum(p.numel() for p in model.discriminator.parameters()) < 1_000_000

    def test_remote_code_export(self, tmp_path):
        pytest.skip("a training model is not published; its generator is (HifiGanVocoder)")


# ---------------------------------------------------------------------------- config


def test_presets_are_the_original_sizes():
    counts = {name: HifiGanVocoder(HifiGanConfig.preset(name)).num_parameters() for name in ("v1", "v2", "v3")}
    # the original generators after remove_weight_norm (measured on official_hifigan.py)
    assert counts == {"v1": 13_926_017, "v2": 925_985, "v3": 1_462_273}
    assert HifiGanVocoder(HifiGanConfig.preset("v3")).resblocks[0].__class__.__name__ == "HifiGanResidualBlock2"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hop_length": 200}, "samples per frame"),
        ({"resblock": "3"}, "resblock must be one of"),
        ({"upsample_kernel_sizes": [16, 16, 4]}, "same length"),
        ({"resblock_kernel_sizes": [3, 7]}, "same length"),
        ({"upsample_kernel_sizes": [15, 16, 4, 4]}, "must be even"),
    ],
)
def test_config_refuses_inconsistent_sizes(fields, message):
    with pytest.raises(ValueError, match=message):
        HifiGanConfig(**fields)


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown HiFi-GAN preset 'v4'"):
        HifiGanConfig.preset("v4")


def test_mel_settings_must_match_the_feature_extractor():
    extractor = MelFeatureExtractor()
    HifiGanConfig().check_compatible(extractor)  # the defaults are this project's mels
    HifiGanConfig.from_feature_extractor(extractor).check_compatible(extractor)
    with pytest.raises(ValueError, match=r"f_max: vocoder None vs mels 8000.0"):
        HifiGanConfig(f_max=None).check_compatible(extractor)
    with pytest.raises(ValueError, match="log_floor"):
        HifiGanConfig(log_floor=1e-9).check_compatible(extractor)


def test_discriminator_config_refuses_bad_groups():
    with pytest.raises(ValueError, match="not divisible by groups"):
        HifiGanDiscriminatorConfig(scale_channels=[128, 100, 256, 512, 1024, 1024, 1024])


def test_training_config_refuses_a_loss_band_above_nyquist():
    with pytest.raises(ValueError, match="loss_f_max"):
        HifiGanTrainingConfig(loss_f_max=20000.0)


# ---------------------------------------------------------------------------- vocoder


def test_generator_is_speecht5_hifigan_numerically():
    """With resblock "1" ours is transformers' generator: same weights, same waveform."""
    torch.manual_seed(0)
    ours = HifiGanVocoder(HifiGanConfig.tiny()).eval()
    theirs = SpeechT5HifiGan(ours.config).eval()
    theirs.load_state_dict(ours.state_dict())
    mels = _mels()
    with torch.no_grad():
        torch.testing.assert_close(ours(mels).waveform, theirs(mels), rtol=0, atol=0)


def test_weight_norm_on_and_off_keeps_the_output():
    torch.manual_seed(0)
    model = HifiGanVocoder(HifiGanConfig.preset("tiny", resblock="2", resblock_dilation_sizes=[[1, 2], [2, 6]])).eval()
    mels = _mels()
    with torch.no_grad():
        before = model(mels).waveform
        model.apply_weight_norm()
        assert model.has_weight_norm
        during = model(mels).waveform
        folded = model.folded_copy().eval()
        assert not folded.has_weight_norm and model.has_weight_norm  # the original keeps its norm
        after = folded(mels).waveform
        still = model(mels).waveform
        model.remove_weight_norm()
        assert not model.has_weight_norm
        removed = model(mels).waveform
    for waveform in (during, after, still, removed):
        torch.testing.assert_close(waveform, before, rtol=1e-5, atol=1e-6)


def test_bad_inputs_are_named():
    model = HifiGanVocoder(HifiGanConfig.tiny()).eval()
    with pytest.raises(ValueError, match=r"\(batch, frames, 80\)"):
        model(torch.zeros(2, 12, 40))
    with pytest.raises(ValueError, match="spectrogram_lengths"):
        model(torch.zeros(2, 12, 80), torch.tensor([13, 4]))


def test_auto_model_loads_the_vocoder(tmp_path):
    model = HifiGanVocoder(HifiGanConfig.tiny())
    model.save_pretrained(tmp_path)
    assert type(AutoModel.from_pretrained(tmp_path)) is HifiGanVocoder


# ---------------------------------------------------------------------------- training model


def test_discriminator_mode_leaves_the_generator_without_gradients():
    torch.manual_seed(0)
    model = HifiGanTrainingModel(HifiGanTrainingConfig.tiny()).train()
    inputs = TestHifiGanTrainingModel().get_inputs(model.config)
    out = model(**{**inputs, "mode": "discriminator"})
    out.loss.backward()
    assert all(p.grad is None for p in model.generator.parameters())
    assert all(p.grad is not None and bool(p.grad.ne(0).any()) for p in model.discriminator.parameters())


def test_generator_loss_is_the_weighted_sum_of_its_parts():
    torch.manual_seed(0)
    model = HifiGanTrainingModel(HifiGanTrainingConfig.tiny(mel_loss_weight=3.0, feature_matching_weight=0.5)).eval()
    out = model(**TestHifiGanTrainingModel().get_inputs(model.config))
    expected = out.adversarial_loss + 0.5 * out.feature_matching_loss + 3.0 * out.mel_loss
    torch.testing.assert_close(out.loss, expected)


def test_training_model_checks_its_inputs():
    model = HifiGanTrainingModel(HifiGanTrainingConfig.tiny())
    with pytest.raises(ValueError, match="frames × hop"):
        model(torch.zeros(2, 8, 80), torch.zeros(2, 1000))
    with pytest.raises(ValueError, match="mode must be one of"):
        model(torch.zeros(2, 8, 80), torch.zeros(2, 2048), mode="both")


def test_the_saved_generator_is_folded_and_speaks_like_the_trained_one(tmp_path):
    torch.manual_seed(0)
    model = HifiGanTrainingModel(HifiGanTrainingConfig.tiny()).eval()
    assert model.generator.has_weight_norm
    model.save_generator(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(loaded) is HifiGanVocoder and not loaded.has_weight_norm
    mels = _mels()
    with torch.no_grad():
        torch.testing.assert_close(loaded(mels).waveform, model.generator(mels).waveform, rtol=1e-5, atol=1e-6)
    again = HifiGanTrainingModel.from_generator(tmp_path, discriminator_config=HifiGanDiscriminatorConfig.tiny()).eval()
    with torch.no_grad():
        torch.testing.assert_close(again.generator(mels).waveform, loaded(mels).waveform, rtol=1e-5, atol=1e-6)
    assert not loaded.has_weight_norm  # from_generator trained a copy


def test_griffin_lim_and_hifigan_share_the_mel_settings():
    griffin, hifigan = GriffinLimConfig(), HifiGanConfig()
    assert griffin.mel_settings() == hifigan.mel_settings()
