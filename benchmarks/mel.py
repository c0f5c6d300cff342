"""Benchmark: MelFeatureExtractor vs librosa.feature.melspectrogram (+ log) on the same audio.

Run: ``python benchmarks/mel.py [--utterances 16] [--repeats 7] [--threads 2]``

Both sides get the same float32 22.05 kHz waveforms (seeded synthetic speech-like signals,
2-8 s each) and the same STFT settings: reflect padding of (n_fft - hop) / 2, center=False,
power 1, periodic Hann window, Slaney mel filterbank, log(clamp(x, 1e-5)). Our extractor runs
the whole batch in one call (padded, batched torch STFT); librosa is called per utterance (it
has no ragged batch). Prints a markdown table of median times, the speed ratio and the max
absolute log-mel difference over all real (unpadded) frames.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# numpy's OpenBLAS threads busy-wait after each call (librosa's filterbank dot); interleaved with
# torch on 2 cores they steal the CPU from the next torch call and double its time. librosa's own
# time is the same with one BLAS thread (its dot is a small share), so pin it before numpy loads.
# Override with OPENBLAS_NUM_THREADS=2 to see the interference.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import librosa
import numpy as np
import torch
from timing import median_times

from prosody_tts.processing.feature_extraction import MelFeatureExtractor


def speechlike(seconds: float, rng: np.random.Generator, rate: int = 22050) -> np.ndarray:
    """Harmonic source with a gliding f0, syllable-rate amplitude modulation and breath noise."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = rng.uniform(90, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) * rng.uniform(0.2, 1.0) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(3, 6) * t), 0, None) ** 0.5
    x = x * envelope + 0.02 * rng.standard_normal(n)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def librosa_logmel(x: np.ndarray, fe: MelFeatureExtractor, mel_basis: np.ndarray) -> np.ndarray:
    """librosa STFT with a precomputed filterbank (librosa's fastest path): (frames, n_mels)."""
    pad = (fe.n_fft - fe.hop_length) // 2
    y = np.pad(x, pad, mode="reflect")
    spec = np.abs(
        librosa.stft(y, n_fft=fe.n_fft, hop_length=fe.hop_length, win_length=fe.win_length,
                     window="hann", center=False)
    )  # fmt: skip  # (n_freqs, frames)
    mel = mel_basis @ spec  # (n_mels, frames)
    return np.log(np.maximum(mel, 1e-5)).T


def librosa_logmel_direct(x: np.ndarray, fe: MelFeatureExtractor) -> np.ndarray:
    """The plain ``librosa.feature.melspectrogram`` call (filterbank rebuilt each call, as users do)."""
    pad = (fe.n_fft - fe.hop_length) // 2
    y = np.pad(x, pad, mode="reflect")
    mel = librosa.feature.melspectrogram(
        y=y, sr=fe.sampling_rate, n_fft=fe.n_fft, hop_length=fe.hop_length, win_length=fe.win_length,
        window="hann", center=False, power=1.0, n_mels=fe.feature_size, fmin=fe.f_min, fmax=fe.f_max,
    )  # fmt: skip
    return np.log(np.maximum(mel, 1e-5)).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    fe = MelFeatureExtractor()
    waves = [speechlike(rng.uniform(2.0, 8.0), rng) for _ in range(args.utterances)]
    total_s = sum(len(w) for w in waves) / fe.sampling_rate

    ours_out = fe(waves, sampling_rate=fe.sampling_rate, return_tensors="np")
    feats, mask = ours_out["input_features"], ours_out["attention_mask"]
    max_diff = 0.0
    for i, w in enumerate(waves):
        ref = librosa_logmel_direct(w, fe)
        n = int(mask[i].sum())
        assert ref.shape == (n, fe.feature_size), (ref.shape, n)
        max_diff = max(max_diff, float(np.abs(feats[i, :n] - ref).max()))

    mel_basis = fe.mel_filters
    t_ours, t_direct, t_cached = median_times(
        [
            lambda: fe(waves, sampling_rate=fe.sampling_rate, return_tensors="pt"),
            lambda: [librosa_logmel_direct(w, fe) for w in waves],
            lambda: [librosa_logmel(w, fe, mel_basis) for w in waves],
        ],
        args.repeats,
    )

    print(
        f"\n{args.utterances} utterances, {total_s:.1f} s of audio at {fe.sampling_rate} Hz, "
        f"torch threads={torch.get_num_threads()}, median of {args.repeats} interleaved runs, "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
        f"(torch {torch.__version__}, librosa {librosa.__version__})\n"
    )
    print("| method | median time (ms) | x real time | speed-up of ours |")
    print("|---|---:|---:|---:|")
    rows = [
        ("ours: MelFeatureExtractor (batched torch)", t_ours),
        ("librosa.feature.melspectrogram + log, per utterance", t_direct),
        ("librosa.stft + cached filterbank + log, per utterance", t_cached),
    ]
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.1f} | {total_s / t:.0f} | {t / t_ours:.2f}x |")
    print(f"\nmax |log-mel ours - librosa| over all real frames: {max_diff:.2e}")


if __name__ == "__main__":
    main()
