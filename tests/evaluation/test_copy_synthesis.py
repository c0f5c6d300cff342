"""Copy-synthesis scores: the DCT, the MCD formula against a naive sum, and the ranking of vocoders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from prosody_tts.configuration import GriffinLimConfig
from prosody_tts.evaluation.copy_synthesis import dct_matrix, evaluate_copy_synthesis, mel_cepstral_distortion
from prosody_tts.modeling import GriffinLimVocoder
from prosody_tts.modeling.outputs import VocoderOutput


def test_dct_is_orthonormal_and_the_scipy_dct():
    from scipy.fft import dct

    matrix = dct_matrix(80)
    torch.testing.assert_close(matrix @ matrix.T, torch.eye(80), atol=1e-5, rtol=0)
    x = np.random.default_rng(0).standard_normal(80)
    np.testing.assert_allclose(matrix.double().numpy() @ x, dct(x, type=2, norm="ortho"), atol=1e-5)


def test_mcd_against_a_naive_sum():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 80, generator=generator), torch.randn(5, 80, generator=generator)
    from scipy.fft import dct

    ca, cb = dct(a.double().numpy(), type=2, norm="ortho", axis=1), dct(b.double().numpy(), type=2, norm="ortho", axis=1)
    naive = np.mean([10 / math.log(10) * math.sqrt(2 * sum((ca[t, d] - cb[t, d]) ** 2 for d in range(1, 14))) for t in range(5)])
    assert mel_cepstral_distortion(a, b) == pytest.approx(naive, rel=1e-5)
    assert mel_cepstral_distortion(a, a) == 0.0
    assert mel_cepstral_distortion(a, a + 3.0) == pytest.approx(0.0, abs=1e-4)  # a gain is c_0 only
    with pytest.raises(ValueError, match="coefficients"):
        mel_cepstral_distortion(a, b, coefficients=80)


class _Silence(torch.nn.Module):
    """A vocoder that says nothing: the worst copy synthesis."""

    config = GriffinLimConfig()

    @property
    def device(self):
        return torch.device("cpu")

    def forward(self, spectrogram, return_dict=True):
        return VocoderOutput(waveform=torch.zeros(spectrogram.shape[0], spectrogram.shape[1] * 256))


def test_griffin_lim_beats_silence_and_scores_reproduce(processor):
    t = np.arange(22050 // 2) / 22050
    wave = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    mels = processor.feature_extractor(wave, sampling_rate=22050, return_tensors="np")["input_features"][0]
    rows = [{"waveform": wave, "input_features": mels}]
    vocoders = {"griffin_lim": GriffinLimVocoder(GriffinLimConfig(n_iter=16)), "silence": _Silence()}
    scores = evaluate_copy_synthesis(vocoders, rows, processor.feature_extractor, show_progress=False)
    assert scores["griffin_lim"].mel_l1 < 0.5 < scores["silence"].mel_l1
    assert scores["griffin_lim"].mcd_db < scores["silence"].mcd_db
    again = evaluate_copy_synthesis({"griffin_lim": vocoders["griffin_lim"]}, rows, processor.feature_extractor, show_progress=False)
    assert again["griffin_lim"] == scores["griffin_lim"]
