"""Benchmark: data-loading throughput of RobustExampleStream + DualStreamCollator.

Run: ``python benchmarks/data.py [--utterances 160] [--batch-size 16] [--workers 0 2] [--threads 1]``

A tiny corpus is generated on the fly, for throughput only (the audio is not speech and the
durations are not an alignment): seeded synthetic audio of 1-4 s written as 16 kHz PCM wavs (so
every utterance is resampled to 22.05 kHz), texts from ``load_sentences("all")`` phonemised by the
default processor, and each utterance's frames spread evenly over its phonemes. The pipeline timed
per pass is the training one: a ``datasets.Dataset`` with undecoded audio → decode (soundfile) →
resample (soxr) → schema + duration check → log-mel → front-end (normalise, stress, G2P) + both
tokenizers → ``DualStreamCollator`` in a ``DataLoader``. Prints a markdown table of utterances/s,
phoneme occurrences/s (phonemes with at least one frame) and audio seconds per wall second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import soundfile as sf
import torch

from prosody_tts.data.collators import DualStreamCollator
from prosody_tts.data.schema import canonical_features, make_example
from prosody_tts.data.sources.sentences import load_sentences
from prosody_tts.data.streaming import RobustExampleStream
from prosody_tts.processing.processing_dual_stream import DualStreamProcessor
from prosody_tts.text.inventory import is_phoneme

FILE_RATE = 16000


def spread_durations(phonemes: list[str], frames: int) -> list[int]:
    """``frames`` spread evenly over the sounds (0 for ``#`` and punctuation)."""
    sounds = [i for i, p in enumerate(phonemes) if is_phoneme(p)]
    out = [0] * len(phonemes)
    for k, i in enumerate(sounds):
        out[i] = frames // len(sounds) + (1 if k < frames % len(sounds) else 0)
    return out


def synthetic_audio(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A gliding tone with amplitude modulation and noise, float32 at ``FILE_RATE``."""
    t = np.arange(int(seconds * FILE_RATE)) / FILE_RATE
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6))
    wave = np.sin(2 * np.pi * np.cumsum(f0) / FILE_RATE) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    return (0.3 * wave + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def build_corpus(folder: Path, n: int, processor: DualStreamProcessor, seed: int = 0):
    """Write ``n`` wavs and return a ``datasets.Dataset`` of canonical examples."""
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    sentences = load_sentences("all")
    fe = processor.feature_extractor
    rows = []
    for i in range(n):
        text = sentences[i % len(sentences)]
        phonemes = processor.phonemize(text).phonemes
        audio = synthetic_audio(rng.uniform(1.0, 4.0), rng)
        path = folder / f"utt{i:05d}.wav"
        sf.write(path, audio, FILE_RATE, subtype="PCM_16")
        frames = fe.frame_count(audio.size, FILE_RATE)
        rows.append(
            make_example(
                f"utt{i:05d}",
                str(path),
                text,
                f"spk{i % 4}",
                phonemes=phonemes,
                phoneme_durations=spread_durations(phonemes, frames),
                source="synthetic",
            )
        )
    # from_list(features=...) would encode the Audio column, which needs torchcodec; a cast does not
    return Dataset.from_list(rows).cast(canonical_features())


def run_pass(dataset, processor, batch_size: int, workers: int) -> dict[str, float]:
    stream = RobustExampleStream(dataset, processor)
    loader = torch.utils.data.DataLoader(
        stream,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=DualStreamCollator.from_processor(processor),
        persistent_workers=False,
    )
    utterances = occurrences = frames = 0
    start = time.perf_counter()
    for batch in loader:
        utterances += batch["input_features"].shape[0]
        occurrences += int((batch["phoneme_durations"] > 0).sum())
        frames += int(batch["feature_attention_mask"].sum())
    elapsed = time.perf_counter() - start
    audio_seconds = float(processor.feature_extractor.frames_to_seconds(frames))
    return {"utterances": utterances, "occurrences": occurrences, "seconds": elapsed, "audio": audio_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads in the main process")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    processor = DualStreamProcessor.from_defaults()
    processor.phonemize("прогрев")  # load the stress model before timing
    with tempfile.TemporaryDirectory() as tmp:
        dataset = build_corpus(Path(tmp), args.utterances, processor)
        run_pass(dataset.select(range(min(16, len(dataset)))), processor, args.batch_size, 0)  # warm-up
        print(f"{args.utterances} utterances (1-4 s, 16 kHz wavs → 22.05 kHz), batch {args.batch_size}, "
              f"torch threads {args.threads}, {os.cpu_count()} CPUs\n")  # fmt: skip
        print("| num_workers | utterances/s | phoneme occurrences/s | audio s / s | wall s |")
        print("|---:|---:|---:|---:|---:|")
        for workers in args.workers:
            r = run_pass(dataset, processor, args.batch_size, workers)
            print(
                f"| {workers} | {r['utterances'] / r['seconds']:.1f} | {r['occurrences'] / r['seconds']:.0f} "
                f"| {r['audio'] / r['seconds']:.1f} | {r['seconds']:.2f} |"
            )


if __name__ == "__main__":
    main()
