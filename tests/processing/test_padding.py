"""The one padding helper: lists and tensors, fixed or rounded widths, clear errors."""

from __future__ import annotations

import doctest

import pytest
import torch

from prosody_tts.processing import padding
from prosody_tts.processing.padding import pad_rows, pad_rows_tensor, padded_length


def test_pad_rows_to_the_longest_or_a_fixed_length():
    assert pad_rows([[1, 2, 3], [4]], 0) == [[1, 2, 3], [4, 0, 0]]
    assert pad_rows([[1], [2, 3]], -1, length=4) == [[1, -1, -1, -1], [2, 3, -1, -1]]
    assert pad_rows([[1, 2, 3]], 0, multiple_of=4) == [[1, 2, 3, 0]]


def test_tensor_form_equals_the_list_form():
    rows = [[5, 6, 7, 8, 9], [1], []]
    expected = torch.tensor(pad_rows(rows, 2, multiple_of=8))
    got = pad_rows_tensor(rows, 2, multiple_of=8)
    assert got.dtype == torch.long and got.shape == (3, 8)
    assert torch.equal(got, expected)


def test_padded_length_rules():
    assert padded_length([3, 5]) == 5
    assert padded_length([3, 5], multiple_of=4) == 8
    assert padded_length([3, 5], length=7) == 7


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="no rows"):
        pad_rows([], 0)
    with pytest.raises(ValueError, match="does not fit the padded length 2"):
        pad_rows([[1, 2, 3]], 0, length=2)  # never truncates


def test_docstring_example_runs():
    assert doctest.testmod(padding).failed == 0
