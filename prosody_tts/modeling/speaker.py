"""Speaker conditioning of the dual-stream encoder: one (B, C) condition for every AdaLN-Zero block.

::

    speaker_ids (B,)  ─► speaker table row (-1 → the learned null vector) ─┐
    speaker_embeds (B, E_ext) ─► Linear projection ────────────────────────┼─► condition (B, C)
    neither ─► the learned null vector ────────────────────────────────────┘
    (training: speaker dropout swaps rows for the null vector; every route stays in the graph)
"""

from __future__ import annotations

import torch
from torch import nn

from ..configuration.dual_stream import DualStreamConfig
from ..constants import NO_SPEAKER

__all__ = ["SpeakerConditioning"]


class SpeakerConditioning(nn.Module):
    """The speaker condition (B, speaker_embedding_dim) from a speaker id, an external embedding, or nothing.

    * ``speaker_ids`` (B,): rows of a table with ``num_speakers`` rows; id ``-1`` selects the null vector
      for that row, so one batch can mix speakers and text-only examples.
    * ``speaker_embeds`` (B, external_speaker_dim): e.g. an ECAPA utterance embedding, through a Linear.
    * neither: the learned null vector for every row (text-only MLM).

    In training, each row is replaced by the null vector with probability ``speaker_dropout``
    (classifier-free style), so the model also learns the unconditioned case.
    """

    def __init__(self, config: DualStreamConfig) -> None:
        super().__init__()
        self.dropout_prob = config.speaker_dropout
        self.null_embedding = nn.Parameter(torch.zeros(config.speaker_embedding_dim))
        self.speaker_table = (
            nn.Embedding(config.num_speakers, config.speaker_embedding_dim)
            if config.num_speakers > 0
            else None
        )
        self.external_projection = (
            nn.Linear(config.external_speaker_dim, config.speaker_embedding_dim)
            if config.external_speaker_dim > 0
            else None
        )

    def forward(
        self,
        batch_size: int,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the (B, C) condition; inputs are assumed validated by the model."""
        null = self.null_embedding.unsqueeze(0).expand(batch_size, -1)  # (B, C)
        if speaker_ids is not None:
            known = (speaker_ids != NO_SPEAKER).unsqueeze(-1)  # (B, 1)
            condition = torch.where(known, self.speaker_table(speaker_ids.clamp_min(0)), null)
        elif speaker_embeds is not None:
            condition = self.external_projection(speaker_embeds.to(self.external_projection.weight.dtype))
        else:
            condition = null
        if self.training and self.dropout_prob > 0:
            dropped = torch.rand(batch_size, 1, device=condition.device) < self.dropout_prob  # (B, 1)
            condition = torch.where(dropped, null, condition)
        if self.training:
            # Keep every route in the autograd graph with a zero contribution: a batch that uses
            # only some routes (text-only MLM: just the null vector) then leaves no parameter
            # without a gradient, so DDP needs no find_unused_parameters.
            condition = condition + 0.0 * self._routes_sum()
        return condition

    def _routes_sum(self) -> torch.Tensor:
        total = self.null_embedding.sum()
        if self.speaker_table is not None:
            total = total + self.speaker_table.weight.sum()
        if self.external_projection is not None:
            total = total + self.external_projection.weight.sum() + self.external_projection.bias.sum()
        return total
