"""CTC phoneme recogniser over our log-mels: the offline intelligibility proxy.

::

    input_features (B, T, M) ─ [− utterance mean] ─ Linear(M → H) ─ dropout
      ─ GELU(Conv1d_k, stride s) ─► (B, T' = ⌈T / s⌉, H)        lengths ⌊(len − 1) / s⌋ + 1
      ─ num_conv_layers × (x + LayerNorm(GELU(Conv1d_k(x))) · mask) ─ BiLSTM (packed by length)
      ─ Linear(H → 1 + P) ─► logits (B, T', 1 + P)          id 0 = CTC blank
    labels (B, L) phoneme ids (1..P), −100 = padding ─ CTC loss (mean over items of loss / L)
    decode: greedy — arg-max per frame, repeats merged, blanks removed ─► phoneme lists

Trained on a corpus's ground-truth audio (``prosody-tts train recognizer``), it measures how
recognisable the phonemes of synthesised speech are (PER). It is a proxy of intelligibility for
the corpus's own voice(s), never a WER: report its PER on held-out ground truth beside every use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.phoneme_recognizer import PhonemeRecognizerConfig
from .outputs import PhonemeRecognizerOutput

__all__ = ["PhonemeRecognizerModel", "PhonemeRecognizerOutput"]

#: label id of padding in ``labels``
IGNORE_INDEX = -100


class RecognizerConvBlock(nn.Module):
    """``x + LayerNorm(GELU(Conv1d(x)))``, zero at padded frames; ``(B, T, H) → (B, T, H)``."""

    def __init__(self, config: PhonemeRecognizerConfig) -> None:
        super().__init__()
        self.conv = nn.Conv1d(config.hidden_size, config.hidden_size, config.conv_kernel_size, padding=config.conv_kernel_size // 2)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        update = self.norm(F.gelu(self.conv(hidden.transpose(1, 2)).transpose(1, 2)))
        return (hidden + self.dropout(update)) * mask[..., None]


class PhonemeRecognizerModel(PreTrainedModel):
    """See the module docstring. ``symbols(ids)`` / :meth:`decode` turn ids back into phonemes."""

    config_class = PhonemeRecognizerConfig
    base_model_prefix = "phoneme_recognizer"
    main_input_name = "input_features"
    input_modalities = ("audio",)

    def __init__(self, config: PhonemeRecognizerConfig) -> None:
        super().__init__(config)
        self.input_projection = nn.Linear(config.num_mel_bins, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)
        k = config.conv_kernel_size
        self.subsample = nn.Conv1d(config.hidden_size, config.hidden_size, k, stride=config.subsampling, padding=k // 2)
        self.blocks = nn.ModuleList(RecognizerConvBlock(config) for _ in range(config.num_conv_layers))
        self.lstm = nn.LSTM(
            config.hidden_size, config.hidden_size // 2, num_layers=config.num_lstm_layers, batch_first=True,
            bidirectional=True, dropout=config.dropout if config.num_lstm_layers > 1 else 0.0,
        )  # fmt: skip
        self.classifier = nn.Linear(2 * (config.hidden_size // 2), config.num_symbols)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Conv1d)):
            init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.LSTM):  # PyTorch's own LSTM init, U(±1/sqrt(hidden)): a N(0, 0.02) one stalls CTC
            bound = 1.0 / math.sqrt(module.hidden_size)
            for parameter in module.parameters():
                init.uniform_(parameter, -bound, bound)

    def symbol_ids(self, phonemes: Sequence[str]) -> list[int]:
        """Label ids of our phonemes (word boundaries and punctuation skipped; stress folded if the config does)."""
        from ..text.inventory import is_phoneme, phoneme_identity

        index = {p: i + 1 for i, p in enumerate(self.config.phonemes)}
        ids = []
        for symbol in phonemes:
            if not is_phoneme(symbol):
                continue
            key = phoneme_identity(symbol, keep_stress=self.config.keep_stress)
            if key not in index:
                raise ValueError(f"phoneme {symbol!r} is not in the recogniser's inventory")
            ids.append(index[key])
        return ids

    def forward(
        self,
        input_features: torch.Tensor,
        feature_attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> PhonemeRecognizerOutput | tuple:
        """Logits ``(B, T, 1 + P)`` and, with ``labels``, the CTC loss (see the module docstring)."""
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        mask = feature_attention_mask if feature_attention_mask is not None else attention_mask
        if mask is None:
            mask = torch.ones(input_features.shape[:2], dtype=torch.long, device=input_features.device)
        mask_f = mask.to(input_features.dtype)
        lengths = mask.sum(-1).long()
        features = input_features
        if self.config.mean_normalize_input:
            mean = (features * mask_f[..., None]).sum(1, keepdim=True) / lengths.clamp(min=1)[:, None, None]
            features = (features - mean) * mask_f[..., None]
        hidden = self.dropout(self.input_projection(features)) * mask_f[..., None]
        stride = self.config.subsampling
        hidden = F.gelu(self.subsample(hidden.transpose(1, 2)).transpose(1, 2))
        lengths = torch.div(lengths - 1, stride, rounding_mode="floor") + 1
        mask_f = (torch.arange(hidden.shape[1], device=hidden.device)[None, :] < lengths[:, None]).to(hidden.dtype)
        hidden = hidden * mask_f[..., None]
        for block in self.blocks:
            hidden = block(hidden, mask_f)
        packed = nn.utils.rnn.pack_padded_sequence(hidden, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        hidden, _ = self.lstm(packed)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(hidden, batch_first=True, total_length=mask_f.shape[1])
        logits = self.classifier(self.dropout(hidden))
        loss = None
        if labels is not None:
            log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # (T, B, C)
            label_mask = labels != IGNORE_INDEX
            targets = labels.masked_select(label_mask)
            loss = F.ctc_loss(
                log_probs, targets, lengths, label_mask.sum(-1), blank=self.config.blank_id,
                reduction="mean", zero_infinity=True,
            )  # fmt: skip
        if not return_dict:
            return tuple(v for v in (loss, logits, lengths) if v is not None)
        return PhonemeRecognizerOutput(loss=loss, logits=logits, lengths=lengths)

    def decode(self, logits: torch.Tensor, lengths: torch.Tensor | None = None) -> list[list[str]]:
        """Greedy CTC decoding: arg-max, repeats merged, blanks dropped → phoneme symbols per item."""
        best = logits.argmax(-1).cpu()
        lengths = lengths.cpu() if lengths is not None else torch.full((best.shape[0],), best.shape[1])
        out = []
        for row, length in zip(best, lengths, strict=True):
            ids = torch.unique_consecutive(row[: int(length)]).tolist()
            out.append([self.config.phonemes[i - 1] for i in ids if i != self.config.blank_id])
        return out

    @torch.no_grad()
    def recognize(self, input_features: torch.Tensor, feature_attention_mask: torch.Tensor | None = None) -> list[list[str]]:
        """Phonemes of a batch of log-mels (eval mode expected)."""
        out = self(input_features, feature_attention_mask, return_dict=True)
        return self.decode(out.logits, out.lengths)
