"""Bootstrap confidence intervals for per-utterance metric means.

::

    values (n,)  (NaN = the metric was undefined for that utterance: counted as ``missing``)
      ─ finite ones v (m,) ─ resample m with replacement, B times (seeded) ─ means (B,)
      ─► mean(v), percentile interval [q_(1-c)/2, q_(1+c)/2] of the means, sd(v), m, missing

Percentile bootstrap (Efron & Tibshirani 1993, §13.3); same ``seed`` → same interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["Interval", "bootstrap_interval", "bootstrap_ratio", "summarize"]


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval over ``count`` finite values (``missing`` were NaN)."""

    mean: float
    low: float
    high: float
    std: float
    count: int
    missing: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, digits: int = 3) -> str:
        """``"0.123 [0.100, 0.150]"`` (``"n/a"`` when no value was finite)."""
        if self.count == 0:
            return "n/a"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def bootstrap_interval(
    values: Iterable[float],
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> Interval:
    """Mean of the finite ``values`` and its percentile-bootstrap interval (see the module doc)."""
    _check(confidence, resamples)
    array = np.asarray(list(values), dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"need a flat sequence of numbers, got shape {array.shape}")
    finite = array[np.isfinite(array)]
    missing = int(len(array) - len(finite))
    if len(finite) == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0, missing, confidence)
    index = np.random.default_rng(seed).integers(0, len(finite), size=(resamples, len(finite)))
    low, high = _percentiles(finite[index].mean(axis=1), confidence)
    return Interval(
        mean=float(finite.mean()), low=float(low), high=float(high), std=float(finite.std(ddof=0)),
        count=len(finite), missing=missing, confidence=confidence,
    )  # fmt: skip


def _check(confidence: float, resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")


def _percentiles(statistics: np.ndarray, confidence: float) -> tuple[float, float]:
    """The percentile interval of the resampled statistics."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(statistics, [tail, 1.0 - tail])
    return float(low), float(high)


def bootstrap_ratio(
    numerators: Iterable[float],
    denominators: Iterable[float],
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> Interval:
    """Pooled ratio ``Σ num / Σ den`` (e.g. corpus WER = Σ edits / Σ words) with an interval from
    resampling utterances; ``std`` is the spread of the per-utterance ratios."""
    num = np.asarray(list(numerators), dtype=np.float64)
    den = np.asarray(list(denominators), dtype=np.float64)
    if num.shape != den.shape or num.ndim != 1:
        raise ValueError(f"numerators and denominators must be flat and of one length, got {num.shape} and {den.shape}")
    _check(confidence, resamples)
    if len(num) == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0, 0, confidence)
    if (den <= 0).any():
        raise ValueError("every denominator (reference length) must be > 0")
    index = np.random.default_rng(seed).integers(0, len(num), size=(resamples, len(num)))
    low, high = _percentiles(num[index].sum(axis=1) / den[index].sum(axis=1), confidence)
    return Interval(
        mean=float(num.sum() / den.sum()), low=float(low), high=float(high), std=float((num / den).std()),
        count=len(num), missing=0, confidence=confidence,
    )  # fmt: skip


def summarize(
    records: Iterable[Mapping[str, Any]],
    metrics: Iterable[str],
    **kwargs: Any,
) -> dict[str, Interval]:
    """:func:`bootstrap_interval` of each named metric over per-utterance ``records`` (absent = NaN)."""
    records = list(records)
    out = {}
    for name in metrics:
        values = []
        for record in records:
            value = record.get(name)
            if value is not None and not isinstance(value, (int, float, np.floating, np.integer)):
                raise TypeError(f"metric {name!r} holds a {type(value).__name__} ({value!r}), not a number")
            values.append(math.nan if value is None else float(value))
        out[name] = bootstrap_interval(values, **kwargs)
    return out
