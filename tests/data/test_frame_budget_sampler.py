"""The TTS frame-budget batch sampler: budget, coverage, ranks, epochs, resume, errors."""

from __future__ import annotations

import numpy as np
import pytest

from prosody_tts.data.samplers import FrameBudgetBatchSampler

LENGTHS = np.random.default_rng(0).integers(20, 400, size=500).tolist()


def test_every_batch_fits_the_budget_and_an_epoch_covers_every_item_once():
    sampler = FrameBudgetBatchSampler(LENGTHS, max_frames=1600, bucket_size=64)
    batches = list(sampler)
    assert all(len(b) * max(LENGTHS[i] for i in b) <= 1600 for b in batches)
    seen = [i for b in batches for i in b]
    assert sorted(seen) == list(range(len(LENGTHS))) and sampler.dropped_last_epoch == 0


def test_bucketing_cuts_padding():
    def padding(batches):
        return sum(len(b) * max(LENGTHS[i] for i in b) - sum(LENGTHS[i] for i in b) for b in batches)

    unsorted, batch = [], []  # the same greedy budget over a random order, no sorting
    for index in np.random.default_rng(0).permutation(len(LENGTHS)).tolist():
        if batch and (len(batch) + 1) * max(LENGTHS[i] for i in [*batch, index]) > 1600:
            unsorted.append(batch)
            batch = []
        batch.append(index)
    unsorted.append(batch)
    bucketed = list(FrameBudgetBatchSampler(LENGTHS, 1600, bucket_size=256))
    assert padding(bucketed) < 0.5 * padding(unsorted)
    assert len(bucketed) < len(unsorted)  # fuller batches: fewer of them


def test_ranks_are_disjoint_equal_and_cover_all_but_the_last_round():
    ranks = [FrameBudgetBatchSampler(LENGTHS, 1600, seed=3, rank=r, world_size=3) for r in range(3)]
    per_rank = [list(s) for s in ranks]
    assert len({len(b) for b in per_rank}) == 1 and len(per_rank[0]) == len(ranks[0])
    items = [i for batches in per_rank for b in batches for i in b]
    assert len(items) == len(set(items)) == len(LENGTHS) - ranks[0].dropped_last_epoch
    assert ranks[0].all_batches()[1].tolist() == per_rank[1][0]  # round-robin over the shared order


def test_epochs_differ_and_a_restored_sampler_repeats_the_epoch():
    sampler = FrameBudgetBatchSampler(LENGTHS, 1600, seed=1)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert first != second
    again = FrameBudgetBatchSampler(LENGTHS, 1600, seed=1)
    again.load_state_dict(sampler.state_dict())
    assert list(again) == second
    with pytest.raises(ValueError, match="seed=1 but this sampler has seed=2"):
        FrameBudgetBatchSampler(LENGTHS, 1600, seed=2).load_state_dict(sampler.state_dict())


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="item 1 with 900 frames"):
        FrameBudgetBatchSampler([10, 900, 20], max_frames=800)
    with pytest.raises(ValueError, match="non-empty"):
        FrameBudgetBatchSampler([], max_frames=800)
    with pytest.raises(ValueError, match="max_frames"):
        FrameBudgetBatchSampler([10], max_frames=0)
    with pytest.raises(ValueError, match="epoch"):
        FrameBudgetBatchSampler([10], max_frames=10).set_epoch(-1)
