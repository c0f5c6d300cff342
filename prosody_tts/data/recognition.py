"""Training data of the CTC phoneme recogniser: prepared rows → (log-mels, phoneme label ids).

::

    prepared row {input_features (T, M), phonemes (P,)} ─ symbols → ids (word boundaries dropped)
      ─► {input_features (T, M), labels (L,)}                                  RecognizerDataset
    batch ─► input_features (B, T_max, M) padded with the extractor's value,
             feature_attention_mask (B, T_max), labels (B, L_max) padded with −100   RecognizerCollator

A row whose phonemes need more CTC frames than the model outputs (``L + repeats > ⌈T / subsampling⌉``)
cannot be learnt; it
is refused when the dataset is built, with its id, instead of giving an infinite loss.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..processing.padding import pad_frames, pad_rows_tensor

__all__ = ["RecognizerCollator", "RecognizerDataset", "ctc_frames_needed"]

#: label padding (ignored by the CTC loss)
LABEL_PAD = -100


def ctc_frames_needed(labels: Sequence[int]) -> int:
    """Frames CTC needs for ``labels``: one per label plus a blank between each repeated pair."""
    return len(labels) + sum(1 for a, b in itertools.pairwise(labels) if a == b)


class RecognizerDataset(torch.utils.data.Dataset):
    """Prepared rows as recogniser examples; ``symbol_ids`` maps phonemes to label ids."""

    def __init__(self, rows: Any, symbol_ids: Callable[[Sequence[str]], list[int]], subsampling: int = 1) -> None:
        self.rows = rows
        self.labels: list[list[int]] = []
        self.skipped: list[tuple[str, str]] = []
        self.index: list[int] = []
        for i in range(len(rows)):
            row = rows[i]
            labels = symbol_ids([str(p) for p in np.asarray(row["phonemes"]).tolist()])
            frames = (int(np.asarray(row["input_features"]).shape[0]) - 1) // subsampling + 1  # the model's output frames
            if not labels:
                self.skipped.append((str(row.get("id", i)), "no phonemes"))
                continue
            if ctc_frames_needed(labels) > frames:
                self.skipped.append((str(row.get("id", i)), f"{len(labels)} phonemes in {frames} frames"))
                continue
            self.index.append(i)
            self.labels.append(labels)
        if not self.index:
            raise ValueError(f"no usable rows for the recogniser ({len(self.skipped)} skipped: {self.skipped[:3]})")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self.rows[self.index[i]]
        return {"input_features": np.asarray(row["input_features"], dtype=np.float32), "labels": self.labels[i]}


class RecognizerCollator:
    """Pads log-mels (``padding_value``) and labels (−100); see the module docstring."""

    def __init__(self, padding_value: float = math.log(1e-5)) -> None:
        self.padding_value = float(padding_value)

    def __call__(self, items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        frames = [torch.as_tensor(np.asarray(item["input_features"]), dtype=torch.float32) for item in items]
        features, mask = pad_frames(frames, self.padding_value)
        labels = pad_rows_tensor([item["labels"] for item in items], LABEL_PAD)
        return {"input_features": features, "feature_attention_mask": mask, "labels": labels}
