"""Vocoder speed on CPU threads: real-time factor of HiFi-GAN (V1, V2, V3, tiny) and of Griffin-Lim
(32 and 64 iterations) on the same log-mels, in one process, median of interleaved repeats.

``python benchmarks/vocoder_rtf.py [--threads 2] [--seconds 4] [--repeats 3]``. The weights are
random: the speed of a generator does not depend on them. The mels are real (the feature
extractor's, of a voiced synthetic signal), so Griffin-Lim's work is that of speech-like input.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import median_times

from prosody_tts.configuration.hifigan import HifiGanConfig
from prosody_tts.configuration.vocoder import GriffinLimConfig
from prosody_tts.modeling.griffin_lim import GriffinLimVocoder
from prosody_tts.modeling.hifigan import HifiGanVocoder
from prosody_tts.processing.feature_extraction import MelFeatureExtractor


def _mels(seconds: float) -> torch.Tensor:
    """(1, T, 80) log-mels of a voiced signal (a gliding harmonic tone with noise)."""
    t = np.arange(int(seconds * 22050)) / 22050
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 22050
    wave = sum(np.sin(k * phase) / k for k in range(1, 20)) * 0.1 + 0.003 * np.random.default_rng(0).standard_normal(t.size)
    features = MelFeatureExtractor()(wave.astype(np.float32), sampling_rate=22050, return_tensors="pt")["input_features"]
    return features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mel = _mels(args.seconds)
    audio = mel.shape[1] * 256 / 22050
    runs = {}
    for name in ("v1", "v2", "v3", "tiny"):
        generator = HifiGanVocoder(HifiGanConfig.preset(name)).eval()
        runs[f"HiFi-GAN {name.upper() if name != 'tiny' else name} ({generator.num_parameters() / 1e6:.2f} M)"] = (
            lambda g=generator: torch.no_grad()(g)(mel)
        )
    for n_iter in (32, 64):
        vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=n_iter))
        runs[f"Griffin-Lim {n_iter} iterations"] = lambda v=vocoder: v(mel, generator=torch.Generator().manual_seed(0))
    times = median_times(list(runs.values()), args.repeats)
    print(f"{args.threads} threads, {audio:.2f} s of audio ({mel.shape[1]} frames)\n")
    print("| vocoder | s | RTF |\n|---|---|---|")
    for name, seconds in zip(runs, times, strict=True):
        print(f"| {name} | {seconds:.3f} | {seconds / audio:.3f} |")


if __name__ == "__main__":
    main()
