"""Front-end throughput: our full pipeline against the espeak-ng phonemizer, in one run.

Ours: normalise + stress (silero-stress) + rule G2P + phoneme tokenizer + BPE tokenizer, i.e.
``DualStreamProcessor(text=...)``, over distinct sentences (built-in set + generated ones), one
pass with cold caches. Peer: phonemizer's espeak-ng backend (IPA with stress) on the same
sentences, in one batched call. Both single-process and with 2 worker processes (2 cores).

    python benchmarks/frontend.py [--sentences 2000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _sentences(count: int) -> list[str]:
    from prosody_tts.data.sources.sentences import generate_sentences, load_sentences

    base = load_sentences("all")
    extra = generate_sentences(max(0, count - len(base)), seed=123)
    sentences = list(dict.fromkeys([*base, *extra]))[:count]
    if len(sentences) < count:
        raise SystemExit(f"only {len(sentences)} distinct sentences available")
    return sentences


def _ours_worker(job: tuple[list[str], int]) -> tuple[int, float]:
    """Time the processor over ``sentences``, ``batch_size`` texts per call (models pre-loaded)."""
    sentences, batch_size = job
    import torch

    torch.set_num_threads(1)
    from prosody_tts.processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults()
    processor(text=["Прогрев модели перед замером."])  # load models outside the timed part
    start = time.perf_counter()
    for first in range(0, len(sentences), batch_size):
        chunk = sentences[first : first + batch_size]
        processor(text=chunk if batch_size > 1 else chunk[0])
    return len(sentences), time.perf_counter() - start


def _espeak_worker(job: tuple[list[str], int]) -> tuple[int, float]:
    sentences, _ = job
    from prosody_tts.text.espeak_g2p import load_phonemizer

    backend_class, _ = load_phonemizer()
    backend = backend_class("ru", with_stress=True, preserve_punctuation=True)
    backend.phonemize(["прогрев"], strip=True)
    start = time.perf_counter()
    backend.phonemize(sentences, strip=True)
    return len(sentences), time.perf_counter() - start


def _run(worker, sentences: list[str], workers: int, batch_size: int = 1) -> float:
    """Sentences per second: each worker process takes an equal share, timed after its models
    are loaded; wall time = the slowest worker."""
    jobs = [(sentences[i::workers], batch_size) for i in range(workers)]
    if workers == 1:
        results = [worker(jobs[0])]
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            results = pool.map(worker, jobs)
    return sum(c for c, _ in results) / max(s for _, s in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64], help="texts per processor call")
    args = parser.parse_args()
    sentences = _sentences(args.sentences)
    print(f"{len(sentences)} distinct sentences, {os.cpu_count()} CPUs\n")
    print("| workers | texts per call | ours (sent/s) | espeak-ng phonemizer (sent/s) | ours / espeak |")
    print("| --- | --- | --- | --- | --- |")
    for workers in args.workers:
        espeak = _run(_espeak_worker, sentences, workers)
        for batch_size in args.batch_sizes:
            ours = _run(_ours_worker, sentences, workers, batch_size)
            print(f"| {workers} | {batch_size} | {ours:,.0f} | {espeak:,.0f} | {ours / espeak:.3f} |")


if __name__ == "__main__":
    main()
