"""Right-padding of token-id rows and the masks of right-padded rows, written once for the
processor, the collators, the models and the pipelines.

Example:
    >>> import torch
    >>> pad_rows([[5, 6, 7], [8]], value=0)
    [[5, 6, 7], [8, 0, 0]]
    >>> pad_rows_tensor([[5, 6, 7], [8]], value=1, multiple_of=4)
    tensor([[5, 6, 7, 1],
            [8, 1, 1, 1]])
    >>> length_mask(torch.tensor([3, 1]), 4)
    tensor([[ True,  True,  True, False],
            [ True, False, False, False]])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["length_mask", "pad_frames", "pad_rows", "pad_rows_tensor", "padded_length"]


def padded_length(lengths: Sequence[int], length: int | None = None, multiple_of: int | None = None) -> int:
    """The padded width of rows of ``lengths``: ``length``, else the longest rounded up to ``multiple_of``."""
    if not lengths:
        raise ValueError("nothing to pad: no rows")
    longest = max(lengths)
    if length is None:
        length = longest
        if multiple_of:
            length = -(-longest // multiple_of) * multiple_of
    elif length < longest:
        raise ValueError(f"a row of {longest} ids does not fit the padded length {length}")
    return length


def pad_rows(
    rows: Sequence[Sequence[int]], value: int, length: int | None = None, multiple_of: int | None = None
) -> list[list[int]]:
    """Python lists, each right-padded with ``value`` to :func:`padded_length`."""
    width = padded_length([len(row) for row in rows], length, multiple_of)
    return [list(row) + [value] * (width - len(row)) for row in rows]


def pad_rows_tensor(
    rows: Sequence[Sequence[int]], value: int, length: int | None = None, multiple_of: int | None = None
) -> torch.Tensor:
    """A (len(rows), width) ``torch.long`` tensor, each row right-padded with ``value``."""
    width = padded_length([len(row) for row in rows], length, multiple_of)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for index, row in enumerate(rows):
        out[index, : len(row)] = torch.as_tensor(list(row), dtype=torch.long)
    return out


def length_mask(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """(B,) lengths → the (B, max_length) bool mask of right-padded rows (True = real position)."""
    return torch.arange(max_length, device=lengths.device)[None, :] < lengths[:, None]


def pad_frames(
    features: Sequence[torch.Tensor], value: float, multiple_of: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(T_i, M) float frames → ``(B, T, M)`` right-padded with ``value`` and the ``(B, T)`` long mask."""
    frames = padded_length([f.shape[0] for f in features], multiple_of=multiple_of)
    out = torch.full((len(features), frames, features[0].shape[1]), float(value))
    mask = torch.zeros(len(features), frames, dtype=torch.long)
    for i, f in enumerate(features):
        out[i, : f.shape[0]] = f
        mask[i, : f.shape[0]] = 1
    return out, mask
