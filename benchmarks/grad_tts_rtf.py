"""Grad-TTS synthesis speed on CPU threads: real-time factor of the decoder (spectrogram) and of the
Griffin-Lim vocoder (waveform), separately, at the faithful and the tiny size.

``python benchmarks/grad_tts_rtf.py [--threads 2] [--seconds 4] [--steps 10]``. The decoder runs the
probability-flow ODE for ``--steps`` steps on a ``--seconds`` long prior mean (fixed length, so an
untrained duration predictor does not decide the length); median of interleaved repeats.
"""

from __future__ import annotations

import argparse

import torch
from timing import median_times

from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.configuration.vocoder import GriffinLimConfig
from prosody_tts.modeling.grad_tts import GradTTSModel
from prosody_tts.modeling.griffin_lim import GriffinLimVocoder
from prosody_tts.modeling.unet import fix_len_compatibility


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = {}
    for name, config in (("faithful (14.8 M)", GradTTSConfig()), ("tiny", GradTTSConfig.tiny())):
        model = GradTTSModel(config).eval()
        frames = fix_len_compatibility(round(args.seconds * config.sampling_rate / config.hop_length), config.decoder_levels)
        mu = torch.randn(1, config.n_mels, frames) - 4
        mask = torch.ones(1, 1, frames)

        def decode(m=model, mu=mu, mask=mask) -> None:
            m.decoder.reverse(mu + torch.randn_like(mu) / 1.5, mask, mu, args.steps)

        runs[name] = (decode, frames * config.hop_length / config.sampling_rate)
    vocoder = GriffinLimVocoder(GriffinLimConfig(n_iter=32))
    frames = round(args.seconds * 22050 / 256)
    mel = torch.randn(1, frames, 80) - 4
    runs["Griffin-Lim 32 iterations"] = (lambda: vocoder(mel), frames * 256 / 22050)
    times = median_times([fn for fn, _ in runs.values()], args.repeats)
    print(f"{args.threads} threads, {args.steps} steps\n\n| part | seconds of audio | s | RTF |\n|---|---|---|---|")
    for (name, (_, audio)), seconds in zip(runs.items(), times, strict=True):
        print(f"| {name} | {audio:.2f} | {seconds:.3f} | {seconds / audio:.3f} |")


if __name__ == "__main__":
    main()
