"""The training losses: SigLIP text-audio contrastive (exact, chunked, across ranks) and masked LM.

Notation (see ``docs/contrastive_loss.md``): ``x_i`` text embeddings, ``y_j`` audio embeddings,
both L2-normalised here; ``t = exp(t')`` with ``t' = logit_scale`` (a log-temperature, as in
``transformers``' SigLIP), ``b = logit_bias``::

    z_ij = t * <x_i / |x_i|, y_j / |y_j|> + b
    s_ij = +1 if i == j else -1           (pair i is (x_i, y_i))
    L    = -(1 / N) * sum_i sum_j log sigmoid(s_ij * z_ij)

``distributed_siglip_loss`` computes the same ``L`` over the batch of all ranks: rank ``r``
scores its own text rows against the audio columns of every rank and returns
``L_r = (W / N) * sum_{i in rank r} sum_j ...`` so that ``mean_r L_r == L``; DDP's gradient
averaging then yields exactly ``dL/dtheta`` (no extra scaling by the caller).
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F

__all__ = [
    "SIGLIP_INIT_LOGIT_BIAS",
    "SIGLIP_INIT_LOGIT_SCALE",
    "all_gather_with_grad",
    "distributed_siglip_loss",
    "masked_lm_loss",
    "siglip_logits",
    "siglip_loss",
]

#: Paper initialisation: ``t' = log 10`` (so ``t = 10``) and ``b = -10``.
SIGLIP_INIT_LOGIT_SCALE: float = math.log(10.0)
SIGLIP_INIT_LOGIT_BIAS: float = -10.0


def _as_scalar(value: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """A 0-dim tensor (autograd kept) from a float, a 0-dim or a one-element tensor (HF uses shape (1,))."""
    if not torch.is_tensor(value):
        return torch.tensor(float(value), dtype=like.dtype, device=like.device)
    if value.numel() != 1:
        raise ValueError(f"logit_scale / logit_bias must hold one value, got shape {tuple(value.shape)}")
    return value.reshape(()).to(device=like.device, dtype=like.dtype)


def _compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """float32 at least: half-precision embeddings are scored in float32."""
    dtype = torch.float32
    for tensor in tensors:
        dtype = torch.promote_types(dtype, tensor.dtype)
    return dtype


def _normalize(embeds: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(N, D) -> (N, D) unit rows in ``dtype``."""
    if embeds.dim() != 2:
        raise ValueError(f"embeddings must be (batch, dim), got shape {tuple(embeds.shape)}")
    return F.normalize(embeds.to(dtype), p=2.0, dim=-1)


def siglip_logits(
    text_embeds: torch.Tensor,
    audio_embeds: torch.Tensor,
    logit_scale: torch.Tensor | float,
    logit_bias: torch.Tensor | float,
) -> torch.Tensor:
    """Pairwise logits ``z_ij = exp(logit_scale) * cos(x_i, y_j) + logit_bias``.

    Both embeddings are L2-normalised here (``F.normalize``, eps 1e-12), so callers pass raw
    projections. ``logit_scale`` is the *log* temperature ``t'``.

    Args:
        text_embeds: (N_text, D).
        audio_embeds: (N_audio, D).
        logit_scale: scalar ``t'`` (float, 0-dim or shape (1,) tensor).
        logit_bias: scalar ``b``.

    Returns:
        (N_text, N_audio) logits, rows = text, columns = audio, dtype at least float32.
    """
    dtype = _compute_dtype(text_embeds, audio_embeds)
    x = _normalize(text_embeds, dtype)  # (N_text, D)
    y = _normalize(audio_embeds, dtype)  # (N_audio, D)
    t = _as_scalar(logit_scale, x).exp()  # ()
    b = _as_scalar(logit_bias, x)  # ()
    return x @ y.T * t + b  # (N_text, N_audio)


def _pair_labels(
    n_rows: int, col_start: int, n_cols: int, pos_offset: int, like: torch.Tensor
) -> torch.Tensor:
    """(n_rows, n_cols) labels: +1 where global column == row + pos_offset, else -1."""
    rows = torch.arange(n_rows, device=like.device).unsqueeze(1) + pos_offset  # (n_rows, 1)
    cols = torch.arange(col_start, col_start + n_cols, device=like.device).unsqueeze(0)  # (1, n_cols)
    return torch.where(rows == cols, 1.0, -1.0).to(like.dtype)  # (n_rows, n_cols)


class _ChunkedSigmoidSum(torch.autograd.Function):
    """``sum_ij -log sigmoid(s_ij * (t * x_i.y_j + b))`` over column blocks, O(N * chunk) memory.

    Forward keeps no block; backward recomputes each (n x chunk) block and applies
    ``d/dz [-log sigmoid(s z)] = -s * sigmoid(-s z)``:
    ``G = -s * sigmoid(-s z) * g``, ``dx = t * G @ y_blk``, ``dy_blk = t * G^T @ x``,
    ``dt = sum(G * (x @ y_blk^T))``, ``db = sum(G)``. Not twice differentiable.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        x: torch.Tensor,  # (n, D) unit text rows
        y: torch.Tensor,  # (M, D) unit audio rows (all columns)
        t: torch.Tensor,  # () exp(t')
        b: torch.Tensor,  # ()
        pos_offset: int,
        chunk_size: int,
    ) -> torch.Tensor:
        total = x.new_zeros(())
        for start in range(0, y.shape[0], chunk_size):
            y_blk = y[start : start + chunk_size]  # (n, c)
            z = x @ y_blk.T * t + b  # (n, c)
            s = _pair_labels(x.shape[0], start, y_blk.shape[0], pos_offset, z)  # (n, c)
            total = total - F.logsigmoid(s * z).sum()
        ctx.save_for_backward(x, y, t, b)
        ctx.pos_offset = pos_offset
        ctx.chunk_size = chunk_size
        return total

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad_out: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        x, y, t, b = ctx.saved_tensors
        grad_x = torch.zeros_like(x)  # (n, D)
        grad_y = torch.zeros_like(y)  # (M, D)
        grad_t = torch.zeros_like(t)  # ()
        grad_b = torch.zeros_like(b)  # ()
        for start in range(0, y.shape[0], ctx.chunk_size):
            y_blk = y[start : start + ctx.chunk_size]  # (c, D)
            cos = x @ y_blk.T  # (n, c)
            z = cos * t + b
            s = _pair_labels(x.shape[0], start, y_blk.shape[0], ctx.pos_offset, z)
            g = -s * torch.sigmoid(-s * z) * grad_out  # (n, c) dLoss/dz
            if ctx.needs_input_grad[0]:
                grad_x += t * (g @ y_blk)
            if ctx.needs_input_grad[1]:
                grad_y[start : start + ctx.chunk_size] = t * (g.T @ x)
            grad_t += (g * cos).sum()
            grad_b += g.sum()
        return grad_x, grad_y, grad_t, grad_b, None, None


def _pairwise_sigmoid_sum(
    x: torch.Tensor,
    y: torch.Tensor,
    t: torch.Tensor,
    b: torch.Tensor,
    pos_offset: int = 0,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Unnormalised ``sum_{i in rows} sum_j -log sigmoid(s_ij z_ij)`` of unit ``x`` (n, D) vs ``y`` (M, D).

    Row ``i`` is positive with column ``i + pos_offset`` (its global index). ``chunk_size=None``
    builds the full (n, M) matrix under plain autograd; an int uses column blocks of that width.
    """
    if chunk_size is None:
        z = x @ y.T * t + b  # (n, M)
        s = _pair_labels(x.shape[0], 0, y.shape[0], pos_offset, z)  # (n, M)
        return -F.logsigmoid(s * z).sum()
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size}")
    return _ChunkedSigmoidSum.apply(x, y, t, b, pos_offset, int(chunk_size))


def siglip_loss(
    text_embeds: torch.Tensor,
    audio_embeds: torch.Tensor,
    logit_scale: torch.Tensor | float,
    logit_bias: torch.Tensor | float,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Exact SigLIP loss of one paired batch: ``-(1/N) sum_i sum_j log sigmoid(s_ij z_ij)``.

    Args:
        text_embeds: (N, D) raw text embeddings (normalised here).
        audio_embeds: (N, D) raw audio embeddings; row i pairs with text row i.
        logit_scale: log temperature ``t'`` (init ``SIGLIP_INIT_LOGIT_SCALE = log 10``).
        logit_bias: bias ``b`` (init ``SIGLIP_INIT_LOGIT_BIAS = -10``).
        chunk_size: None builds the (N, N) logits; an int scores (N, chunk_size) column blocks
            and recomputes them in backward (O(N * chunk) memory, same value and gradients).

    Returns:
        () scalar loss, dtype at least float32.
    """
    if text_embeds.shape[0] != audio_embeds.shape[0]:
        raise ValueError(
            f"paired batch expected: {text_embeds.shape[0]} text rows vs {audio_embeds.shape[0]} audio rows"
        )
    n = text_embeds.shape[0]
    dtype = _compute_dtype(text_embeds, audio_embeds)
    x = _normalize(text_embeds, dtype)  # (N, D)
    y = _normalize(audio_embeds, dtype)  # (N, D)
    if n == 0:
        return x.sum() * 0.0
    t = _as_scalar(logit_scale, x).exp()  # ()
    b = _as_scalar(logit_bias, x)  # ()
    return _pairwise_sigmoid_sum(x, y, t, b, 0, chunk_size) / n


# ----------------------------------------------------------------------------------------- distributed


def _world(group: dist.ProcessGroup | None) -> tuple[int, int]:
    """(world size, rank) of ``group``; (1, 0) when torch.distributed is not initialised."""
    if not (dist.is_available() and dist.is_initialized()):
        return 1, 0
    return dist.get_world_size(group), dist.get_rank(group)


def _gather_sizes(n_local: int, device: torch.device, group: dist.ProcessGroup | None) -> list[int]:
    """First-dimension size of every rank (one small all_gather)."""
    world, _ = _world(group)
    size = torch.tensor([n_local], dtype=torch.long, device=device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size, group=group)
    return [int(s.item()) for s in sizes]


class _AllGatherWithGrad(torch.autograd.Function):
    """Concatenate every rank's rows; backward sums the gradient over ranks and keeps the local slice.

    Forward on every rank: ``Y = cat_r(y_r)`` (rows padded to ``max(sizes)`` for ``dist.all_gather``,
    then trimmed). Each rank's loss ``L_r`` uses ``Y``, so the total ``sum_r L_r`` depends on
    ``y_s`` through every rank: ``d(sum_r L_r)/dy_s = sum_r (dL_r/dY)[rows of s]``. Backward is
    therefore ``all_reduce(SUM)`` of the local ``dL_r/dY`` followed by the slice of rank ``s``.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        tensor: torch.Tensor,  # (n_local, *)
        sizes: tuple[int, ...],
        rank: int,
        group: dist.ProcessGroup | None,
    ) -> torch.Tensor:
        max_n = max(sizes)
        padded = tensor.new_zeros((max_n, *tensor.shape[1:]))  # (max_n, *)
        padded[: tensor.shape[0]] = tensor
        buckets = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(buckets, padded.contiguous(), group=group)
        ctx.offset = sum(sizes[:rank])
        ctx.n_local = tensor.shape[0]
        ctx.group = group
        return torch.cat([bucket[:n] for bucket, n in zip(buckets, sizes, strict=True)])  # (sum(sizes), *)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad_out: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        grad = grad_out.contiguous().clone()  # (sum(sizes), *), this rank's dL_r/dY
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)  # sum_r dL_r/dY
        return grad[ctx.offset : ctx.offset + ctx.n_local], None, None, None


def all_gather_with_grad(tensor: torch.Tensor, group: dist.ProcessGroup | None = None) -> torch.Tensor:
    """Autograd-aware all-gather along dim 0; local sizes may differ between ranks.

    Returns ``cat([t_0, ..., t_{W-1}])`` of shape (sum_r n_r, *) on every rank. Gradient to the
    local input is the local slice of ``sum_r dL_r/d(gathered)``, i.e. the gradient of the *sum*
    of all ranks' losses (divide by W, as DDP does, to get the gradient of their mean). Every rank
    must call backward (the backward is a collective). Identity when not distributed.
    """
    world, rank = _world(group)
    if world == 1:
        return tensor
    sizes = tuple(_gather_sizes(tensor.shape[0], tensor.device, group))
    return _AllGatherWithGrad.apply(tensor, sizes, rank, group)


def distributed_siglip_loss(
    text_embeds: torch.Tensor,
    audio_embeds: torch.Tensor,
    logit_scale: torch.Tensor | float,
    logit_bias: torch.Tensor | float,
    chunk_size: int | None = None,
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    """SigLIP loss with negatives from all ranks; this rank's share ``L_r``, with ``mean_r L_r == L``.

    Rank ``r`` holds ``n_r`` pairs (sizes may differ; zero is allowed). It scores its ``n_r`` text
    rows against the gathered audio of all ranks (``N = sum_r n_r`` columns); its row ``i`` is
    positive with global column ``offset_r + i``. Summed over ranks, the row blocks tile the full
    (N, N) matrix once, so no transposed (audio-anchor) pass is needed. Returns::

        L_r = (W / N) * sum_{i in rank r} sum_j -log sigmoid(s_ij z_ij)

    Under DDP (gradients averaged over ranks) call ``L_r.backward()`` on each rank unchanged:
    the averaged gradients equal those of the single-process loss on the concatenated batch.
    Falls back to ``siglip_loss`` when not distributed or with world size 1.

    Args:
        text_embeds: (n_r, D) this rank's text embeddings.
        audio_embeds: (n_r, D) this rank's paired audio embeddings.
        logit_scale, logit_bias: replicated scalars (``t'`` and ``b``).
        chunk_size: column block width, as in ``siglip_loss``.
        group: process group (default: the world).

    Returns:
        () this rank's loss.
    """
    world, rank = _world(group)
    if world == 1:
        return siglip_loss(text_embeds, audio_embeds, logit_scale, logit_bias, chunk_size)
    if text_embeds.shape[0] != audio_embeds.shape[0]:
        raise ValueError(
            f"paired batch expected: {text_embeds.shape[0]} text rows vs {audio_embeds.shape[0]} audio rows"
        )
    dtype = _compute_dtype(text_embeds, audio_embeds)
    x = _normalize(text_embeds, dtype)  # (n_r, D)
    y = _normalize(audio_embeds, dtype)  # (n_r, D)
    sizes = tuple(_gather_sizes(y.shape[0], y.device, group))
    n_total = sum(sizes)
    if n_total == 0:
        return x.sum() * 0.0
    y_all = _AllGatherWithGrad.apply(y, sizes, rank, group)  # (N, D)
    t = _as_scalar(logit_scale, x).exp()  # ()
    b = _as_scalar(logit_bias, x)  # ()
    offset = sum(sizes[:rank])
    return _pairwise_sigmoid_sum(x, y_all, t, b, offset, chunk_size) * (world / n_total)


# ---------------------------------------------------------------------------------- masked LM
def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not ``ignore_index``; 0 (still
    differentiable) when there are none. (This module imports nothing from the package, so the
    multi-rank tests can load it from its file alone: the caller passes ``constants.IGNORE_INDEX``.)"""
    vocab = logits.shape[-1]
    total = F.cross_entropy(
        logits.reshape(-1, vocab).float(), labels.reshape(-1), ignore_index=ignore_index, reduction="sum"
    )  # (B, T, V) -> (B*T, V)
    return total / (labels != ignore_index).sum().clamp_min(1)
