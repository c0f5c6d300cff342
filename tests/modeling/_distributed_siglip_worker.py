"""Helper for tests/modeling/test_siglip_loss.py: run ``distributed_siglip_loss`` on 2 real gloo ranks.

Usage::

    python tests/modeling/_distributed_siglip_worker.py OUT_DIR            # forks 2 ranks itself
    torchrun --nproc_per_node 2 tests/modeling/_distributed_siglip_worker.py OUT_DIR

For every case in ``CASES`` each rank takes its slice of a seeded float64 batch, computes its
loss ``L_r``, calls ``backward`` and saves ``OUT_DIR/rank{r}.pt`` with the loss, the gradients
of its local raw embeddings and its (not yet averaged) gradients of ``logit_scale`` and
``logit_bias``; rank 0 also saves the full batch. The test compares them with the
single-process loss. ``losses.py`` is loaded from its file so that the ranks import only torch
(importing the ``prosody_tts`` package pulls in transformers and takes seconds per process).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2
DIM = 8
LOSSES_PY = Path(__file__).resolve().parents[2] / "prosody_tts" / "modeling" / "losses.py"

#: name -> (rows per rank, chunk_size, scalar shape of logit_scale / logit_bias).
CASES: dict[str, tuple[tuple[int, int], int | None, tuple[int, ...]]] = {
    "equal": ((4, 4), None, ()),
    "equal_chunk3": ((4, 4), 3, (1,)),
    "unequal": ((3, 6), None, ()),
    "unequal_chunk4": ((3, 6), 4, ()),
    "empty_rank": ((0, 5), 2, ()),
}


def load_losses():
    """The losses module, loaded from its file (no ``prosody_tts/__init__`` import)."""
    spec = importlib.util.spec_from_file_location("_siglip_losses_under_test", LOSSES_PY)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def make_batch(seed: int, n: int, shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """Seeded float64 full batch: text/audio (n, DIM), logit_scale/logit_bias of ``shape``."""
    gen = torch.Generator().manual_seed(seed)
    return {
        "text": torch.randn(n, DIM, generator=gen, dtype=torch.float64),
        "audio": torch.randn(n, DIM, generator=gen, dtype=torch.float64),
        # moderate t' and b so that positives and negatives both carry gradient
        "logit_scale": (1.5 + 0.2 * torch.randn((), generator=gen, dtype=torch.float64)).reshape(shape),
        "logit_bias": (-2.0 + 0.5 * torch.randn((), generator=gen, dtype=torch.float64)).reshape(shape),
    }


def run_rank(rank: int, out_dir: str) -> None:
    """Every case on this rank; results to ``out_dir/rank{rank}.pt``."""
    torch.set_num_threads(1)
    losses = load_losses()
    results: dict[str, dict[str, object]] = {}
    for seed, (name, (sizes, chunk_size, shape)) in enumerate(CASES.items()):
        full = make_batch(seed, sum(sizes), shape)
        start, stop = sum(sizes[:rank]), sum(sizes[: rank + 1])
        text = full["text"][start:stop].clone().requires_grad_(True)  # (n_r, DIM)
        audio = full["audio"][start:stop].clone().requires_grad_(True)  # (n_r, DIM)
        scale = full["logit_scale"].clone().requires_grad_(True)
        bias = full["logit_bias"].clone().requires_grad_(True)
        loss = losses.distributed_siglip_loss(text, audio, scale, bias, chunk_size=chunk_size)
        loss.backward()
        results[name] = {
            "loss": loss.detach(),
            "text_grad": text.grad,
            "audio_grad": audio.grad,
            "scale_grad": scale.grad,
            "bias_grad": bias.grad,
            "rows": (start, stop),
        }
        if rank == 0:
            results[name]["full"] = full
    # all_gather_with_grad alone: rank-dependent row counts, gradient of sum_r L_r
    piece = torch.full((rank + 1, 2), float(rank), dtype=torch.float64, requires_grad=True)
    gathered = losses.all_gather_with_grad(piece)  # (1 + 2, 2)
    weights = torch.arange(gathered.numel(), dtype=torch.float64).reshape(gathered.shape) * (rank + 1)
    (gathered * weights).sum().backward()
    results["all_gather"] = {"gathered": gathered.detach(), "grad": piece.grad}
    torch.save(results, Path(out_dir) / f"rank{rank}.pt")


def _spawned(rank: int, out_dir: str) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"file://{Path(out_dir) / 'pg_init'}",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=timedelta(seconds=60),
    )
    try:
        run_rank(rank, out_dir)
    finally:
        dist.destroy_process_group()


def main(out_dir: str) -> None:
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # launched by torchrun
        dist.init_process_group("gloo", timeout=timedelta(seconds=60))
        try:
            run_rank(dist.get_rank(), out_dir)
        finally:
            dist.destroy_process_group()
        return
    # fork: the ranks inherit the imported torch (spawn would re-import it, seconds each)
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    mp.start_processes(_spawned, args=(out_dir,), nprocs=WORLD_SIZE, join=True, start_method=method)


if __name__ == "__main__":
    main(sys.argv[1])
