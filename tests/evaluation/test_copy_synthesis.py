"""Copy-synthesis scores: the ranking of vocoders, samples and errors (the MCD itself: test_mcd.py)."""

from __future__ import annotations

import numpy as np
import torch

from prosody_tts.configuration import GriffinLimConfig
from prosody_tts.evaluation.copy_synthesis import evaluate_copy_synthesis
from prosody_tts.modeling import GriffinLimVocoder
from prosody_tts.modeling.outputs import VocoderOutput


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
