"""The HiFi-GAN reference itself: ``official_hifigan.py`` builds what the released checkpoints hold.

``official_hifigan.py`` (beside this file) re-types the original ``jik876/hifi-gan`` ``models.py`` and
``meldataset.py``; the three configurations are the upstream ``config_v1.json`` … ``config_v3.json``
(``tests/modeling/data/hifigan_config_v1.json`` …). These checks pin the reference, not our code:

* the generator's ``state_dict()`` key layout per configuration (``conv_pre``, ``ups.i``,
  ``resblocks.k.convs1/convs2`` for ResBlock1, ``resblocks.k.convs`` for ResBlock2, ``conv_post``; every
  conv weight-normed: ``bias``, ``weight_g``, ``weight_v`` in that order);
* the output length ``frames × prod(upsample_rates)`` and the parameter counts (the paper's V1 13.92 M,
  V2 0.92 M, V3 1.46 M are the inference counts, weight norm removed, cut, not rounded, to 2 decimals);
* ``remove_weight_norm`` leaves the output unchanged;
* the discriminators: 5 periods (2, 3, 5, 7, 11), 3 scales (the first spectral-normed).

``mel_spectrogram`` is not run here: importing librosa alone takes over a second.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from official_hifigan import (
    AttrDict,
    Generator,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
)

DATA = Path(__file__).parent / "data"
VERSIONS = ("v1", "v2", "v3")
#: Measured here: (with weight norm, after ``remove_weight_norm``) parameter counts.
PARAMETERS = {"v1": (13_936_130, 13_926_017), "v2": (928_514, 925_985), "v3": (1_464_322, 1_462_273)}
#: The paper (Kong et al. 2020, table 1) and the project's README figures, millions.
PAPER_MILLIONS = {"v1": 13.92, "v2": 0.92, "v3": 1.46}


def _config(version: str) -> AttrDict:
    return AttrDict(json.loads((DATA / f"hifigan_config_{version}.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def generators() -> dict[str, Generator]:
    torch.manual_seed(0)
    return {version: Generator(_config(version)).eval() for version in VERSIONS}


def _expected_keys(h: AttrDict) -> list[str]:
    """The key layout written out from the configuration alone (upstream registration order)."""
    wn = ("bias", "weight_g", "weight_v")
    keys = [f"conv_pre.{p}" for p in wn]
    keys += [f"ups.{i}.{p}" for i in range(len(h.upsample_rates)) for p in wn]
    n_blocks = len(h.upsample_rates) * len(h.resblock_kernel_sizes)
    for k in range(n_blocks):
        if h.resblock == "1":
            keys += [f"resblocks.{k}.{c}.{j}.{p}" for c in ("convs1", "convs2") for j in range(3) for p in wn]
        else:
            keys += [f"resblocks.{k}.convs.{j}.{p}" for j in range(2) for p in wn]
    return keys + [f"conv_post.{p}" for p in wn]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_generator_has_the_upstream_key_layout(generators, version):
    keys = list(generators[version].state_dict())
    assert keys == _expected_keys(_config(version))
    assert keys[:6] == [
        "conv_pre.bias", "conv_pre.weight_g", "conv_pre.weight_v", "ups.0.bias", "ups.0.weight_g", "ups.0.weight_v",
    ]  # fmt: skip
    assert keys[-3:] == ["conv_post.bias", "conv_post.weight_g", "conv_post.weight_v"]
    if version == "v3":  # resblock "2": one conv list of two dilations
        assert "resblocks.0.convs.0.bias" in keys and not any(".convs1." in k for k in keys)
        assert len(keys) == 69
    else:
        assert {"resblocks.0.convs1.0.bias", "resblocks.0.convs2.2.weight_v"} <= set(keys)
        assert len(keys) == 234


@pytest.mark.parametrize("version", VERSIONS)
def test_the_generator_upsamples_by_the_product_of_its_rates(generators, version):
    mel = torch.randn(1, 80, 10)
    with torch.no_grad():
        audio = generators[version](mel)
    assert audio.shape == (1, 1, 10 * math.prod(_config(version).upsample_rates)) == (1, 1, 2560)
    assert audio.abs().max() < 1  # tanh


@pytest.mark.parametrize("version", VERSIONS)
def test_removing_weight_norm_keeps_the_output_and_leaves_the_paper_count(generators, version):
    torch.manual_seed(1)
    generator = Generator(_config(version)).eval()
    trained = sum(p.numel() for p in generator.parameters())
    mel = torch.randn(1, 80, 4)
    with torch.no_grad():
        before = generator(mel)
        generator.remove_weight_norm()
        after = generator(mel)
    assert not any(k.endswith(("weight_g", "weight_v")) for k in generator.state_dict())
    torch.testing.assert_close(after, before, atol=1e-6, rtol=1e-5)
    inference = sum(p.numel() for p in generator.parameters())
    assert (trained, inference) == PARAMETERS[version]
    assert trained == sum(p.numel() for p in generators[version].parameters())
    # the paper's figure is the inference count cut to 2 decimals (rounding gives 13.93 / 0.93 / 1.46)
    assert math.floor(inference / 1e4) / 100 == PAPER_MILLIONS[version]


def test_the_discriminators_give_five_periods_and_three_scales():
    torch.manual_seed(0)
    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    assert [d.period for d in mpd.discriminators] == [2, 3, 5, 7, 11]
    keys = msd.state_dict()
    assert "discriminators.0.convs.0.weight_orig" in keys and "discriminators.0.convs.0.weight_u" in keys
    assert "discriminators.1.convs.0.weight_g" in keys and "discriminators.2.conv_post.weight_v" in keys
    y, y_hat = torch.rand(1, 1, 211) - 0.5, torch.rand(1, 1, 211) - 0.5  # 211: every period pads
    with torch.no_grad():
        p_real, p_fake, p_fmap_real, p_fmap_fake = mpd(y, y_hat)
        s_real, s_fake, s_fmap_real, s_fmap_fake = msd(y, y_hat)
    assert len(p_real) == len(p_fake) == len(p_fmap_real) == len(p_fmap_fake) == 5
    assert len(s_real) == len(s_fake) == len(s_fmap_real) == len(s_fmap_fake) == 3
    assert [len(f) for f in p_fmap_real] == [6] * 5  # 5 convs + conv_post
    assert [len(f) for f in s_fmap_real] == [8] * 3  # 7 convs + conv_post
    assert [f[0].shape[-1] for f in s_fmap_real] == [211, 106, 54]  # AvgPool1d(4, 2, padding=2)
