"""Griffin-Lim vocoder: real-time factor on CPU threads, next to librosa's Griffin-Lim on the same magnitudes.

``python benchmarks/griffin_lim.py [--threads 2] [--seconds 5] [--repeats 5]``. Same process,
interleaved repeats (``timing.median_times``). Ours = the whole vocoder (log-mel → NNLS magnitude →
fast Griffin-Lim → waveform); librosa = ``librosa.griffinlim`` (same n_fft/hop/window, momentum 0.99)
on our NNLS magnitudes, so the phase-reconstruction part is compared like for like.
"""

from __future__ import annotations

import argparse

import librosa
import numpy as np
import torch
from timing import median_times

from prosody_tts.configuration.vocoder import GriffinLimConfig
from prosody_tts.modeling.griffin_lim import GriffinLimVocoder
from prosody_tts.processing.feature_extraction import MelFeatureExtractor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    extractor = MelFeatureExtractor()
    rate = extractor.sampling_rate
    t = np.arange(int(args.seconds * rate)) / rate
    audio = (0.3 * np.sin(2 * np.pi * 160 * t * (1 + 0.05 * np.sin(2 * np.pi * 2 * t)))).astype(np.float32)
    audio += 0.01 * np.random.default_rng(0).standard_normal(len(t)).astype(np.float32)
    mel = extractor(audio, sampling_rate=rate, return_tensors="pt")["input_features"]
    seconds = mel.shape[1] * extractor.hop_length / rate
    print(f"{seconds:.2f} s of audio, {args.threads} threads\n")
    print("| n_iter | ours s | ours RTF | librosa GL s | librosa RTF | ours / librosa |\n|---|---|---|---|---|---|")
    for n_iter in (32, 64):
        vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=n_iter))
        magnitude = vocoder.magnitude(mel)[0].numpy()

        def ours(v=vocoder) -> None:
            v(mel, generator=torch.Generator().manual_seed(0))

        def peer(m=magnitude, n=n_iter) -> None:
            librosa.griffinlim(m, n_iter=n, hop_length=256, win_length=1024, n_fft=1024, momentum=0.99,
                               init="random", random_state=0)  # fmt: skip

        ours_s, peer_s = median_times([ours, peer], args.repeats)
        print(f"| {n_iter} | {ours_s:.3f} | {ours_s / seconds:.3f} | {peer_s:.3f} | {peer_s / seconds:.3f} | {ours_s / peer_s:.2f} |")


if __name__ == "__main__":
    main()
