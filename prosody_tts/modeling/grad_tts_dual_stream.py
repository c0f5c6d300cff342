"""Our dual-stream encoder as Grad-TTS' text encoder (``GradTTSConfig(encoder_type="dual_stream")``).

::

    phoneme ids (B, P) [+ BPE ids (B, S), word ids] ─ DualStreamModel (AdaLN-Zero on the speaker) ─► (B, P, H)
      ─ transpose, mask ─► h (B, H, P) ─┬─ proj_m (1×1) ─► μ (B, n_mels, P)
                                        └─ detach ─ DurationPredictor ─► log w (B, 1, P)

Same interface as :class:`~.grad_tts_encoder.GradTTSTextEncoder`: μ and log-durations per token,
channels first. Tokens are the processor's phoneme ids, ``<s>`` and ``</s>`` included (the
alignment gives them frames like any token). The speaker vector (a table row or an external
embedding) enters the encoder as its ``speaker_embeds`` when the encoder was built for them
(``text_config.external_speaker_dim == speaker_embedding_dim``, e.g. a stage-2 encoder trained
with ECAPA speaker embeddings); otherwise the encoder runs on its learned null condition.
"""

from __future__ import annotations

import torch
from torch import nn

from .dual_stream import DualStreamModel
from .grad_tts_encoder import DurationPredictor

__all__ = ["DUAL_STREAM_INPUTS", "DualStreamTTSEncoder"]

#: The processor's keys the dual-stream encoder reads (``phoneme_input_ids`` is required).
DUAL_STREAM_INPUTS: tuple[str, ...] = (
    "phoneme_input_ids", "phoneme_attention_mask", "phoneme_word_ids",
    "bpe_input_ids", "bpe_attention_mask", "bpe_word_ids",
)  # fmt: skip


class DualStreamTTSEncoder(nn.Module):
    """Dual-stream states → μ (B, n_mels, P) and log w (B, 1, P) (see the module docstring).

    Args:
        config: a ``GradTTSConfig`` with ``encoder_type="dual_stream"``.
    """

    def __init__(self, config) -> None:  # a GradTTSConfig (imported by the model, not here)
        super().__init__()
        text_config = config.text_config
        self.text_model = DualStreamModel(text_config)
        self.frozen = config.freeze_text_encoder
        self.takes_speaker = config.multi_speaker and text_config.external_speaker_dim == config.speaker_embedding_dim
        hidden = text_config.hidden_size
        self.proj_m = nn.Conv1d(hidden, config.n_mels, 1)
        self.proj_w = DurationPredictor(
            hidden, config.duration_predictor_channels, config.encoder_kernel_size, config.encoder_dropout
        )
        if self.frozen:
            self.text_model.requires_grad_(False)

    def train(self, mode: bool = True) -> DualStreamTTSEncoder:
        super().train(mode)
        if self.frozen:  # a frozen encoder never drops out
            self.text_model.eval()
        return self

    def forward(
        self, inputs: dict[str, torch.Tensor], mask: torch.Tensor, speaker: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``inputs``: the processor's keys (:data:`DUAL_STREAM_INPUTS`); (B, 1, P) mask [, (B, S) speaker]."""
        condition = {"speaker_embeds": speaker} if self.takes_speaker and speaker is not None else {}
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            states = self.text_model(**inputs, **condition, return_dict=True).last_hidden_state  # (B, P, H)
        h = states.transpose(1, 2) * mask  # (B, H, P)
        mu = self.proj_m(h) * mask
        log_durations = self.proj_w(h.detach(), mask)  # the predictor does not train the encoder
        return mu, log_durations
