"""Blank tokens between phonemes, as the official Grad-TTS front-end writes them (``add_blank``).

::

    ids       a b c            (N)
    with blanks  ∅ a ∅ b ∅ c ∅   (2N + 1), ∅ = blank_id

The faithful Grad-TTS encoder reads this form; its duration predictor gives each blank its own
frames, so pauses between phonemes need not be squeezed into the phonemes themselves. Frame
counts per phoneme (ground-truth durations) are interspersed with 0 for the blanks, so a path
built from them is the same path.

Example:
    >>> intersperse([5, 6], 0)
    [0, 5, 0, 6, 0]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["intersperse", "intersperse_batch"]


def intersperse(ids: Sequence[int], blank: int) -> list[int]:
    """``[blank, ids[0], blank, ids[1], …, blank]`` (2N + 1 items)."""
    out = [blank] * (2 * len(ids) + 1)
    out[1::2] = list(ids)
    return out


def intersperse_batch(
    ids: torch.Tensor, mask: torch.Tensor, blank: int, pad: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, N) right-padded ids and mask → (B, 2N + 1) ids with blanks and their mask.

    Each row gets ``2 n + 1`` real positions for its ``n`` real ids; the rest is ``pad`` / 0.
    """
    if ids.shape != mask.shape or ids.dim() != 2:
        raise ValueError(f"ids and mask must be the same (batch, tokens) shape, got {tuple(ids.shape)} and {tuple(mask.shape)}")
    batch, length = ids.shape
    out = ids.new_full((batch, 2 * length + 1), blank)
    out[:, 1::2] = ids
    lengths = mask.long().sum(1) * 2 + 1  # (B,)
    new_mask = (torch.arange(2 * length + 1, device=ids.device)[None, :] < lengths[:, None]).to(mask.dtype)
    return torch.where(new_mask.bool(), out, torch.full_like(out, pad)), new_mask
