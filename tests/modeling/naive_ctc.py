"""A textbook CTC forward pass, the reference the CTC-based losses are checked against."""

from __future__ import annotations

import math

import torch


def naive_ctc(log_probs: torch.Tensor, labels: list[int], blank: int = 0) -> float:
    """−log p(labels | x) by the textbook alpha recursion over the blank-extended sequence."""
    extended = [blank]
    for label in labels:
        extended += [label, blank]
    alpha = [-math.inf] * len(extended)
    alpha[0], alpha[1] = float(log_probs[0, blank]), float(log_probs[0, extended[1]])
    for t in range(1, log_probs.shape[0]):
        new = [-math.inf] * len(extended)
        for s, symbol in enumerate(extended):
            terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
            if s >= 2 and symbol != blank and symbol != extended[s - 2]:
                terms.append(alpha[s - 2])
            top = max(terms)
            if top > -math.inf:
                new[s] = top + math.log(sum(math.exp(x - top) for x in terms)) + float(log_probs[t, symbol])
        alpha = new
    last = [alpha[-1], alpha[-2]]
    top = max(last)
    return -(top + math.log(sum(math.exp(x - top) for x in last)))
