"""The speaker inputs of the TTS heads (Grad-TTS, latent diffusion): a table row, a name, or an external embedding.

A head whose config has ``num_speakers``, ``speaker_embedding_dim``, ``external_speaker_embeddings``,
``speaker_names`` and ``multi_speaker`` (and, with a table, an ``nn.Embedding`` ``spk_emb``) mixes
in :class:`SpeakerInputsMixin`: every call is checked the same way and gets the same errors.
"""

from __future__ import annotations

import torch

__all__ = ["SpeakerInputsMixin"]


class SpeakerInputsMixin:
    """``speaker_id`` (name or row → row) and ``_speaker`` (validated (B, speaker_embedding_dim) vectors)."""

    def speaker_id(self, speaker: int | str) -> int:
        """A table row from a row number or one of ``config.speaker_names``."""
        names = self.config.speaker_names or []
        if isinstance(speaker, str):
            if speaker not in names:
                raise ValueError(f"unknown speaker {speaker!r}; this model knows {names or 'no speaker names'}")
            return names.index(speaker)
        if not 0 <= int(speaker) < self.config.num_speakers:
            raise ValueError(f"unknown speaker: {speaker} is not in [0, {self.config.num_speakers})")
        return int(speaker)

    def _speaker(
        self, speaker_ids: torch.Tensor | None, speaker_embeds: torch.Tensor | None, batch: int
    ) -> torch.Tensor | None:
        """The (B, speaker_embedding_dim) speaker vectors, or None for a single-speaker model."""
        config = self.config
        if not config.multi_speaker:
            if speaker_ids is not None or speaker_embeds is not None:
                raise ValueError("a speaker was given to a single-speaker model (num_speakers=1)")
            return None
        if config.external_speaker_embeddings:
            if speaker_embeds is None or speaker_ids is not None:
                raise ValueError(f"this model takes speaker_embeds (B, {config.speaker_embedding_dim}), not speaker_ids")
            if speaker_embeds.shape != (batch, config.speaker_embedding_dim):
                raise ValueError(
                    f"speaker_embeds must be ({batch}, {config.speaker_embedding_dim}), got {tuple(speaker_embeds.shape)}"
                )
            return speaker_embeds.to(self.dtype)
        if speaker_ids is None or speaker_embeds is not None:
            raise ValueError(f"a {config.num_speakers}-speaker model needs speaker_ids (B,) (and no speaker_embeds)")
        speaker_ids = torch.as_tensor(speaker_ids, device=self.spk_emb.weight.device).reshape(-1)
        if speaker_ids.shape[0] != batch:
            raise ValueError(f"speaker_ids must have {batch} entries, got {speaker_ids.shape[0]}")
        if bool((speaker_ids < 0).any()) or bool((speaker_ids >= config.num_speakers).any()):
            raise ValueError(f"unknown speaker: speaker_ids must be in [0, {config.num_speakers}), got {speaker_ids.tolist()}")
        return self.spk_emb(speaker_ids)

