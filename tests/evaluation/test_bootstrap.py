"""Bootstrap intervals: coverage of the true mean, NaN counted as missing, pooled ratios, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prosody_tts.evaluation.bootstrap import bootstrap_interval, bootstrap_ratio, summarize


def test_interval_holds_the_mean_and_shrinks_with_more_data():
    rng = np.random.default_rng(0)
    small = bootstrap_interval(rng.normal(5.0, 1.0, 20))
    large = bootstrap_interval(rng.normal(5.0, 1.0, 2000))
    assert small.low < small.mean < small.high
    assert large.low < 5.0 < large.high
    assert (large.high - large.low) < (small.high - small.low) / 5
    # a normal-theory 95 % half width for n=2000, sd 1 is 0.044
    assert (large.high - large.low) / 2 == pytest.approx(1.96 / math.sqrt(2000), rel=0.15)


def test_coverage_is_near_95_percent():
    rng = np.random.default_rng(1)
    covered = 0
    for i in range(200):
        interval = bootstrap_interval(rng.normal(0.0, 1.0, 50), seed=i, resamples=500)
        covered += interval.low <= 0.0 <= interval.high
    assert 0.88 <= covered / 200 <= 0.99


def test_nan_is_missing_and_same_seed_same_interval():
    values = [1.0, 2.0, math.nan, 3.0]
    a, b = bootstrap_interval(values, seed=3), bootstrap_interval(values, seed=3)
    assert a == b and a.count == 3 and a.missing == 1 and a.mean == pytest.approx(2.0)
    empty = bootstrap_interval([math.nan])
    assert empty.count == 0 and math.isnan(empty.mean) and empty.format() == "n/a"
    assert "[" in a.format()
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval(values, confidence=1.5)


def test_pooled_ratio_and_summaries():
    ratio = bootstrap_ratio([1, 0, 2], [4, 2, 4])
    assert ratio.mean == pytest.approx(3 / 10)
    assert ratio.low <= ratio.mean <= ratio.high
    with pytest.raises(ValueError, match="denominator"):
        bootstrap_ratio([1], [0])
    out = summarize([{"a": 1.0}, {"a": 3.0}, {"b": 2.0}], ["a", "b"])
    assert out["a"].mean == 2.0 and out["a"].missing == 1 and out["b"].count == 1
    with pytest.raises(TypeError, match="not a number"):
        summarize([{"a": "x"}], ["a"])
