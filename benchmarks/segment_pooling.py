"""Benchmark: vectorised segment pooling vs a per-segment Python loop, same ECAPA-TDNN weights.

Run: ``python benchmarks/segment_pooling.py [--utterances 16] [--frames 300] [--segments 40]
[--preset small] [--repeats 7] [--threads 2]``

A batch of log-mel-like utterances (lengths drawn in ``[0.8 * frames, frames]``, right-padded to
``frames``) is cut into ``--segments`` consecutive phoneme-like spans per utterance (random
durations covering all real frames). Frame features are computed once; then both sides pool
every span with its ``segment_context_frames`` margin (clipped to the utterance) through the same
attentive statistics pooling, batch norm and final conv of an eval-mode model:

* ours: ``EcapaTdnnModel.pool_segments`` — all spans in one vectorised pass;
* naive: a Python loop calling ``EcapaTdnnModel.pool_frames`` on each span's slice of frames.

Times are medians of interleaved runs, for inference (``no_grad``) and for forward + backward
(gradient of the sum of the embeddings w.r.t. the frame features and weights). Prints a markdown
table, the speed ratio and the max absolute difference of the embeddings.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import torch
from timing import median_times

from prosody_tts.configuration.ecapa_tdnn import EcapaTdnnConfig
from prosody_tts.modeling.ecapa_tdnn import EcapaTdnnModel


def phoneme_spans(lengths: list[int], per_utterance: int, rng: np.random.Generator) -> torch.Tensor:
    """Consecutive spans ``(N, 3)`` covering each utterance's real frames, ``per_utterance`` each."""
    rows = []
    for b, n in enumerate(lengths):
        cuts = np.sort(rng.choice(np.arange(1, n), size=per_utterance - 1, replace=False))
        bounds = [0, *cuts.tolist(), n]
        rows += [(b, start, end) for start, end in itertools.pairwise(bounds)]
    return torch.tensor(rows)


def naive_pool(model: EcapaTdnnModel, frame_features: torch.Tensor, lengths: list[int], spans: torch.Tensor) -> torch.Tensor:
    """One ``pool_frames`` call per span on its clipped slice of frames."""
    context = model.config.segment_context_frames
    out = []
    for b, start, end in spans.tolist():
        low, high = max(start - context, 0), min(end + context, lengths[b])
        out.append(model.pool_frames(frame_features[b : b + 1, low:high]))
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--segments", type=int, default=40, help="spans per utterance")
    parser.add_argument("--preset", choices=["tiny", "small", "default"], default="small")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    config = {"tiny": EcapaTdnnConfig.tiny, "small": EcapaTdnnConfig.small, "default": EcapaTdnnConfig}[args.preset]()
    model = EcapaTdnnModel(config).eval()

    lengths = [int(n) for n in rng.integers(int(0.8 * args.frames), args.frames + 1, size=args.utterances)]
    lengths[0] = args.frames
    features = torch.full((args.utterances, args.frames, config.num_mel_bins), float(np.log(1e-5)))
    mask = torch.zeros(args.utterances, args.frames, dtype=torch.long)
    for i, n in enumerate(lengths):
        features[i, :n] = torch.randn(n, config.num_mel_bins) * 2.0 - 6.0
        mask[i, :n] = 1
    spans = phoneme_spans(lengths, args.segments, rng)
    widths = (spans[:, 2] - spans[:, 1]).float()

    with torch.no_grad():
        start = time.perf_counter()
        frame_features = model(features, feature_attention_mask=mask).frame_features
        t_encode = time.perf_counter() - start
        ours = model.pool_segments(frame_features, spans, mask)
        naive = naive_pool(model, frame_features, lengths, spans)
    max_diff = float((ours - naive).abs().max())

    def inference(fn: Callable[[], torch.Tensor]) -> Callable[[], object]:
        def run() -> object:
            with torch.no_grad():
                return fn()

        return run

    def training(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], object]:
        def run() -> object:
            leaf = frame_features.detach().requires_grad_(True)
            model.zero_grad(set_to_none=True)
            fn(leaf).sum().backward()
            return leaf.grad

        return run

    t_ours, t_naive, t_ours_bw, t_naive_bw = median_times(
        [
            inference(lambda: model.pool_segments(frame_features, spans, mask)),
            inference(lambda: naive_pool(model, frame_features, lengths, spans)),
            training(lambda ff: model.pool_segments(ff, spans, mask)),
            training(lambda ff: naive_pool(model, ff, lengths, spans)),
        ],
        args.repeats,
    )

    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"\npreset {args.preset} ({n_params / 1e6:.2f}M params, context ±{config.segment_context_frames} frames), "
        f"{args.utterances} utterances x {args.frames} frames (real {min(lengths)}-{max(lengths)}), "
        f"{spans.shape[0]} segments ({widths.mean():.1f} frames mean, {int(widths.max())} max), "
        f"torch {torch.__version__}, threads={torch.get_num_threads()}, median of {args.repeats} interleaved runs, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n"
    )
    print("| pooling of all segments | ours: vectorised (ms) | naive: loop (ms) | speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| inference (no_grad) | {t_ours * 1e3:.1f} | {t_naive * 1e3:.1f} | {t_naive / t_ours:.1f}x |")
    print(f"| forward + backward | {t_ours_bw * 1e3:.1f} | {t_naive_bw * 1e3:.1f} | {t_naive_bw / t_ours_bw:.1f}x |")
    print(f"\nframe features for the batch (computed once, not in the table): {t_encode * 1e3:.0f} ms")
    print(f"max |ours - naive| over {ours.numel()} embedding values: {max_diff:.2e}")


if __name__ == "__main__":
    main()
