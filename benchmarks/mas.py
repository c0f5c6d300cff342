"""Monotonic alignment search: ours (torch, vectorised) vs the ``monotonic-alignment-search`` wheel (Cython).

Same process, same inputs, interleaved repeats (``timing.median_times``); prints ms per call and the
ratio, and checks that both give identical paths. Sizes: Grad-TTS training batches (16 items) and the
FACTS.md reference (2 × 50 × 300). ``python benchmarks/mas.py [--threads 2] [--repeats 7]``.
"""

from __future__ import annotations

import argparse

import torch
from timing import median_times

from prosody_tts.modeling.alignment import maximum_path

CASES = {
    "2 x 50 tokens x 300 frames": (2, 50, 300),
    "16 x 80 tokens x 400 frames": (16, 80, 400),
    "16 x 150 tokens x 800 frames": (16, 150, 800),
}


def batch(size: int, tokens: int, frames: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    log_prior = torch.randn(size, tokens, frames, generator=generator)
    mask = torch.zeros_like(log_prior)
    for b in range(size):  # ragged, as in a real batch
        t = tokens - (b * tokens) // (3 * size)
        f = frames - (b * frames) // (3 * size)
        mask[b, :t, :f] = 1
    return log_prior, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| case | ours (torch) ms | wheel (Cython) ms | ours / wheel | identical |\n|---|---|---|---|---|")
    for name, shape in CASES.items():
        log_prior, mask = batch(*shape)
        ours, wheel = median_times(
            [
                lambda lp=log_prior, m=mask: maximum_path(lp, m, implementation="torch"),
                lambda lp=log_prior, m=mask: maximum_path(lp, m, implementation="cython"),
            ],
            args.repeats,
        )
        same = torch.equal(
            maximum_path(log_prior, mask, implementation="torch"), maximum_path(log_prior, mask, implementation="cython")
        )
        print(f"| {name} | {ours * 1e3:.1f} | {wheel * 1e3:.1f} | {ours / wheel:.1f}x | {same} |")


if __name__ == "__main__":
    main()
