"""Our HiFi-GAN against the original code: converted checkpoints give the original numbers.

The reference is ``official_hifigan.py`` (beside this file, a re-typing of ``jik876/hifi-gan``'s
``models.py`` and ``meldataset.py``) with the upstream ``config_v1/v2/v3.json``. Each test seeds the
original modules, writes their checkpoint in the original layout (``{"generator": state_dict}``
with weight norm; ``{"mpd", "msd", ...}``), converts it with our code and compares outputs:

* generator waveforms (V1, V2, V3; through ``prosody-tts convert hifigan``), to float tolerance;
* discriminator scores and feature maps, and the three GAN losses, on the same audio;
* our differentiable loss mels against the original ``mel_spectrogram`` (librosa filterbank).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from official_hifigan import (
    AttrDict,
    Generator,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
    discriminator_loss,
    feature_loss,
    generator_loss,
)

from prosody_tts.cli import main
from prosody_tts.configuration import HifiGanConfig
from prosody_tts.constants import VOCODER_TRAINING_SUBFOLDER
from prosody_tts.modeling.convert_hifigan import (
    convert_hifigan_checkpoint,
    convert_hifigan_discriminators,
)
from prosody_tts.modeling.gan_losses import (
    discriminator_loss as our_discriminator_loss,
)
from prosody_tts.modeling.gan_losses import (
    feature_matching_loss,
    generator_adversarial_loss,
)
from prosody_tts.modeling.hifigan import HifiGanVocoder
from prosody_tts.modeling.log_mel import LogMelSpectrogram

DATA = Path(__file__).parent / "data"


def _config(version: str) -> dict:
    return json.loads((DATA / f"hifigan_config_{version}.json").read_text(encoding="utf-8"))


def _mels(frames: int = 10, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 80, frames, generator=torch.Generator().manual_seed(seed)) - 4.0  # original: (B, M, T)


def _live(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Trained-looking weight-norm gains and biases (the original init leaves g = ‖v‖, biases ~0)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith("weight_g"):
                param.mul_(1 + 0.3 * torch.rand(param.shape, generator=generator))
            elif name.endswith("bias"):
                param.add_(0.01 * torch.randn(param.shape, generator=generator))
    return module


@pytest.fixture(scope="module", params=["v1", "v2", "v3"])
def original(request, tmp_path_factory):
    torch.manual_seed(0)
    raw = _config(request.param)
    reference = _live(Generator(AttrDict(raw)), seed=1).eval()
    folder = tmp_path_factory.mktemp(request.param)
    torch.save({"generator": reference.state_dict()}, folder / "g_00000000")
    (folder / "config.json").write_text(json.dumps(raw), encoding="utf-8")
    return request.param, reference, folder


def test_converted_generator_gives_the_original_waveform(original):
    version, reference, folder = original
    ours = convert_hifigan_checkpoint(folder / "g_00000000", folder / "config.json")
    mel = _mels()
    with torch.no_grad():
        expected = reference(mel)[:, 0]  # (B, samples), weight norm still on
        got = ours(mel.transpose(1, 2)).waveform
    assert got.shape == expected.shape == (1, 10 * 256)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert ours.config.resblock == ("2" if version == "v3" else "1")


def test_the_cli_converts_and_saves_a_loadable_vocoder(original, tmp_path, capsys):
    _, reference, folder = original
    assert main(["convert", "hifigan", str(folder / "g_00000000"), "--config", str(folder / "config.json"), "--out", str(tmp_path)]) == 0
    assert "HifiGanVocoder" in capsys.readouterr().out
    loaded = HifiGanVocoder.from_pretrained(tmp_path).eval()
    mel = _mels(seed=3)
    with torch.no_grad():
        torch.testing.assert_close(loaded(mel.transpose(1, 2)).waveform, reference(mel)[:, 0], rtol=1e-4, atol=1e-5)


def test_the_original_config_gives_our_mel_settings():
    config = HifiGanConfig.from_original(_config("v1"))
    assert config.mel_settings() == HifiGanConfig().mel_settings()
    assert (config.hop_length, config.f_max, config.upsample_initial_channel) == (256, 8000.0, 512)


def test_a_foreign_state_dict_is_refused_with_its_keys(tmp_path):
    torch.save({"generator": {"conv_pre.weight": torch.zeros(1)}}, tmp_path / "g")
    with pytest.raises(ValueError, match="does not fit HifiGanVocoder: missing"):
        convert_hifigan_checkpoint(tmp_path / "g", _config("v1"))
    with pytest.raises(ValueError, match="missing"):
        HifiGanConfig.from_original({"resblock": "1"})


# ---------------------------------------------------------------------------- discriminators, losses


@pytest.fixture(scope="module")
def discriminators(tmp_path_factory):
    torch.manual_seed(0)
    mpd, msd = _live(MultiPeriodDiscriminator(), 2).eval(), _live(MultiScaleDiscriminator(), 3).eval()
    path = tmp_path_factory.mktemp("do") / "do_00000000"
    torch.save({"mpd": mpd.state_dict(), "msd": msd.state_dict(), "steps": 0, "epoch": 0}, path)
    return mpd, msd, convert_hifigan_discriminators(path).eval()


def test_converted_discriminators_give_the_original_scores_and_losses(discriminators):
    mpd, msd, ours = discriminators
    generator = torch.Generator().manual_seed(5)
    real, fake = (0.1 * torch.randn(2, 1, 4096, generator=generator) for _ in range(2))
    with torch.no_grad():
        p_real, p_fake, pf_real, pf_fake = mpd(real, fake)
        s_real, s_fake, sf_real, sf_fake = msd(real, fake)
        mine_real, mine_fake = ours(real), ours(fake)
    expected_real, expected_fake = [*p_real, *s_real], [*p_fake, *s_fake]
    assert len(mine_real.scores) == len(expected_real) == 8
    for got, want in zip([*mine_real.scores, *mine_fake.scores], [*expected_real, *expected_fake], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    want_d = discriminator_loss(p_real, p_fake)[0] + discriminator_loss(s_real, s_fake)[0]
    torch.testing.assert_close(our_discriminator_loss(mine_real.scores, mine_fake.scores), want_d, rtol=1e-4, atol=1e-5)
    want_adv = generator_loss(p_fake)[0] + generator_loss(s_fake)[0]
    torch.testing.assert_close(generator_adversarial_loss(mine_fake.scores), want_adv, rtol=1e-4, atol=1e-5)
    # the original's feature_loss includes the × 2 that our training model applies as feature_matching_weight
    want_fm = feature_loss(pf_real, pf_fake) + feature_loss(sf_real, sf_fake)
    got_fm = 2 * feature_matching_loss(mine_real.feature_maps, mine_fake.feature_maps)
    torch.testing.assert_close(got_fm, want_fm, rtol=1e-4, atol=1e-5)


def test_the_cli_saves_generator_and_discriminators_for_fine_tuning(discriminators, tmp_path):
    torch.manual_seed(0)
    raw = _config("v2")  # the smallest generator: the 70 M discriminators dominate the time
    reference = _live(Generator(AttrDict(raw)), seed=1).eval()
    folder = tmp_path
    torch.save({"generator": reference.state_dict()}, folder / "g_00000000")
    (folder / "config.json").write_text(json.dumps(raw), encoding="utf-8")
    mpd, msd, _ = discriminators
    torch.save({"mpd": mpd.state_dict(), "msd": msd.state_dict()}, tmp_path / "do_0")
    out = tmp_path / "out"
    args = ["convert", "hifigan", str(folder / "g_00000000"), "--config", str(folder / "config.json")]
    assert main([*args, "--out", str(out), "--discriminators", str(tmp_path / "do_0")]) == 0
    from prosody_tts.modeling.hifigan_training import HifiGanTrainingModel

    training = HifiGanTrainingModel.from_pretrained(out / VOCODER_TRAINING_SUBFOLDER).eval()
    mel = _mels(seed=4)
    with torch.no_grad():
        torch.testing.assert_close(training.generator(mel.transpose(1, 2)).waveform, reference(mel)[:, 0], rtol=1e-4, atol=1e-5)
        audio = 0.1 * torch.randn(1, 1, 2048, generator=torch.Generator().manual_seed(6))
        torch.testing.assert_close(training.discriminator(audio).scores[0], mpd(audio, audio)[0][0], rtol=1e-4, atol=1e-5)


def test_loss_mels_are_the_original_mel_spectrogram():
    from official_hifigan import mel_spectrogram

    raw = _config("v1")
    audio = 0.3 * torch.randn(2, 8192, generator=torch.Generator().manual_seed(7))
    for f_max in (raw["fmax"], raw["fmax_for_loss"]):  # the generator's input mels, the loss mels
        expected = mel_spectrogram(audio, raw["n_fft"], raw["num_mels"], raw["sampling_rate"], raw["hop_size"],
                                   raw["win_size"], raw["fmin"], f_max)  # fmt: skip
        ours = LogMelSpectrogram.from_config(HifiGanConfig.from_original(raw), f_max=f_max, keep_f_max=False)
        torch.testing.assert_close(ours(audio).transpose(1, 2), expected, rtol=1e-4, atol=1e-4)
