"""Monotonic alignment search: ours and the wheel against the official recurrence, ties, padding, errors."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

from prosody_tts.modeling import alignment
from prosody_tts.modeling.alignment import durations_from_path, maximum_path

MAX_NEG = -1e9  # the official code's max_neg_val


def official_path(value: np.ndarray, t_x: int, t_y: int) -> np.ndarray:
    """A line-by-line port of Grad-TTS' ``maximum_path_each`` (monotonic_align/core.pyx), float32."""
    value = value.astype(np.float32).copy()
    path = np.zeros_like(value, dtype=np.int64)
    for y in range(t_y):
        for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
            v_cur = np.float32(MAX_NEG) if x == y else value[x, y - 1]
            if x == 0:  # noqa: SIM108 (kept as in the official loop)
                v_prev = np.float32(0.0) if y == 0 else np.float32(MAX_NEG)
            else:
                v_prev = value[x - 1, y - 1]
            value[x, y] = np.float32(max(v_cur, v_prev) + value[x, y])
    index = t_x - 1
    for y in range(t_y - 1, -1, -1):
        path[index, y] = 1
        if index != 0 and (index == y or value[index, y - 1] < value[index - 1, y - 1]):
            index -= 1
    return path


def random_batch(seed: int, lengths: list[tuple[int, int]], quantize: bool = False):
    """Right-padded log priors and masks for items of (tokens, frames); ``quantize`` makes many ties."""
    generator = torch.Generator().manual_seed(seed)
    tokens, frames = max(t for t, _ in lengths), max(f for _, f in lengths)
    log_prior = torch.randn(len(lengths), tokens, frames, generator=generator) * 3
    if quantize:
        log_prior = log_prior.round()
    mask = torch.zeros_like(log_prior)
    for b, (t, f) in enumerate(lengths):
        mask[b, :t, :f] = 1
    return log_prior, mask


LENGTHS = [(7, 30), (3, 3), (12, 41), (1, 9), (12, 12), (5, 60)]


@pytest.mark.parametrize("quantize", [False, True], ids=["continuous", "ties"])
@pytest.mark.parametrize("implementation", ["torch", "cython"])
def test_paths_equal_the_official_recurrence(implementation, quantize):
    if implementation == "cython":
        pytest.importorskip("monotonic_alignment_search")
    for seed in range(3):
        log_prior, mask = random_batch(seed, LENGTHS, quantize)
        path = maximum_path(log_prior, mask, implementation=implementation)
        for b, (t, f) in enumerate(LENGTHS):
            expected = official_path((log_prior[b] * mask[b])[:t, :f].numpy(), t, f)
            assert np.array_equal(path[b, :t, :f].numpy().astype(np.int64), expected), (seed, b)
            assert float(path[b].sum()) == f  # nothing in the padding


def test_the_path_is_monotonic_and_covers_every_frame_once():
    log_prior, mask = random_batch(7, LENGTHS)
    path = maximum_path(log_prior, mask, implementation="torch")
    durations = durations_from_path(path)
    for b, (t, f) in enumerate(LENGTHS):
        assert torch.equal(path[b, :, :f].sum(0), torch.ones(f))  # one token per frame
        assert bool((durations[b, :t] >= 1).all()) and int(durations[b].sum()) == f
        tokens = path[b, :t, :f].argmax(0)
        assert bool((tokens[1:] - tokens[:-1] >= 0).all()) and int(tokens[0]) == 0 and int(tokens[-1]) == t - 1


def test_the_maximum_is_found():
    """Brute force over all monotonic paths of a small case: ours reaches the best score."""
    from itertools import combinations

    log_prior, mask = random_batch(3, [(4, 9)])
    path = maximum_path(log_prior, mask, implementation="torch")[0]
    best = -np.inf
    for cuts in combinations(range(1, 9), 3):  # token boundaries
        bounds = (0, *cuts, 9)
        score = sum(float(log_prior[0, i, bounds[i] : bounds[i + 1]].sum()) for i in range(4))
        best = max(best, score)
    assert float((path * log_prior[0]).sum()) == pytest.approx(best, abs=1e-4)


def test_auto_is_the_wheel_when_installed_and_ours_otherwise(monkeypatch):
    log_prior, mask = random_batch(1, LENGTHS)
    ours = maximum_path(log_prior, mask, implementation="torch")
    assert torch.equal(maximum_path(log_prior, mask), ours)
    monkeypatch.setattr(alignment, "_wheel", lambda: None)
    assert torch.equal(maximum_path(log_prior, mask), ours)
    with pytest.raises(ImportError, match="pip install monotonic-alignment-search"):
        maximum_path(log_prior, mask, implementation="cython")


def test_dtype_device_and_no_gradient():
    log_prior, mask = random_batch(2, [(3, 8)])
    log_prior = log_prior.double().requires_grad_()
    path = maximum_path(log_prior, mask.double())
    assert path.dtype == torch.float64 and not path.requires_grad


def test_bad_inputs_are_refused_with_the_reason():
    log_prior, mask = random_batch(0, [(5, 4)])
    with pytest.raises(ValueError, match="4 frames for 5 tokens"):
        maximum_path(log_prior, mask)
    with pytest.raises(ValueError, match=r"\(batch, text, frames\)"):
        maximum_path(log_prior[0], mask[0])
    with pytest.raises(ValueError, match="mask must have the shape"):
        maximum_path(log_prior, mask[:, :, :2])
    with pytest.raises(ValueError, match="implementation must be one of"):
        maximum_path(log_prior, mask, implementation="numba")


def test_docstring_example_runs():
    assert doctest.testmod(alignment).failed == 0
