"""Blank interspersing (the official Grad-TTS add_blank) for lists and padded batches."""

from __future__ import annotations

import pytest
import torch

from prosody_tts.processing.blanks import intersperse, intersperse_batch


def test_intersperse_puts_a_blank_around_every_id():
    assert intersperse([5, 6, 7], 0) == [0, 5, 0, 6, 0, 7, 0]
    assert intersperse([], 9) == [9]


def test_batched_rows_equal_the_list_version_and_keep_their_padding():
    ids = torch.tensor([[5, 6, 7], [8, 9, 1]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    out, out_mask = intersperse_batch(ids, mask, blank=148, pad=0)
    assert out[0].tolist() == intersperse([5, 6, 7], 148)
    assert out[1, :5].tolist() == intersperse([8, 9], 148) and out[1, 5:].tolist() == [0, 0]
    assert out_mask.tolist() == [[1] * 7, [1] * 5 + [0, 0]]
    with pytest.raises(ValueError, match="same"):
        intersperse_batch(ids, mask[:, :2], blank=148)
