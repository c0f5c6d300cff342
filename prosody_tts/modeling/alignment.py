"""Monotonic alignment search (Glow-TTS / Grad-TTS): the most likely monotonic path text → frames.

::

    log_prior (B, T_text, T_frames): log-likelihood of frame j under token i's prior
    mask      (B, T_text, T_frames): 1 where both the token and the frame are real
      ─► forward DP over frames: Q[i, j] = log_prior[i, j] + max(Q[i, j-1], Q[i-1, j-1])
      ─► backtrack from (T_text-1, T_frames-1): every frame goes to exactly one token,
         every token gets >= 1 frame, token order kept
      ─► path (B, T_text, T_frames) in {0, 1};  durations = path.sum(-1)

Two implementations give identical paths (same recurrence, same tie rule: stay on the token when
``Q[i, j-1] >= Q[i-1, j-1]``, as the official Cython code does):

* ``"torch"`` — ours, vectorised over the batch and the text axis, one step per frame;
* ``"cython"`` — the ``monotonic-alignment-search`` wheel (the code Matcha-TTS uses).

``implementation="auto"`` takes the wheel when it is installed: it is the faster one on CPU
(``python benchmarks/mas.py``, ratio in ``docs/benchmarks.md``), and ours otherwise.

Example:
    >>> import torch
    >>> log_prior = torch.tensor([[[0.0, -0.5, -5.0], [-5.0, -1.0, 0.0]]])  # 2 tokens, 3 frames
    >>> maximum_path(log_prior, torch.ones_like(log_prior), implementation="torch")
    tensor([[[1., 1., 0.],
             [0., 0., 1.]]])
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["IMPLEMENTATIONS", "durations_from_path", "maximum_path"]

#: ``implementation`` values of :func:`maximum_path`.
IMPLEMENTATIONS: tuple[str, ...] = ("auto", "torch", "cython")


def _wheel():
    try:
        from monotonic_alignment_search import maximum_path_cython
    except ImportError:
        return None
    return maximum_path_cython


def _check(log_prior: torch.Tensor, mask: torch.Tensor) -> None:
    if log_prior.dim() != 3:
        raise ValueError(f"log_prior must be (batch, text, frames), got shape {tuple(log_prior.shape)}")
    if mask.shape != log_prior.shape:
        raise ValueError(f"mask must have the shape of log_prior {tuple(log_prior.shape)}, got {tuple(mask.shape)}")
    text = mask.bool().any(dim=2).sum(dim=1)  # (B,) real tokens
    frames = mask.bool().any(dim=1).sum(dim=1)  # (B,) real frames
    short = torch.nonzero(frames < text).flatten()
    if short.numel():
        b = int(short[0])
        raise ValueError(
            f"item {b} has {int(frames[b])} frames for {int(text[b])} tokens: a monotonic path gives every "
            "token at least one frame, so it needs at least as many frames as tokens"
        )


def _maximum_path_torch(log_prior: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Ours: the forward recurrence vectorised over (batch, text), then a batched backtrack."""
    value = (log_prior.float() * mask).cpu()  # (B, X, Y)
    real = mask.bool().cpu()
    batch, tokens, frames = value.shape
    neg = torch.tensor(-torch.inf)
    x_range = torch.arange(tokens)
    stay = torch.empty(batch, tokens, frames, dtype=torch.bool)  # the choice at each cell
    q = torch.zeros(batch, tokens)
    for j in range(frames):
        previous = torch.cat([neg.expand(batch, 1), q[:, :-1]], dim=1)  # Q[i-1, j-1]
        stay[:, :, j] = q >= previous
        q = torch.where(x_range <= j, torch.maximum(q, previous) + value[:, :, j], neg)
    stay |= ~real  # beyond an item's last frame (or token) the backtrack waits in place
    path = torch.zeros(batch, tokens, frames)
    rows = torch.arange(batch)
    index = real[:, :, 0].sum(dim=1) - 1  # (B,) last real token
    for j in range(frames - 1, -1, -1):
        path[rows, index, j] = 1.0
        index = index - (~stay[rows, index, j]).long()
    return (path * real).to(device=log_prior.device, dtype=log_prior.dtype)


def maximum_path(
    log_prior: torch.Tensor,
    mask: torch.Tensor,
    implementation: Literal["auto", "torch", "cython"] = "auto",
) -> torch.Tensor:
    """The (B, T_text, T_frames) 0/1 monotonic path of maximum total ``log_prior`` inside ``mask``.

    Args:
        log_prior: (B, T_text, T_frames) scores (any float dtype; computed in float32 on CPU).
        mask: (B, T_text, T_frames), 1 where token and frame are both real (right padding).
        implementation: ``"torch"`` (ours), ``"cython"`` (the wheel) or ``"auto"`` (the wheel if
            installed, else ours). No gradient flows through the path.
    """
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    _check(log_prior, mask)
    with torch.no_grad():
        wheel = _wheel() if implementation in ("auto", "cython") else None
        if implementation == "cython" and wheel is None:
            raise ImportError("implementation='cython' needs the wheel: pip install monotonic-alignment-search")
        if wheel is not None:
            path = wheel(log_prior.detach().float().cpu(), mask.float().cpu())
            return path.to(device=log_prior.device, dtype=log_prior.dtype)
        return _maximum_path_torch(log_prior.detach(), mask)


def durations_from_path(path: torch.Tensor) -> torch.Tensor:
    """(B, T_text) frames per token of a (B, T_text, T_frames) path, as ``torch.long``."""
    return path.sum(dim=-1).round().long()
