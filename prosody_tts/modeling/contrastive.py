"""Contrastive (SigLIP) model: phoneme occurrences in text vs. their audio segments.

Data flow (B = batch, P = phoneme positions, N = occurrences, H = text width, E = ECAPA size,
D = ``projection_dim``)::

    log-mels (B, T, 80) ─ ECAPA-TDNN ─┬─ utterance embeddings (B, E) ──(speaker_source="audio")──┐
                                      └─ segment_spans (N, 3) → segment embeddings (N, E)         │
                                           ─ audio_projection ─► audio_embeds (N, D)              │
    phoneme/BPE ids ─ DualStreamModel(speaker condition ◄─────────────────────────────────────────┘)
                   ─ last_hidden_state (B, P, H)[occurrence_positions] (N, H)
                   ─ text_projection ─► text_embeds (N, D)

    logits_per_text = exp(t') * cos(text_i, audio_j) + b     (N, N); loss = SigLIP over the pairs.

Occurrence ``i`` is the pair (``occurrence_positions[i]``, ``segment_spans[i]``): the same phoneme
of the same item, seen as a text position and as an audio frame span.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.contrastive import ProsodyContrastiveConfig
from .dual_stream import DualStreamForMaskedLM, DualStreamModel
from .ecapa_tdnn import EcapaTdnnModel
from .losses import distributed_siglip_loss, siglip_logits, siglip_loss
from .outputs import ProsodyContrastiveOutput
from .remote_code import RemoteCodeSaveMixin

__all__ = [
    "ProsodyContrastiveModel",
    "ProsodyContrastiveOutput",
    "ProsodyContrastivePreTrainedModel",
    "Stage1LoadResult",
    "load_stage1_weights",
]


class ProsodyContrastivePreTrainedModel(RemoteCodeSaveMixin, PreTrainedModel):
    """Initialisation of the projections and of the SigLIP scale/bias.

    The two towers keep their own ``_init_weights`` (v5 dispatches nested ``PreTrainedModel``
    children to theirs). ``logit_scale`` / ``logit_bias`` are set here with
    ``transformers.initialization`` helpers: ``post_init()`` sets them from the config, and
    ``from_pretrained`` leaves loaded values alone.
    """

    config_class = ProsodyContrastiveConfig  # explicit: annotations are strings under `from __future__`
    config: ProsodyContrastiveConfig
    base_model_prefix = "prosody_contrastive"
    main_input_name = "phoneme_input_ids"
    supports_gradient_checkpointing = False
    _supports_sdpa = True
    _no_split_modules = ["AdaLNZeroBlock", "TransformerBlock", "EcapaSeRes2Block"]

    def _init_weights(self, module: nn.Module) -> None:
        """Normal(0, initializer_range) projections (zero bias); scale and bias from the config."""
        super()._init_weights(module)
        if isinstance(module, ProsodyContrastiveModel):
            init.constant_(module.logit_scale, self.config.logit_scale_init_value)
            init.constant_(module.logit_bias, self.config.logit_bias_init_value)


def _distributed() -> bool:
    """Whether torch.distributed is initialised (world size may still be 1)."""
    return dist.is_available() and dist.is_initialized()


def _check_integer(name: str, tensor: torch.Tensor, columns: int) -> None:
    if tensor.dim() != 2 or tensor.shape[1] != columns:
        raise ValueError(f"{name} must be (N, {columns}), got shape {tuple(tensor.shape)}")
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers, got {tensor.dtype}")


class ProsodyContrastiveModel(ProsodyContrastivePreTrainedModel):
    """Dual-stream text tower + ECAPA-TDNN audio tower, projected to one space, SigLIP loss.

    Example:
        >>> model = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny()).eval()
        >>> ids = torch.tensor([[2, 10, 11, 3]])
        >>> features = torch.randn(1, 40, 80)
        >>> positions = torch.tensor([[0, 1], [0, 2]])  # (batch_index, phoneme position incl. <s>)
        >>> spans = torch.tensor([[0, 0, 20], [0, 20, 40]])  # (batch_index, start_frame, end_frame)
        >>> out = model(ids, input_features=features, occurrence_positions=positions, segment_spans=spans)
        >>> out.logits_per_text.shape, out.text_embeds.shape, out.loss.shape
        (torch.Size([2, 2]), torch.Size([2, 32]), torch.Size([]))
    """

    def __init__(self, config: ProsodyContrastiveConfig) -> None:
        super().__init__(config)
        text_config, audio_config = config.text_config, config.audio_config
        self.text_model = DualStreamModel(text_config)
        self.audio_model = EcapaTdnnModel(audio_config)
        self.text_projection = nn.Linear(text_config.hidden_size, config.projection_dim)  # H -> D
        self.audio_projection = nn.Linear(audio_config.embedding_dim, config.projection_dim)  # E -> D
        self.logit_scale = nn.Parameter(torch.empty(1))  # (1,) log temperature t', set in _init_weights
        self.logit_bias = nn.Parameter(torch.empty(1))  # (1,) bias b, set in _init_weights
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.text_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.text_model.set_input_embeddings(value)

    # ------------------------------------------------------------------ validation
    def _speaker_inputs(
        self,
        speaker_ids: torch.Tensor | None,
        speaker_embeds: torch.Tensor | None,
        utterance_embeds: torch.Tensor | None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(speaker_ids, speaker_embeds) for the text tower according to ``config.speaker_source``.

        ``utterance_embeds`` (B, E): the ECAPA utterance embeddings, when the audio ran.
        """
        source = self.config.speaker_source
        if source == "ids":
            if speaker_embeds is not None:
                raise ValueError("speaker_source='ids' takes speaker_ids; speaker_embeds was given")
            return speaker_ids, None
        if source == "none":
            if speaker_ids is not None or speaker_embeds is not None:
                raise ValueError("speaker_source='none' uses the null condition; drop speaker_ids / speaker_embeds")
            return None, None
        # "audio"
        if speaker_ids is not None:
            raise ValueError("speaker_source='audio' takes the ECAPA utterance embedding; speaker_ids was given")
        if speaker_embeds is not None:
            if utterance_embeds is not None:
                raise ValueError(
                    "speaker_source='audio' computes speaker_embeds from input_features; do not pass both"
                )
            return None, speaker_embeds
        if utterance_embeds is None:
            raise ValueError("speaker_source='audio' needs input_features (or precomputed speaker_embeds)")
        if self.config.detach_speaker_embedding:
            utterance_embeds = utterance_embeds.detach()
        return None, utterance_embeds

    @staticmethod
    def _check_positions(
        occurrence_positions: torch.Tensor,
        phoneme_input_ids: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """Validate (N, 2) rows (batch_index, phoneme position incl. ``<s>``); return them as long."""
        _check_integer("occurrence_positions", occurrence_positions, 2)
        positions = occurrence_positions.to(device=phoneme_input_ids.device, dtype=torch.long)
        batch, length = phoneme_input_ids.shape
        bad = (positions[:, 0] < 0) | (positions[:, 0] >= batch) | (positions[:, 1] < 0) | (positions[:, 1] >= length)
        if bool(bad.any()):
            row = int(torch.nonzero(bad)[0])
            raise ValueError(
                f"occurrence_positions out of range for phoneme_input_ids of shape {(batch, length)}: "
                f"{int(bad.sum())} rows, e.g. row {row} = {positions[row].tolist()}"
            )
        if phoneme_attention_mask is not None and positions.shape[0]:
            real = phoneme_attention_mask.to(positions.device).bool()[positions[:, 0], positions[:, 1]]  # (N,)
            if not bool(real.all()):
                row = int(torch.nonzero(~real)[0])
                raise ValueError(
                    f"occurrence_positions point at padding: row {row} = {positions[row].tolist()}"
                )
        return positions

    # ------------------------------------------------------------------ features
    def get_text_features(
        self,
        phoneme_input_ids: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None = None,
        phoneme_word_ids: torch.Tensor | None = None,
        bpe_input_ids: torch.Tensor | None = None,
        bpe_attention_mask: torch.Tensor | None = None,
        bpe_word_ids: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        occurrence_positions: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Projected (not normalised) text embeddings: (N, D) at ``occurrence_positions``, else (B, P, D).

        With ``speaker_source="audio"`` pass ``input_features`` (the ECAPA utterance embedding is
        computed) or a precomputed ``speaker_embeds`` (B, E).
        """
        utterance = None
        if self.config.speaker_source == "audio" and input_features is not None:
            utterance = self.audio_model(input_features, feature_attention_mask, return_dict=True).embeddings
        speaker_ids, speaker_embeds = self._speaker_inputs(speaker_ids, speaker_embeds, utterance)
        states = self.text_model(
            phoneme_input_ids,
            phoneme_attention_mask,
            phoneme_word_ids,
            bpe_input_ids,
            bpe_attention_mask,
            bpe_word_ids,
            speaker_ids,
            speaker_embeds,
            return_dict=True,
        ).last_hidden_state  # (B, P, H)
        if occurrence_positions is None:
            return self.text_projection(states)  # (B, P, D)
        positions = self._check_positions(occurrence_positions, phoneme_input_ids, phoneme_attention_mask)
        return self.text_projection(states[positions[:, 0], positions[:, 1]])  # (N, D)

    def get_audio_features(
        self,
        input_features: torch.Tensor,
        segment_spans: torch.Tensor,
        feature_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Projected (not normalised) ECAPA segment embeddings (N, D), one per ``segment_spans`` row."""
        segments = self.audio_model(
            input_features, feature_attention_mask, segment_spans=segment_spans, return_dict=True
        ).segment_embeddings  # (N, E)
        return self.audio_projection(segments)  # (N, D)

    def contrastive_loss(self, text_embeds: torch.Tensor, audio_embeds: torch.Tensor) -> torch.Tensor:
        """SigLIP loss of paired (N, D) rows; negatives from all ranks when distributed and configured."""
        chunk = self.config.loss_chunk_size
        if self.config.gather_negatives_across_ranks and _distributed():
            return distributed_siglip_loss(text_embeds, audio_embeds, self.logit_scale, self.logit_bias, chunk)
        return siglip_loss(text_embeds, audio_embeds, self.logit_scale, self.logit_bias, chunk)

    # ------------------------------------------------------------------ forward
    def _check_pairs(
        self,
        phoneme_input_ids: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None,
        input_features: torch.Tensor | None,
        occurrence_positions: torch.Tensor | None,
        segment_spans: torch.Tensor | None,
    ) -> torch.Tensor:
        """Refuse missing or inconsistent pair inputs with a message naming the problem; the checked positions."""
        if input_features is None or segment_spans is None or occurrence_positions is None:
            missing = [
                name
                for name, value in (
                    ("input_features", input_features),
                    ("segment_spans", segment_spans),
                    ("occurrence_positions", occurrence_positions),
                )
                if value is None
            ]
            raise ValueError(
                f"the contrastive model needs input_features, occurrence_positions and segment_spans; missing: {missing} "
                "(use get_text_features / get_audio_features for one side)"
            )
        positions = self._check_positions(occurrence_positions, phoneme_input_ids, phoneme_attention_mask)
        _check_integer("segment_spans", segment_spans, 3)
        if positions.shape[0] != segment_spans.shape[0]:
            raise ValueError(
                f"occurrence_positions has {positions.shape[0]} rows but segment_spans has {segment_spans.shape[0]}; "
                "they must be paired row by row"
            )
        if input_features.dim() != 3 or input_features.shape[0] != phoneme_input_ids.shape[0]:
            raise ValueError(
                f"input_features must be (B, T, mels) with B = {phoneme_input_ids.shape[0]} (the text batch), "
                f"got shape {tuple(input_features.shape)}"
            )
        mismatched = positions[:, 0] != segment_spans[:, 0].to(positions)
        if bool(mismatched.any()):
            row = int(torch.nonzero(mismatched)[0])
            raise ValueError(
                f"occurrence_positions and segment_spans disagree on the batch index: row {row} = "
                f"{positions[row].tolist()} vs {segment_spans[row].tolist()}"
            )
        return positions

    def forward(
        self,
        phoneme_input_ids: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None = None,
        phoneme_word_ids: torch.Tensor | None = None,
        bpe_input_ids: torch.Tensor | None = None,
        bpe_attention_mask: torch.Tensor | None = None,
        bpe_word_ids: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
        occurrence_positions: torch.Tensor | None = None,
        segment_spans: torch.Tensor | None = None,
        return_loss: bool = True,
        return_dict: bool | None = None,
    ) -> ProsodyContrastiveOutput | tuple:
        """Embed N paired occurrences on both sides, score them (N, N) and compute the SigLIP loss.

        Args:
            phoneme_input_ids ... speaker_embeds: text inputs as in :meth:`DualStreamModel.forward`
                (speakers according to ``config.speaker_source``).
            input_features: (B, T, num_mel_bins) log-mels; ``feature_attention_mask`` (B, T) right-padded.
            occurrence_positions: (N, 2) rows (batch_index, phoneme position in the phoneme stream
                *including* the leading ``<s>``, i.e. the processor's index).
            segment_spans: (N, 3) rows (batch_index, start_frame, end_frame), row i pairs with
                ``occurrence_positions[i]`` (same batch index).
            return_loss: compute the loss (default, so ``Trainer`` sees ``can_return_loss``).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        positions = self._check_pairs(
            phoneme_input_ids, phoneme_attention_mask, input_features, occurrence_positions, segment_spans
        )

        audio_output = self.audio_model(
            input_features, feature_attention_mask, segment_spans=segment_spans, return_dict=True
        )
        utterance = audio_output.embeddings if self.config.speaker_source == "audio" else None  # (B, E)
        speaker_ids, speaker_embeds = self._speaker_inputs(speaker_ids, speaker_embeds, utterance)
        text_output = self.text_model(
            phoneme_input_ids,
            phoneme_attention_mask,
            phoneme_word_ids,
            bpe_input_ids,
            bpe_attention_mask,
            bpe_word_ids,
            speaker_ids,
            speaker_embeds,
            return_dict=True,
        )
        text_states = text_output.last_hidden_state[positions[:, 0], positions[:, 1]]  # (N, H)
        text_embeds = self.text_projection(text_states)  # (N, D)
        audio_embeds = self.audio_projection(audio_output.segment_embeddings)  # (N, D)

        logits_per_text = siglip_logits(text_embeds, audio_embeds, self.logit_scale, self.logit_bias)  # (N, N)
        loss = self.contrastive_loss(text_embeds, audio_embeds) if return_loss else None
        output = ProsodyContrastiveOutput(
            loss=loss,
            logits_per_text=logits_per_text,
            logits_per_audio=logits_per_text.T,  # (N, N)
            text_embeds=F.normalize(text_embeds, dim=-1),
            audio_embeds=F.normalize(audio_embeds, dim=-1),
            text_model_output=text_output,
            audio_model_output=audio_output,
        )
        return output if return_dict else output.to_tuple()


# ---------------------------------------------------------------------------------------- stage 1 → 2


@dataclass
class Stage1LoadResult:
    """What :func:`load_stage1_weights` did (keys relative to ``model.text_model``).

    Args:
        loaded_keys: copied from the checkpoint.
        missing_keys: in ``text_model`` but not in the checkpoint (left as initialised).
        unexpected_keys: encoder keys of the checkpoint that ``text_model`` lacks (e.g. a speaker
            table when this config has ``num_speakers=0``); not loaded.
        ignored_keys: checkpoint keys outside the encoder (the MLM heads); not loaded.
    """

    loaded_keys: list[str] = field(default_factory=list)
    missing_keys: list[str] = field(default_factory=list)
    unexpected_keys: list[str] = field(default_factory=list)
    ignored_keys: list[str] = field(default_factory=list)


def load_stage1_weights(
    model: ProsodyContrastiveModel,
    path_or_mlm_model: str | os.PathLike | DualStreamForMaskedLM | DualStreamModel,
) -> Stage1LoadResult:
    """Copy a stage-1 ``DualStreamForMaskedLM`` encoder into ``model.text_model``.

    Args:
        model: the contrastive model to fill (in place).
        path_or_mlm_model: a ``save_pretrained`` directory of a ``DualStreamForMaskedLM``, or an
            instance (a bare ``DualStreamModel`` works too). Its ``base_model_prefix`` is stripped;
            the MLM heads are ignored.

    Returns:
        :class:`Stage1LoadResult` with loaded / missing / unexpected / ignored keys.

    Raises:
        ValueError: a checkpoint tensor whose shape differs from the model's (different sizes).
    """
    if isinstance(path_or_mlm_model, (str, os.PathLike)):
        source_model: PreTrainedModel = DualStreamForMaskedLM.from_pretrained(path_or_mlm_model)
    elif isinstance(path_or_mlm_model, (DualStreamForMaskedLM, DualStreamModel)):
        source_model = path_or_mlm_model
    else:
        raise TypeError(
            "path_or_mlm_model must be a directory or a DualStreamForMaskedLM / DualStreamModel, "
            f"got {type(path_or_mlm_model).__name__}"
        )
    state = source_model.state_dict()
    prefix = "" if isinstance(source_model, DualStreamModel) else source_model.base_model_prefix + "."
    result = Stage1LoadResult()
    encoder_state: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if key.startswith(prefix):
            encoder_state[key[len(prefix) :]] = tensor
        else:
            result.ignored_keys.append(key)
    target = model.text_model.state_dict()
    mismatches = [
        f"{key}: checkpoint {tuple(tensor.shape)} vs model {tuple(target[key].shape)}"
        for key, tensor in encoder_state.items()
        if key in target and tensor.shape != target[key].shape
    ]
    if mismatches:
        raise ValueError(
            "stage-1 checkpoint does not fit text_config (shape mismatches): " + "; ".join(mismatches[:5])
            + (f" (+{len(mismatches) - 5} more)" if len(mismatches) > 5 else "")
        )
    with torch.no_grad():
        for key, tensor in encoder_state.items():
            if key in target:
                target[key].copy_(tensor)
                result.loaded_keys.append(key)
            else:
                result.unexpected_keys.append(key)
    result.missing_keys = [key for key in target if key not in encoder_state]
    return result
