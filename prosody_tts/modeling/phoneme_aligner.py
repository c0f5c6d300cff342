"""Unsupervised phoneme aligner: durations in frames for our phonemes on any transcribed speech.

After RAD-TTS's alignment module ("One TTS Alignment to Rule Them All", Badlani et al. 2022)::

    input_ids (B, N) ─ Embedding ─ residual Conv1d blocks ─► (B, N, H) ─ aligned tokens only
      (unaligned_token_ids removed, e.g. ``#``) ─ Conv1d(k3) ReLU Conv1d(k1) ─► keys    (B, N', A)
    input_features (B, T, M) ─ [− utterance mean] ─ Conv1d(k3) ReLU Conv1d(k1) ReLU Conv1d(k1)
                                                                             ─► queries (B, T, A)
    log_attention (B, T, N') = log_softmax_N'(−temperature · ‖q_t − k_n‖²) + log prior_beta-binomial
      ─ training: forward-sum loss = CTC over the tokens in order (blank column = blank_logprob)
                  [+ binarization loss −mean log soft(hard path)]
      ─ alignment: monotonic alignment search on log_softmax_N'(log_attention)
                  ─► durations (B, N) frames per input token (0 for unaligned / padding),
                     Σ = the real frame count exactly; alignment_score (B,) = exp(mean log p(path))

It trains on the target corpus itself (no labels). ``<s>`` and ``</s>`` are aligned like phonemes
and so absorb leading and trailing silence (≥ 1 frame each); :mod:`prosody_tts.data.alignment` folds
them into the first and last phoneme when it writes the canonical ``phoneme_durations``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.phoneme_aligner import PhonemeAlignerConfig
from ..processing.padding import length_mask
from .alignment import maximum_path
from .outputs import PhonemeAlignerOutput

__all__ = ["PhonemeAlignerModel", "PhonemeAlignerOutput", "beta_binomial_log_prior", "forward_sum_loss"]

#: log-score given to padded tokens inside the forward-sum loss (exp() of it is 0 in float32)
MASKED_LOG_SCORE: float = -1e4


def beta_binomial_log_prior(
    text_lengths: torch.Tensor, frame_lengths: torch.Tensor, max_text: int, max_frames: int, scaling: float = 1.0
) -> torch.Tensor:
    """Log of the beta-binomial alignment prior, ``(B, max_frames, max_text)``.

    Frame ``t`` (1-based) of ``T`` puts ``BetaBinomial(n=N, α=ω·t, β=ω·(T + 1 − t))``'s mass of
    ``k = 0 … N − 1`` on token ``k`` (RAD-TTS's ``beta_binomial_prior_distribution``). Padded
    positions are 0 (they are masked elsewhere).

    Example:
        >>> prior = beta_binomial_log_prior(torch.tensor([3]), torch.tensor([4]), 3, 4)
        >>> [round(p, 2) for p in prior.exp().sum(-1)[0].tolist()]  # k = N's mass is left out, as in RAD-TTS
        [0.97, 0.89, 0.71, 0.43]
    """
    device = text_lengths.device
    n = text_lengths.to(torch.float64)[:, None, None]  # (B, 1, 1)
    frames = frame_lengths.to(torch.float64)[:, None, None]
    t = torch.arange(1, max_frames + 1, device=device, dtype=torch.float64)[None, :, None]
    k = torch.arange(max_text, device=device, dtype=torch.float64)[None, None, :]
    a, b = scaling * t, scaling * (frames + 1 - t)
    valid = (t <= frames) & (k < n)
    a, b = torch.where(valid, a, 1.0), torch.where(valid, b, 1.0)
    kk = torch.where(valid, k, 0.0).expand_as(a)
    nn_ = n.expand_as(a)

    def lbeta(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.lgamma(x) + torch.lgamma(y) - torch.lgamma(x + y)

    log_choose = torch.lgamma(nn_ + 1) - torch.lgamma(kk + 1) - torch.lgamma(nn_ - kk + 1)
    log_pmf = log_choose + lbeta(kk + a, nn_ - kk + b) - lbeta(a, b)
    return torch.where(valid, log_pmf, 0.0).float()


def forward_sum_loss(
    log_attention: torch.Tensor, text_lengths: torch.Tensor, frame_lengths: torch.Tensor, blank_logprob: float = -1.0
) -> torch.Tensor:
    """RAD-TTS's forward-sum loss: CTC of the target ``1 … N`` over frames, mean over items.

    Args:
        log_attention: (B, T, N) per-frame token scores (padding anything; it is masked here).
    """
    batch, _, tokens = log_attention.shape
    token_mask = length_mask(text_lengths, tokens)  # (B, N)
    # a finite floor, not -inf: CTC's backward returns NaN for -inf log-probabilities
    scores = torch.where(token_mask[:, None, :], log_attention.float(), MASKED_LOG_SCORE)
    scores = F.pad(scores, (1, 0), value=blank_logprob)  # (B, T, 1 + N): blank first
    log_probs = scores.log_softmax(-1).transpose(0, 1)  # (T, B, 1 + N)
    targets = torch.arange(1, tokens + 1, device=log_attention.device)[None, :].expand(batch, tokens)
    return F.ctc_loss(log_probs, targets, frame_lengths, text_lengths, blank=0, reduction="mean", zero_infinity=True)


class AlignerConvBlock(nn.Module):
    """``x + LayerNorm(ReLU(Conv1d(x)))``, zero at padding; ``(B, N, H) → (B, N, H)``."""

    def __init__(self, config: PhonemeAlignerConfig) -> None:
        super().__init__()
        k = config.text_kernel_size
        self.conv = nn.Conv1d(config.hidden_size, config.hidden_size, k, padding=k // 2)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        update = self.norm(F.relu(self.conv(hidden.transpose(1, 2)).transpose(1, 2)))
        return (hidden + self.dropout(update)) * mask[..., None]


class AlignerMelEncoder(nn.Module):
    """``(B, T, M) → (B, T, A)``: Conv1d(k) → ReLU → Conv1d(1) → ReLU → Conv1d(1) (RAD-TTS's query projection, k = 3)."""

    def __init__(self, config: PhonemeAlignerConfig) -> None:
        super().__init__()
        h = config.mel_hidden_size
        self.layers = nn.Sequential(
            nn.Conv1d(config.num_mel_bins, h, config.mel_kernel_size, padding=config.mel_kernel_size // 2), nn.ReLU(),
            nn.Conv1d(h, h, 1), nn.ReLU(),
            nn.Conv1d(h, config.attention_dim, 1),
        )  # fmt: skip

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features.transpose(1, 2)).transpose(1, 2)


class PhonemeAlignerModel(PreTrainedModel):
    """See the module docstring; :meth:`align` is the inference entry point."""

    config_class = PhonemeAlignerConfig
    base_model_prefix = "phoneme_aligner"
    main_input_name = "input_ids"

    def __init__(self, config: PhonemeAlignerConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.text_blocks = nn.ModuleList(AlignerConvBlock(config) for _ in range(config.num_text_layers))
        self.key_projection = nn.Sequential(
            nn.Conv1d(config.hidden_size, config.hidden_size, 3, padding=1), nn.ReLU(),
            nn.Conv1d(config.hidden_size, config.attention_dim, 1),
        )  # fmt: skip
        self.mel_encoder = AlignerMelEncoder(config)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Conv1d)):  # RAD-TTS's ConvNorm init: keys/queries start at unit scale
            init.xavier_uniform_(module.weight, gain=self.config.initializer_gain)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=1.0)
            if module.padding_idx is not None:
                init.zeros_(module.weight[module.padding_idx])
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)

    # ------------------------------------------------------------------------------ helpers
    def aligned_positions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(positions (B, N'), mask (B, N'))``: the input positions that get frames, in order."""
        # from the config, not a non-persistent buffer: those are not restored when loading from the meta device
        unaligned = torch.tensor(self.config.unaligned_token_ids, dtype=input_ids.dtype, device=input_ids.device)
        aligned = attention_mask.bool() & ~torch.isin(input_ids, unaligned)
        counts = aligned.sum(-1)
        width = max(int(counts.max()), 1)
        order = torch.argsort((~aligned).to(torch.int8), dim=-1, stable=True)[:, :width]  # aligned first, in order
        mask = length_mask(counts, width)
        return torch.where(mask, order, 0), mask

    def _keys(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(self.embed_tokens.weight.dtype)
        hidden = self.embed_tokens(input_ids) * mask[..., None]
        for block in self.text_blocks:
            hidden = block(hidden, mask)
        keys = self.key_projection(hidden.transpose(1, 2)).transpose(1, 2)  # (B, N, A)
        return torch.gather(keys, 1, positions[..., None].expand(-1, -1, keys.shape[-1]))

    def _queries(self, features: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        mask = frame_mask.to(features.dtype)[..., None]
        if self.config.mean_normalize_input:
            mean = (features * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp(min=1)
            features = features - mean
        return self.mel_encoder(features * mask)

    # ------------------------------------------------------------------------------ forward
    def forward(
        self,
        input_ids: torch.Tensor,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
        return_loss: bool = True,
        return_dict: bool | None = None,
    ) -> PhonemeAlignerOutput | tuple:
        """Soft attention, the hard durations and (``return_loss``) the training losses."""
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if feature_attention_mask is None:
            feature_attention_mask = torch.ones(input_features.shape[:2], dtype=torch.long, device=input_features.device)
        positions, token_mask = self.aligned_positions(input_ids, attention_mask)
        text_lengths, frame_lengths = token_mask.sum(-1), feature_attention_mask.sum(-1).long()
        short = torch.nonzero(frame_lengths < text_lengths).flatten()
        if short.numel():
            b = int(short[0])
            raise ValueError(f"item {b} has {int(frame_lengths[b])} frames for {int(text_lengths[b])} aligned tokens: "
                             "every token needs at least one frame")  # fmt: skip
        keys = self._keys(input_ids, attention_mask, positions)  # (B, N', A)
        queries = self._queries(input_features, feature_attention_mask)  # (B, T, A)
        distance = (queries.float()[:, :, None, :] - keys.float()[:, None, :, :]).pow(2).sum(-1)  # (B, T, N')
        logits = (-self.config.temperature * distance).masked_fill(~token_mask[:, None, :], float("-inf"))
        log_attention = logits.log_softmax(-1)
        if self.config.use_prior:
            prior = beta_binomial_log_prior(text_lengths, frame_lengths, keys.shape[1], queries.shape[1], self.config.prior_scaling)
            log_attention = log_attention + prior
        frame_mask = feature_attention_mask.bool()
        log_attention = log_attention.masked_fill(~token_mask[:, None, :], float("-inf"))
        soft = log_attention.log_softmax(-1).masked_fill(~frame_mask[..., None], 0.0)  # (B, T, N')
        with torch.no_grad():
            path_mask = (token_mask[:, :, None] & frame_mask[:, None, :]).to(soft.dtype)  # (B, N', T)
            path = maximum_path(soft.detach().transpose(1, 2).masked_fill(path_mask == 0, 0.0), path_mask)  # (B, N', T)
        durations_aligned = path.sum(-1).long()  # (B, N')
        durations = torch.zeros_like(input_ids).scatter_add_(1, positions, durations_aligned * token_mask)
        path_logp = torch.where(path.transpose(1, 2) > 0, soft, 0.0).sum((1, 2))  # (B,) log p of the hard path
        scores = torch.exp(path_logp.detach() / frame_lengths.clamp(min=1))
        loss = forward_loss = bin_loss = None
        if return_loss:
            forward_loss = forward_sum_loss(log_attention, text_lengths, frame_lengths, self.config.blank_logprob)
            bin_loss = -path_logp.sum() / frame_lengths.sum().clamp(min=1)
            loss = forward_loss + self.config.binarization_loss_weight * bin_loss
        if not return_dict:
            return tuple(v for v in (loss, soft, durations, scores) if v is not None)
        return PhonemeAlignerOutput(
            loss=loss, forward_sum_loss=forward_loss, binarization_loss=bin_loss, log_attention=soft,
            durations=durations, alignment_scores=scores, frame_lengths=frame_lengths,
        )  # fmt: skip

    @torch.no_grad()
    def align(
        self,
        input_ids: torch.Tensor,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
    ) -> PhonemeAlignerOutput:
        """Hard durations ``(B, N)`` and alignment scores ``(B,)`` (no losses; eval mode expected)."""
        return self(input_ids, input_features, attention_mask, feature_attention_mask, return_loss=False, return_dict=True)
