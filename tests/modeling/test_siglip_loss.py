"""SigLIP loss: naive-loop reference, chunking, init values, and 2 real gloo ranks vs one process."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from prosody_tts.modeling.losses import (
    SIGLIP_INIT_LOGIT_BIAS,
    SIGLIP_INIT_LOGIT_SCALE,
    _pairwise_sigmoid_sum,
    all_gather_with_grad,
    distributed_siglip_loss,
    siglip_logits,
    siglip_loss,
)

WORKER = Path(__file__).with_name("_distributed_siglip_worker.py")


def naive_siglip_loss(text, audio, logit_scale, logit_bias) -> torch.Tensor:
    """Double Python loop straight from the formula (differentiable)."""
    n = text.shape[0]
    t = torch.exp(logit_scale.reshape(()))
    b = logit_bias.reshape(())
    total = torch.zeros((), dtype=text.dtype)
    for i in range(n):
        for j in range(n):
            cos = torch.dot(text[i], audio[j]) / (torch.linalg.norm(text[i]) * torch.linalg.norm(audio[j]))
            label = 1.0 if i == j else -1.0
            total = total - torch.log(torch.sigmoid(label * (t * cos + b)))
    return total / n


def random_inputs(seed: int, n: int, dim: int = 6, dtype: torch.dtype = torch.float64):
    gen = torch.Generator().manual_seed(seed)
    text = torch.randn(n, dim, generator=gen, dtype=dtype)
    audio = text + 0.8 * torch.randn(n, dim, generator=gen, dtype=dtype)  # positives somewhat aligned
    scale = torch.tensor(math.log(10.0) + 0.3 * torch.randn((), generator=gen).item(), dtype=dtype)
    bias = torch.tensor(-5.0 + torch.randn((), generator=gen).item(), dtype=dtype)
    return [x.requires_grad_(True) for x in (text, audio, scale, bias)]


def loss_and_grads(fn, inputs, **kwargs):
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    loss = fn(*inputs, **kwargs)
    grads = torch.autograd.grad(loss, inputs)
    return loss.detach(), grads


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_matches_naive_double_loop(seed, chunk_size):
    inputs = random_inputs(seed, n=5)
    ref_loss, ref_grads = loss_and_grads(naive_siglip_loss, inputs)
    loss, grads = loss_and_grads(siglip_loss, inputs, chunk_size=chunk_size)
    torch.testing.assert_close(loss, ref_loss, rtol=0, atol=1e-12)
    for name, got, want in zip(("text", "audio", "scale", "bias"), grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12, msg=f"grad of {name}")


def test_logits_normalise_and_shape():
    text, audio, scale, bias = (x.detach() for x in random_inputs(3, n=3))
    audio = torch.cat([audio, torch.randn(2, audio.shape[1], dtype=audio.dtype)])  # (5, D): not square
    logits = siglip_logits(text, audio, scale, bias)
    assert logits.shape == (3, 5) and logits.dtype == torch.float64
    cos = torch.nn.functional.cosine_similarity(text[:, None], audio[None], dim=-1)  # (3, 5)
    torch.testing.assert_close(logits, scale.exp() * cos + bias)
    torch.testing.assert_close(siglip_logits(7 * text, 0.1 * audio, scale, bias), logits)  # scale-free
    # HF keeps logit_scale / logit_bias as shape (1,) parameters; floats work too
    torch.testing.assert_close(siglip_logits(text, audio, scale.reshape(1), bias.reshape(1)), logits)
    torch.testing.assert_close(siglip_logits(text, audio, scale.item(), bias.item()), logits)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 7, 11, 12, 500])
def test_chunked_equals_unchunked(chunk_size):
    inputs = random_inputs(7, n=11, dim=16)  # 11 columns: 2, 3, 4, 7 are non-divisors; 12, 500 > N
    ref_loss, ref_grads = loss_and_grads(siglip_loss, inputs)
    loss, grads = loss_and_grads(siglip_loss, inputs, chunk_size=chunk_size)
    torch.testing.assert_close(loss, ref_loss, rtol=0, atol=1e-6)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    # float32 too (the training dtype)
    inputs32 = [x.detach().float() for x in inputs]
    ref_loss32, ref_grads32 = loss_and_grads(siglip_loss, inputs32)
    loss32, grads32 = loss_and_grads(siglip_loss, inputs32, chunk_size=chunk_size)
    torch.testing.assert_close(loss32, ref_loss32, rtol=1e-6, atol=1e-6)
    for got, want in zip(grads32, ref_grads32, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_chunked_backward_keeps_no_full_matrix():
    """The chunked Function saves only O(N * D) tensors for backward, never an (N, N) block."""
    n, dim = 64, 4
    inputs = random_inputs(0, n=n, dim=dim)
    saved: list[tuple[int, ...]] = []

    def pack(tensor):
        saved.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = siglip_loss(*inputs, chunk_size=8)
    loss.backward()
    assert saved and all(math.prod(shape) <= n * dim for shape in saved), saved
    saved.clear()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        siglip_loss(*inputs)
    assert max(math.prod(shape) for shape in saved) == n * n  # the unchunked path does keep (N, N)


def test_init_values():
    """t' = log 10 (t = 10), b = -10: the numbers quoted in docs/contrastive_loss.md."""
    assert math.exp(SIGLIP_INIT_LOGIT_SCALE) == pytest.approx(10.0) and SIGLIP_INIT_LOGIT_BIAS == -10.0
    n = 4
    scale = torch.tensor(SIGLIP_INIT_LOGIT_SCALE, dtype=torch.float64)
    bias = torch.tensor(SIGLIP_INIT_LOGIT_BIAS, dtype=torch.float64)
    eye = torch.eye(2 * n, dtype=torch.float64)
    # matched pairs identical, all other pairs orthogonal: positives z = 0, negatives z = -10
    aligned = siglip_loss(eye[:n], eye[:n], scale, bias)
    assert aligned.item() == pytest.approx(math.log(2) + (n - 1) * math.log1p(math.exp(-10)), abs=1e-12)
    assert aligned.item() == pytest.approx(0.693283, abs=1e-6)
    # every text orthogonal to every audio: all z = -10; the positives cost -log sigmoid(-10) ~ 10
    orthogonal = siglip_loss(eye[:n], eye[n:], scale, bias)
    assert orthogonal.item() == pytest.approx(math.log1p(math.exp(10)) + (n - 1) * math.log1p(math.exp(-10)))
    assert orthogonal.item() == pytest.approx(10.000182, abs=1e-6)


def test_row_blocks_tile_the_full_matrix():
    """Sum over ranks of (local rows x all columns, positives at the global index) == full matrix."""
    text, audio, scale, bias = (x.detach() for x in random_inputs(5, n=9))
    x = torch.nn.functional.normalize(text, dim=-1)
    y = torch.nn.functional.normalize(audio, dim=-1)
    t = scale.exp()
    full = _pairwise_sigmoid_sum(x, y, t, bias)
    for bounds in ([0, 4, 9], [0, 2, 3, 9], [0, 0, 9], [0, 3, 6, 9]):
        for chunk_size in (None, 2):
            parts = [
                _pairwise_sigmoid_sum(x[a:b], y, t, bias, pos_offset=a, chunk_size=chunk_size)
                for a, b in itertools.pairwise(bounds)
            ]
            torch.testing.assert_close(sum(parts), full, rtol=0, atol=1e-12)


def test_single_process_fallbacks():
    inputs = random_inputs(4, n=5)
    ref_loss, ref_grads = loss_and_grads(siglip_loss, inputs)
    loss, grads = loss_and_grads(distributed_siglip_loss, inputs, chunk_size=3)
    torch.testing.assert_close(loss, ref_loss, rtol=0, atol=1e-12)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    assert all_gather_with_grad(inputs[0]) is inputs[0]


def test_low_precision_inputs_scored_in_float32():
    inputs = random_inputs(6, n=6, dtype=torch.float32)
    ref = siglip_loss(*inputs)
    half = siglip_loss(*(x.detach().bfloat16() for x in inputs[:2]), *inputs[2:])
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, ref.detach(), rtol=2e-2, atol=2e-2)


def test_errors():
    text, audio, scale, bias = (x.detach() for x in random_inputs(0, n=4))
    with pytest.raises(ValueError, match="paired batch"):
        siglip_loss(text, audio[:3], scale, bias)
    with pytest.raises(ValueError, match="chunk_size"):
        siglip_loss(text, audio, scale, bias, chunk_size=0)
    with pytest.raises(ValueError, match="one value"):
        siglip_loss(text, audio, torch.zeros(2), bias)
    with pytest.raises(ValueError, match=r"\(batch, dim\)"):
        siglip_loss(text[None], audio[None], scale, bias)


@pytest.mark.slow
def test_two_gloo_ranks_match_single_process(tmp_path):
    """2 real processes (gloo, CPU): mean_r L_r == L and DDP-averaged gradients == single-process rows."""
    from _distributed_siglip_worker import CASES, WORLD_SIZE

    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, f"worker failed ({elapsed:.1f} s):\n{proc.stdout}\n{proc.stderr}"
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD_SIZE)]

    for name, (_sizes, chunk_size, _shape) in CASES.items():
        full = ranks[0][name]["full"]
        inputs = [full[k] for k in ("text", "audio", "logit_scale", "logit_bias")]
        ref_loss, (g_text, g_audio, g_scale, g_bias) = loss_and_grads(siglip_loss, inputs)
        results = [rank[name] for rank in ranks]
        mean_loss = sum(r["loss"] for r in results) / WORLD_SIZE
        torch.testing.assert_close(mean_loss, ref_loss, rtol=0, atol=1e-6, msg=f"{name}: loss")
        # DDP averages every gradient over ranks: local embedding grads / W are rows of dL/dx;
        # replicated scalars: (sum_r grad_r) / W == dL/dt', dL/db
        for rank, r in enumerate(results):
            a, b = r["rows"]
            msg = f"{name}, rank {rank}"
            torch.testing.assert_close(r["text_grad"] / WORLD_SIZE, g_text[a:b], rtol=0, atol=1e-6, msg=msg)
            torch.testing.assert_close(r["audio_grad"] / WORLD_SIZE, g_audio[a:b], rtol=0, atol=1e-6, msg=msg)
        scale_grad = sum(r["scale_grad"] for r in results) / WORLD_SIZE
        bias_grad = sum(r["bias_grad"] for r in results) / WORLD_SIZE
        assert scale_grad.shape == g_scale.shape, (name, chunk_size)
        torch.testing.assert_close(scale_grad, g_scale, rtol=0, atol=1e-6, msg=f"{name}: logit_scale")
        torch.testing.assert_close(bias_grad, g_bias, rtol=0, atol=1e-6, msg=f"{name}: logit_bias")

    # all_gather_with_grad alone: rank r holds r + 1 rows of value r; rank r's loss is
    # sum(gathered * arange * (r + 1)), so the summed gradient is arange * 3, sliced per rank
    expected = torch.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    summed_grad = torch.arange(6, dtype=torch.float64).reshape(3, 2) * 3
    for rank, rows in enumerate((slice(0, 1), slice(1, 3))):
        torch.testing.assert_close(ranks[rank]["all_gather"]["gathered"], expected)
        torch.testing.assert_close(ranks[rank]["all_gather"]["grad"], summed_grad[rows])
