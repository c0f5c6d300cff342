"""ECAPA-TDNN audio tower: mask-aware frame features, utterance embeddings and phoneme-segment embeddings.

Architecture (Desplanques et al. 2020, laid out as SpeechBrain's ``ECAPA_TDNN``; our own code):

1. a TDNN block (Conv1d → ReLU → BatchNorm1d) over the log-mel frames;
2. ``len(channels) - 2`` SE-Res2Blocks (1x1 TDNN → Res2Net block with ``res2net_scale`` splits →
   1x1 TDNN → squeeze-excitation, plus a residual connection);
3. multi-layer feature aggregation: a TDNN block over the concatenated SE-Res2Block outputs.
   Its output is ``frame_features``;
4. attentive statistics pooling (with global context: the attention also sees the mean and std
   of the pooled frames), BatchNorm1d and a 1x1 Conv1d to ``embedding_dim``.

**Masking.** ``feature_attention_mask`` must be right-padded (each row is ones then zeros). Every
tensor handed from one layer to the next is zero at padded frames, so a convolution at an item's
last real frames sees zeros past its end — exactly what the same item alone sees from the
convolution's own zero padding. Squeeze-excitation means, pooling statistics, attention softmaxes
and train-mode batch-norm statistics are all taken over real frames only. Hence, in eval mode, an
item's outputs (embeddings, its real frames of ``frame_features``, its segment embeddings) are
the same alone and in any right-padded batch, up to float summation order (≈1e-6, tested at 1e-5).
Padded rows of ``frame_features`` are exactly zero. In train mode padding still never contributes,
but batch norm uses the statistics of the real frames of the whole batch, so items influence
each other as in any batch-norm network. (SpeechBrain pads convolutions by reflection; zero
padding is what makes the invariance exact. With ``mean_normalize_input`` the zero is the
utterance's mean log-mel.)

**Segment embeddings.** ``segment_spans`` rows ``(batch_index, start_frame, end_frame)`` (end
exclusive, inside the item's real frames) pool the frames ``[start - c, end + c)`` of the
already-computed ``frame_features`` (``c = segment_context_frames``, clipped to the item's real
frames) with the same attentive statistics pooling, batch norm and final convolution as the
utterance embedding (shared weights: a segment is embedded as if it were a short utterance;
its global context is its own window's mean and std). All spans are pooled in one vectorised pass
over their frames packed end to end (segment softmax and statistics by ``index_add``), so the
work grows with the number of pooled frames, not with ``N x`` the longest span; spans are
gathered ``segment_chunk_size`` at a time (results do not depend on the chunking, train-mode
batch-norm statistics included). A segment's frame features still carry the convolutions'
receptive field (23 frames with the default kernels and dilations) and the squeeze-excitation's
utterance-wide means.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.ecapa_tdnn import EcapaTdnnConfig
from .outputs import EcapaTdnnOutput
from .remote_code import RemoteCodeSaveMixin

__all__ = [
    "EcapaTdnnModel",
    "EcapaTdnnOutput",
    "EcapaTdnnPreTrainedModel",
    "MaskedBatchNorm1d",
]


def weighted_statistics(
    hidden: torch.Tensor, weights: torch.Tensor, eps: float = 1e-12
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean and standard deviation over the last (time) axis.

    ``hidden`` ``(N, C, T)``; ``weights`` ``(N, 1 or C, T)``, non-negative, summing to 1 over
    time (zero at frames to ignore; ``hidden`` must be finite there). The variance is clamped to
    at least ``eps`` before the square root.

    Example:
        >>> x = torch.tensor([[[1.0, 3.0, 100.0]]])
        >>> mean, std = weighted_statistics(x, torch.tensor([[[0.5, 0.5, 0.0]]]))
        >>> mean, std
        (tensor([[2.]]), tensor([[1.]]))
    """
    mean = (hidden * weights).sum(-1)  # (N, C)
    variance = (weights * (hidden - mean.unsqueeze(-1)).pow(2)).sum(-1)  # (N, C)
    return mean, variance.clamp(min=eps).sqrt()


TOO_FEW_FRAMES = "train-mode batch norm needs at least 2 real frames in the batch"


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose train-mode statistics skip masked frames.

    Parameters, buffers and eval-mode behaviour are those of ``nn.BatchNorm1d``. In train mode with
    a ``mask`` ``(N, T)`` (1 = real frame) the batch mean and variance are taken over the real
    frames only, and the running statistics are updated with them (unbiased variance, like torch).
    The output at masked frames is not meaningful: callers zero or ignore it.

    ``check_frame_count`` (default on) refuses a train-mode batch with fewer than 2 real frames;
    reading that count is a host–device sync, so :class:`EcapaTdnnModel` checks its frame mask once
    per forward and turns the per-layer check off.

    Example:
        >>> norm = MaskedBatchNorm1d(4)
        >>> x = torch.randn(2, 4, 6)
        >>> mask = torch.tensor([[1.0] * 6, [1.0] * 3 + [0.0] * 3])
        >>> y = norm(x, mask)  # statistics of the 9 real frames
        >>> y.shape
        torch.Size([2, 4, 6])
        >>> torch.allclose(norm(x[:1], torch.ones(1, 6)), nn.functional.batch_norm(
        ...     x[:1], None, None, norm.weight, norm.bias, training=True, eps=norm.eps), atol=1e-5)
        True
    """

    check_frame_count: bool = True

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Normalise ``hidden`` ``(N, C, T)``; ``mask`` ``(N, T)`` only matters in train mode."""
        if mask is None or not self.training:
            return super().forward(hidden)
        input_dtype = hidden.dtype
        hidden = hidden.float()  # statistics in fp32 (as torch's batch norm does under autocast)
        frame_mask = mask.unsqueeze(1).to(hidden.dtype)  # (N, 1, T)
        count = frame_mask.sum()
        if self.check_frame_count and count.item() < 2:
            raise ValueError(TOO_FEW_FRAMES)
        mean = (hidden * frame_mask).sum((0, 2)) / count  # (C,)
        centred = hidden - mean[None, :, None]  # (N, C, T)
        variance = (centred.pow(2) * frame_mask).sum((0, 2)) / count  # (C,), biased
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = (
                    self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                )
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(variance.detach() * count / (count - 1), momentum)
        normalised = centred * torch.rsqrt(variance + self.eps)[None, :, None]
        if self.affine:
            normalised = normalised * self.weight[None, :, None] + self.bias[None, :, None]
        return normalised.to(input_dtype)


class EcapaTdnnBlock(nn.Module):
    """Conv1d ("same" zero padding) → ReLU → BatchNorm1d, output zeroed at padded frames.

    Example:
        >>> block = EcapaTdnnBlock(8, 16, kernel_size=3, dilation=2, config=EcapaTdnnConfig.tiny())
        >>> block(torch.randn(2, 8, 10), torch.ones(2, 10)).shape
        torch.Size([2, 16, 10])
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int, config: EcapaTdnnConfig
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels,
            out_channels,
            kernel_size,
            dilation=dilation,
            padding=dilation * (kernel_size - 1) // 2,
        )
        self.activation = nn.ReLU()
        self.norm = MaskedBatchNorm1d(
            out_channels, eps=config.batch_norm_eps, momentum=config.batch_norm_momentum
        )

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``(B, C_in, T)``, zero at padded frames; ``mask`` ``(B, T)`` → ``(B, C_out, T)``."""
        output = self.norm(self.activation(self.conv(hidden)), mask)  # (B, C_out, T)
        return output * mask.unsqueeze(1)


class EcapaRes2NetBlock(nn.Module):
    """Res2Net block: ``scale`` channel splits, split ``i > 0`` goes through a TDNN block after
    adding the previous split's output (hierarchical receptive fields); split 0 passes through.

    Example:
        >>> block = EcapaRes2NetBlock(16, kernel_size=3, dilation=2, config=EcapaTdnnConfig.tiny(res2net_scale=4))
        >>> block(torch.randn(2, 16, 10), torch.ones(2, 10)).shape
        torch.Size([2, 16, 10])
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int, config: EcapaTdnnConfig) -> None:
        super().__init__()
        self.scale = config.res2net_scale
        width = channels // self.scale
        self.blocks = nn.ModuleList(
            EcapaTdnnBlock(width, width, kernel_size, dilation, config) for _ in range(self.scale - 1)
        )

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``(B, C, T)`` → ``(B, C, T)``."""
        splits = hidden.chunk(self.scale, dim=1)  # scale x (B, C / scale, T)
        outputs = [splits[0]]
        previous: torch.Tensor | None = None
        for block, split in zip(self.blocks, splits[1:], strict=True):
            previous = block(split if previous is None else split + previous, mask)
            outputs.append(previous)
        return torch.cat(outputs, dim=1)


class EcapaSqueezeExcitation(nn.Module):
    """Squeeze-excitation: channel gates from the mean over real frames (1x1 convs, ReLU, sigmoid).

    Example:
        >>> se = EcapaSqueezeExcitation(16, 4)
        >>> se(torch.randn(2, 16, 10), torch.ones(2, 10)).shape
        torch.Size([2, 16, 10])
    """

    def __init__(self, channels: int, se_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(channels, se_channels, kernel_size=1)
        self.conv2 = nn.Conv1d(se_channels, channels, kernel_size=1)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``(B, C, T)``, zero at padded frames → ``(B, C, T)``."""
        squeezed = hidden.sum(-1, keepdim=True) / mask.sum(-1)[:, None, None]  # (B, C, 1)
        gates = torch.sigmoid(self.conv2(torch.relu(self.conv1(squeezed))))  # (B, C, 1)
        return hidden * gates


class EcapaSeRes2Block(nn.Module):
    """1x1 TDNN → Res2Net block → 1x1 TDNN → squeeze-excitation, plus the (projected) input.

    Example:
        >>> block = EcapaSeRes2Block(8, 16, kernel_size=3, dilation=2, config=EcapaTdnnConfig.tiny())
        >>> block(torch.randn(2, 8, 10), torch.ones(2, 10)).shape
        torch.Size([2, 16, 10])
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int, config: EcapaTdnnConfig
    ) -> None:
        super().__init__()
        self.tdnn1 = EcapaTdnnBlock(in_channels, out_channels, 1, 1, config)
        self.res2net = EcapaRes2NetBlock(out_channels, kernel_size, dilation, config)
        self.tdnn2 = EcapaTdnnBlock(out_channels, out_channels, 1, 1, config)
        self.se = EcapaSqueezeExcitation(out_channels, config.se_channels)
        self.shortcut = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``(B, C_in, T)``, zero at padded frames → ``(B, C_out, T)``, zero there too."""
        residual = hidden if self.shortcut is None else self.shortcut(hidden) * mask.unsqueeze(1)
        output = self.tdnn2(self.res2net(self.tdnn1(hidden, mask), mask), mask)
        return self.se(output, mask) + residual


class EcapaAttentiveStatisticsPooling(nn.Module):
    """Attentive statistics pooling: per-channel softmax attention over frames, then the weighted
    mean and std ``(N, 2C)``.

    With global context the attention TDNN reads ``[x_t; mean; std]`` (the unweighted statistics of
    the pooled frames). Its 1x1 convolution is applied split, ``W_x x_t + (W_m mean + W_s std + b)``,
    which equals the convolution of the concatenation without building the ``(N, 3C, T)`` tensor.

    Example:
        >>> pool = EcapaAttentiveStatisticsPooling(16, EcapaTdnnConfig.tiny())
        >>> pool(torch.randn(2, 16, 10), torch.ones(2, 10)).shape
        torch.Size([2, 32])
    """

    def __init__(self, channels: int, config: EcapaTdnnConfig) -> None:
        super().__init__()
        self.global_context = config.global_context
        self.eps = config.statistics_eps
        in_channels = 3 * channels if self.global_context else channels
        self.tdnn = EcapaTdnnBlock(in_channels, config.attention_channels, 1, 1, config)
        self.conv = nn.Conv1d(config.attention_channels, channels, kernel_size=1)

    def _preactivation(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention TDNN up to its batch norm: conv (split for global context) and ReLU."""
        conv = self.tdnn.conv
        if not self.global_context:
            return self.tdnn.activation(conv(hidden))
        frame_weights = mask / mask.sum(-1, keepdim=True)  # (N, T)
        mean, std = weighted_statistics(hidden, frame_weights.unsqueeze(1), self.eps)  # (N, C) each
        w_frame, w_mean, w_std = conv.weight.squeeze(-1).split(hidden.shape[1], dim=1)  # (A, C) each
        context = mean @ w_mean.T + std @ w_std.T + conv.bias  # (N, A)
        frame_part = F.conv1d(hidden, w_frame.unsqueeze(-1))  # (N, A, T)
        return self.tdnn.activation(frame_part + context.unsqueeze(-1))

    def _attend(self, hidden: torch.Tensor, attention: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Softmax attention over real frames and the weighted statistics ``(N, 2C)``."""
        logits = self.conv(attention)  # (N, C, T)
        logits = logits.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
        mean, std = weighted_statistics(hidden, logits.softmax(dim=-1), self.eps)  # (N, C) each
        return torch.cat([mean, std], dim=-1)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``(N, C, T)`` (finite everywhere), ``mask`` ``(N, T)`` float → ``(N, 2C)``."""
        attention = torch.tanh(self.tdnn.norm(self._preactivation(hidden, mask), mask))  # (N, A, T)
        return self._attend(hidden, attention, mask)

    def _packed_preactivation(self, slots: torch.Tensor, segment: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Packed twin of :meth:`_preactivation`: ``slots`` ``(S, C)`` frames of ``n`` segments,
        ``segment`` ``(S,)`` their segment ids, ``counts`` ``(n,)`` slots per segment → ``(S, A)``."""
        weight = self.tdnn.conv.weight.squeeze(-1)  # (A, C) or (A, 3C)
        if not self.global_context:
            return self.tdnn.activation(F.linear(slots, weight, self.tdnn.conv.bias))
        mean, std = _segment_statistics(slots, None, segment, counts, self.eps)  # (n, C) each
        w_frame, w_mean, w_std = weight.split(slots.shape[1], dim=1)  # (A, C) each
        context = mean @ w_mean.T + std @ w_std.T + self.tdnn.conv.bias  # (n, A)
        return self.tdnn.activation(torch.addmm(context.index_select(0, segment), slots, w_frame.T))  # (S, A)

    def _packed_attend(
        self, slots: torch.Tensor, attention: torch.Tensor, segment: torch.Tensor, counts: torch.Tensor
    ) -> torch.Tensor:
        """Packed twin of :meth:`_attend`: softmax over each segment's slots → ``(n, 2C)``."""
        logits = F.linear(attention, self.conv.weight.squeeze(-1), self.conv.bias)  # (S, C)
        index = segment[:, None].expand_as(logits)  # (S, C)
        peak = logits.new_full((counts.shape[0], logits.shape[1]), float("-inf"))
        peak = peak.scatter_reduce(0, index, logits.detach(), reduce="amax")  # (n, C); softmax is shift-invariant
        exponentials = (logits - peak.index_select(0, segment)).exp()  # (S, C)
        totals = exponentials.new_zeros(peak.shape).index_add(0, segment, exponentials)  # (n, C)
        weights = exponentials / totals.index_select(0, segment)  # (S, C), sums to 1 per segment and channel
        mean, std = _segment_statistics(slots, weights, segment, counts, self.eps)
        return torch.cat([mean, std], dim=-1)

    def pool_packed(
        self, frames: torch.Tensor, slot_frame: torch.Tensor, counts: torch.Tensor, chunk_size: int
    ) -> torch.Tensor:
        """Pool ``N`` segments stored as packed slots: segment ``n`` owns the next ``counts[n]``
        slots (segment-major), slot ``s`` reads ``frames[slot_frame[s]]`` (``frames`` ``(M, C)``).
        Returns ``(N, 2C)``, equal to :meth:`forward` on each segment's frames alone.

        Work and memory grow with the number of slots, not with ``N x`` the longest segment.
        ``chunk_size`` segments are gathered at a time, in two passes so that train-mode
        batch-norm statistics span all slots (as :meth:`forward`'s masked statistics would).

        Example:
            >>> pool = EcapaAttentiveStatisticsPooling(16, EcapaTdnnConfig.tiny()).eval()
            >>> frames = torch.randn(10, 16)
            >>> packed = pool.pool_packed(frames, torch.tensor([0, 1, 2, 5, 6]), torch.tensor([3, 2]), 8)
            >>> alone = pool(frames[5:7].T[None], torch.ones(1, 2))
            >>> torch.allclose(packed[1:], alone, atol=1e-6)
            True
        """
        ends = counts.cumsum(0)  # (N,)
        starts = ends - counts
        segment = torch.repeat_interleave(torch.arange(counts.shape[0], device=counts.device), counts)  # (S,)
        chunks = []
        for first in range(0, counts.shape[0], chunk_size):
            last = min(first + chunk_size, counts.shape[0])
            chunks.append((slice(first, last), slice(int(starts[first]), int(ends[last - 1])), first))

        whole = frames.index_select(0, slot_frame) if len(chunks) == 1 else None  # (S, C): gather once

        def gather(slot_range: slice) -> torch.Tensor:
            return whole if whole is not None else frames.index_select(0, slot_frame[slot_range])  # (S_c, C)

        preactivation = torch.cat(
            [self._packed_preactivation(gather(sl), segment[sl] - first, counts[sn]) for sn, sl, first in chunks]
        )  # (S, A)
        attention = torch.tanh(self.tdnn.norm(preactivation))  # (S, A); batch norm over slots
        return torch.cat(
            [self._packed_attend(gather(sl), attention[sl], segment[sl] - first, counts[sn]) for sn, sl, first in chunks]
        )


def _segment_statistics(
    slots: torch.Tensor, weights: torch.Tensor | None, segment: torch.Tensor, counts: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-segment weighted mean and std of packed ``slots`` ``(S, C)``; ``weights`` ``(S, C)``
    sum to 1 within each segment (``None``: uniform, ``1 / counts``). Returns ``(n, C)`` twice."""
    if weights is None:
        weights = (1.0 / counts.to(slots.dtype)).index_select(0, segment).unsqueeze(1)  # (S, 1)
    shape = (counts.shape[0], slots.shape[1])
    mean = slots.new_zeros(shape).index_add(0, segment, weights * slots)  # (n, C)
    variance = slots.new_zeros(shape).index_add(0, segment, weights * (slots - mean.index_select(0, segment)).pow(2))
    return mean, variance.clamp(min=eps).sqrt()


class EcapaTdnnPreTrainedModel(RemoteCodeSaveMixin, PreTrainedModel):
    """Weight initialisation and loading for ECAPA-TDNN models.

    Convolutions: weights ``N(0, initializer_range)``, biases 0. Batch norms: weight 1, bias 0,
    running mean 0, running variance 1, no batches tracked. (``transformers.initialization``
    helpers, so weights loaded by ``from_pretrained`` are left alone.)
    """

    config_class = EcapaTdnnConfig  # explicit: annotations are strings under `from __future__`
    base_model_prefix = "ecapa_tdnn"
    main_input_name = "input_features"
    input_modalities = ("audio",)
    supports_gradient_checkpointing = False

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Conv1d):
            init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)


class EcapaTdnnModel(EcapaTdnnPreTrainedModel):
    """ECAPA-TDNN over log-mel frames: utterance embeddings, frame features, segment embeddings.

    Args (forward):
        input_features: ``(B, T, num_mel_bins)`` log-mel frames (``MelFeatureExtractor``).
        feature_attention_mask: ``(B, T)``, 1 = real frame, right-padded; ``None`` = all real.
            ``attention_mask`` (the feature extractor's name) is accepted as an alias.
        segment_spans: ``(N, 3)`` integer rows ``(batch_index, start_frame, end_frame)``, end
            exclusive, within the item's real frames.

    Example:
        >>> model = EcapaTdnnModel(EcapaTdnnConfig.tiny()).eval()
        >>> features = torch.randn(2, 50, 80)
        >>> mask = torch.ones(2, 50, dtype=torch.long)
        >>> mask[1, 30:] = 0
        >>> spans = torch.tensor([[0, 0, 7], [0, 7, 12], [1, 25, 30]])
        >>> out = model(features, feature_attention_mask=mask, segment_spans=spans)
        >>> out.embeddings.shape, out.frame_features.shape, out.segment_embeddings.shape
        (torch.Size([2, 32]), torch.Size([2, 50, 192]), torch.Size([3, 32]))
    """

    def __init__(self, config: EcapaTdnnConfig) -> None:
        super().__init__(config)
        channels, kernels, dilations = config.channels, config.kernel_sizes, config.dilations
        self.blocks = nn.ModuleList(
            [EcapaTdnnBlock(config.num_mel_bins, channels[0], kernels[0], dilations[0], config)]
        )
        for i in range(1, len(channels) - 1):
            self.blocks.append(
                EcapaSeRes2Block(channels[i - 1], channels[i], kernels[i], dilations[i], config)
            )
        self.mfa = EcapaTdnnBlock(sum(channels[1:-1]), channels[-1], kernels[-1], dilations[-1], config)
        self.asp = EcapaAttentiveStatisticsPooling(channels[-1], config)
        self.asp_bn = nn.BatchNorm1d(
            2 * channels[-1], eps=config.batch_norm_eps, momentum=config.batch_norm_momentum
        )
        self.fc = nn.Conv1d(2 * channels[-1], config.embedding_dim, kernel_size=1)
        for module in self.modules():  # the frame count is checked once per forward (encode_frames)
            if isinstance(module, MaskedBatchNorm1d):
                module.check_frame_count = False
        self.post_init()

    # ------------------------------------------------------------------ inputs
    def _frame_mask(self, input_features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Validate the inputs; return the float frame mask ``(B, T)``."""
        if input_features.ndim != 3 or input_features.shape[-1] != self.config.num_mel_bins:
            raise ValueError(
                f"input_features must be (batch, frames, {self.config.num_mel_bins}), got {tuple(input_features.shape)}"
            )
        batch, frames = input_features.shape[:2]
        if mask is None:
            return input_features.new_ones(batch, frames)
        if mask.shape != (batch, frames):
            raise ValueError(f"feature_attention_mask must be {(batch, frames)}, got {tuple(mask.shape)}")
        real = mask.bool()
        lengths = real.sum(-1)  # (B,)
        if (lengths == 0).any():
            raise ValueError(f"items without real frames: {torch.nonzero(lengths == 0).flatten().tolist()}")
        if not torch.equal(real, torch.arange(frames, device=mask.device) < lengths[:, None]):
            raise ValueError("feature_attention_mask must be right-padded (ones, then zeros, in every row)")
        return real.to(input_features.dtype)

    def _segment_slots(
        self, lengths: torch.Tensor, frames_per_item: int, segment_spans: torch.Tensor, context_frames: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Validate spans; return the packed windows ``[start - c, end + c)`` clipped to
        ``[0, length)``: ``slot_frame`` ``(S,)`` indices into the flattened ``(B * T)`` frames and
        ``counts`` ``(N,)`` slots per span."""
        if segment_spans.ndim != 2 or segment_spans.shape[-1] != 3:
            raise ValueError(f"segment_spans must be (N, 3) rows (batch_index, start, end), got {tuple(segment_spans.shape)}")
        if segment_spans.is_floating_point() or segment_spans.is_complex() or segment_spans.dtype == torch.bool:
            raise ValueError(f"segment_spans must hold integers, got {segment_spans.dtype}")
        spans = segment_spans.to(device=lengths.device, dtype=torch.long)
        batch_index, start, end = spans.unbind(-1)  # (N,) each

        def check(bad: torch.Tensor, what: str) -> None:
            if bad.any():
                rows = torch.nonzero(bad).flatten()[:5].tolist()
                raise ValueError(f"segment_spans {what}: rows {rows}, e.g. {spans[rows[0]].tolist()}")

        check((batch_index < 0) | (batch_index >= lengths.shape[0]), f"batch index outside [0, {lengths.shape[0]})")
        check(start < 0, "start before frame 0")
        check(end <= start, "empty span (end <= start)")
        length = lengths[batch_index]  # (N,)
        check(end > length, "end past the item's real frames")

        low = (start - context_frames).clamp(min=0)  # (N,)
        counts = torch.minimum(end + context_frames, length) - low  # (N,), >= 1
        first_slot = counts.cumsum(0) - counts  # (N,)
        segment = torch.repeat_interleave(torch.arange(spans.shape[0], device=spans.device), counts)  # (S,)
        offset = torch.arange(segment.shape[0], device=spans.device) - first_slot[segment]  # (S,)
        slot_frame = (batch_index * frames_per_item + low)[segment] + offset  # (S,)
        return slot_frame, counts

    # ------------------------------------------------------------------ stages
    def encode_frames(self, input_features: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """Frame features ``(B, C, T)`` (channels first, zero at padded frames) from log-mels
        ``(B, T, n_mels)`` and a float frame mask ``(B, T)``."""
        if self.training and frame_mask.sum() < 2:  # one sync here instead of one per batch norm
            raise ValueError(TOO_FEW_FRAMES)
        mask = frame_mask.unsqueeze(1)  # (B, 1, T)
        hidden = torch.where(mask > 0, input_features.transpose(1, 2), 0.0)  # (B, n_mels, T)
        if self.config.mean_normalize_input:
            hidden = (hidden - hidden.sum(-1, keepdim=True) / mask.sum(-1, keepdim=True)) * mask
        hidden = self.blocks[0](hidden, frame_mask)  # (B, C0, T)
        block_outputs = []
        for block in self.blocks[1:]:
            hidden = block(hidden, frame_mask)  # (B, Ci, T)
            block_outputs.append(hidden)
        return self.mfa(torch.cat(block_outputs, dim=1), frame_mask)  # (B, C, T)

    def _embed(self, pooled: torch.Tensor) -> torch.Tensor:
        """Pooled statistics ``(N, 2C)`` → embeddings ``(N, embedding_dim)``.

        A single row in train mode has no batch variance (``nn.BatchNorm1d`` refuses it; a
        streamed batch can come from one utterance): it is normalised with the running statistics.
        """
        norm = self.asp_bn
        if self.training and pooled.shape[0] < 2:
            normalised = F.batch_norm(
                pooled, norm.running_mean, norm.running_var, norm.weight, norm.bias, training=False, eps=norm.eps
            )
        else:
            normalised = norm(pooled)
        return self.fc(normalised.unsqueeze(-1)).squeeze(-1)

    def pool_frames(
        self, frame_features: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Utterance embeddings ``(B, embedding_dim)`` from ``frame_features`` ``(B, T, C)``.

        Example:
            >>> model = EcapaTdnnModel(EcapaTdnnConfig.tiny()).eval()
            >>> model.pool_frames(torch.randn(3, 20, 192)).shape
            torch.Size([3, 32])
        """
        frames = frame_features.transpose(1, 2)  # (B, C, T)
        if attention_mask is None:
            mask = frames.new_ones(frames.shape[0], frames.shape[-1])
        else:
            mask = attention_mask.to(frames.dtype)
        return self._embed(self.asp(frames, mask))

    def pool_segments(
        self,
        frame_features: torch.Tensor,
        segment_spans: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        context_frames: int | None = None,
    ) -> torch.Tensor:
        """Segment embeddings ``(N, embedding_dim)`` from ``frame_features`` ``(B, T, C)`` and
        ``segment_spans`` ``(N, 3)`` (see the class docstring); ``context_frames`` defaults to
        ``config.segment_context_frames``.

        Example:
            >>> model = EcapaTdnnModel(EcapaTdnnConfig.tiny()).eval()
            >>> frames = torch.randn(2, 20, 192)
            >>> model.pool_segments(frames, torch.tensor([[0, 0, 5], [1, 3, 9]])).shape
            torch.Size([2, 32])
        """
        batch, length, _ = frame_features.shape
        if attention_mask is None:
            lengths = torch.full((batch,), length, device=frame_features.device)
        else:
            lengths = attention_mask.bool().sum(-1)
        context = self.config.segment_context_frames if context_frames is None else context_frames
        if context < 0:
            raise ValueError(f"context_frames must be >= 0, got {context}")
        if segment_spans.ndim == 2 and segment_spans.shape[0] == 0:
            return frame_features.new_zeros(0, self.config.embedding_dim)
        slot_frame, counts = self._segment_slots(lengths, length, segment_spans, context)  # (S,), (N,)
        flat_frames = frame_features.reshape(batch * length, -1)  # (B * T, C)
        pooled = self.asp.pool_packed(flat_frames, slot_frame, counts, self.config.segment_chunk_size)  # (N, 2C)
        return self._embed(pooled)

    def forward(
        self,
        input_features: torch.Tensor,
        feature_attention_mask: torch.Tensor | None = None,
        segment_spans: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> EcapaTdnnOutput | tuple[torch.Tensor, ...]:
        """Embed utterances (and segments when ``segment_spans`` is given); see the class docstring."""
        if attention_mask is not None:
            if feature_attention_mask is not None and not torch.equal(
                attention_mask.bool(), feature_attention_mask.bool()
            ):
                raise ValueError("attention_mask and feature_attention_mask disagree; pass one of them")
            feature_attention_mask = attention_mask
        frame_mask = self._frame_mask(input_features, feature_attention_mask)  # (B, T)
        frames = self.encode_frames(input_features, frame_mask)  # (B, C, T)
        embeddings = self._embed(self.asp(frames, frame_mask))  # (B, E)
        frame_features = frames.transpose(1, 2)  # (B, T, C)
        segment_embeddings = None
        if segment_spans is not None:
            segment_embeddings = self.pool_segments(frame_features, segment_spans, frame_mask)
        output = EcapaTdnnOutput(
            embeddings=embeddings, frame_features=frame_features, segment_embeddings=segment_embeddings
        )
        use_dict = return_dict if return_dict is not None else self.config.return_dict
        return output if use_dict else output.to_tuple()
