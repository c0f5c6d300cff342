"""The inputs of the TTS heads (Grad-TTS, latent diffusion): token ids, and the speaker as a table
row, a name, or an external embedding.

A head whose config has ``num_speakers``, ``speaker_embedding_dim``, ``external_speaker_embeddings``,
``speaker_names`` and ``multi_speaker`` (and, with a table, an ``nn.Embedding`` ``spk_emb``) mixes
in :class:`TTSInputsMixin`: every call is checked the same way and gets the same errors.
"""

from __future__ import annotations

import torch

__all__ = ["TTSInputsMixin"]


class TTSInputsMixin:
    """``speaker_id`` (name or row → row), ``_speaker`` (validated (B, speaker_embedding_dim) vectors)
    and ``_text_mask`` (validated token ids → their (B, 1, N) mask)."""

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

    @staticmethod
    def _text_mask(input_ids: torch.Tensor, attention_mask: torch.Tensor | None, vocab_size: int) -> torch.Tensor:
        """The (B, 1, N) float mask of (B, N) token ids in [0, vocab_size), every item with a token."""
        if input_ids.dim() != 2 or input_ids.shape[1] == 0:
            raise ValueError(f"token ids must be a non-empty (batch, tokens) tensor, got shape {tuple(input_ids.shape)}")
        if bool((input_ids < 0).any()) or bool((input_ids >= vocab_size).any()):
            raise ValueError(f"token ids must be in [0, {vocab_size})")
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        if bool((mask.sum(1) == 0).any()):
            raise ValueError("an item has no tokens (attention_mask all 0): nothing to say")
        return mask[:, None, :].float()  # (B, 1, N)
