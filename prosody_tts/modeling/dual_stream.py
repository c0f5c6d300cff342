"""The dual-stream (phoneme + BPE) speaker-conditioned text encoder and its MLM model (DESIGN.md §2).

Data flow (B = batch, P = phonemes, T = BPE tokens, H = hidden size, C = speaker condition size)::

    speaker_ids | speaker_embeds | nothing ──► condition (B, C)
    phoneme ids ─ embed + positions ─ phoneme_layers × AdaLN-Zero(condition) ─ phoneme_norm ─┐ (B, P, H)
    BPE ids ───── embed + positions ─ bpe_layers × plain block ─ bpe_norm ───────────────────┤ (B, T, H)
                                            mean-pool per word, copy to the word's phonemes,  │
                                            Linear projection, add (WordFusion) ◄─────────────┘
                  ─ fusion_layers × AdaLN-Zero(condition) ─ final_norm ─► last_hidden_state (B, P, H)

Without BPE inputs nothing is added: the fusion blocks run on the phoneme stream alone.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.dual_stream import DualStreamConfig
from ..constants import IGNORE_INDEX, NO_SPEAKER, NO_WORD
from .layers import (
    AdaLNZeroBlock,
    MaskedLMHead,
    RotaryEmbedding,
    SinusoidalPositions,
    TransformerBlock,
    WordFusion,
    ZeroInitLinear,
)
from .losses import masked_lm_loss
from .outputs import DualStreamMaskedLMOutput, DualStreamModelOutput
from .remote_code import RemoteCodeSaveMixin
from .speaker import SpeakerConditioning

__all__ = ["DualStreamForMaskedLM", "DualStreamModel", "DualStreamPreTrainedModel"]


class DualStreamPreTrainedModel(RemoteCodeSaveMixin, PreTrainedModel):
    """Weight initialisation and shared settings of the dual-stream models.

    ``_init_weights`` runs inside ``post_init()`` and for weights missing from a checkpoint. It uses
    ``transformers.initialization`` helpers, which skip tensors a checkpoint already filled, so a
    loaded model keeps its weights; the zero-init of AdaLN-Zero modulations (and of the fusion
    projection) must live here, because ``post_init`` re-initialises every Linear afterwards.
    """

    config_class = DualStreamConfig
    config: DualStreamConfig
    base_model_prefix = "dual_stream"
    main_input_name = "phoneme_input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _no_split_modules = ["AdaLNZeroBlock", "TransformerBlock"]

    def _init_weights(self, module: nn.Module) -> None:
        """Normal(0, initializer_range) for Linear/Embedding (pad row zero), unit LayerNorms, then zero-inits."""
        super()._init_weights(module)
        # v5 calls this only for modules owning parameters: the zero Linears are matched on their own class
        if isinstance(module, ZeroInitLinear):
            init.zeros_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, SpeakerConditioning):
            init.normal_(module.null_embedding, mean=0.0, std=self.config.initializer_range)


def _check_ids(name: str, ids: torch.Tensor, vocab_size: int) -> None:
    if ids.dim() != 2:
        raise ValueError(f"{name} must be (batch, length), got shape {tuple(ids.shape)}")
    if ids.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{name} must hold integer ids, got {ids.dtype}")
    if ids.shape[1] == 0:
        raise ValueError(f"{name} is empty (length 0)")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(
            f"{name} holds ids outside [0, {vocab_size}) (min {int(ids.min())}, max {int(ids.max())}); "
            "does the config's vocabulary size match the tokenizer?"
        )


def _check_same_shape(name: str, tensor: torch.Tensor | None, ids_name: str, ids: torch.Tensor) -> None:
    if tensor is not None and tensor.shape != ids.shape:
        raise ValueError(f"{name} has shape {tuple(tensor.shape)} but {ids_name} has {tuple(ids.shape)}")


def _check_word_ids(name: str, word_ids: torch.Tensor, bound: int) -> None:
    if word_ids.numel() and (int(word_ids.min()) < NO_WORD or int(word_ids.max()) >= bound):
        raise ValueError(
            f"{name} must be -1 or a word index in [0, {bound}) (a word has at least one token); "
            f"got min {int(word_ids.min())}, max {int(word_ids.max())}"
        )


class DualStreamModel(DualStreamPreTrainedModel):
    """Phoneme stream (AdaLN-Zero) + BPE stream (plain) fused per word → one vector per phoneme.

    Example:
        >>> config = DualStreamConfig.tiny(num_speakers=4)
        >>> model = DualStreamModel(config).eval()
        >>> ids = torch.tensor([[2, 10, 11, 3]])
        >>> out = model(ids, phoneme_word_ids=torch.tensor([[-1, 0, 0, -1]]),
        ...             bpe_input_ids=torch.tensor([[2, 50, 3]]), bpe_word_ids=torch.tensor([[-1, 0, -1]]),
        ...             speaker_ids=torch.tensor([1]))
        >>> out.last_hidden_state.shape
        torch.Size([1, 4, 64])
    """

    def __init__(self, config: DualStreamConfig, add_fusion: bool = True) -> None:
        super().__init__(config)
        hidden = config.hidden_size
        self.add_fusion = add_fusion
        self.phoneme_embeddings = nn.Embedding(
            config.phoneme_vocab_size, hidden, padding_idx=config.pad_token_id
        )
        self.bpe_embeddings = nn.Embedding(config.bpe_vocab_size, hidden, padding_idx=config.pad_token_id)
        if config.position_embedding_type == "rotary":
            self.positions = RotaryEmbedding(hidden // config.num_attention_heads, config.position_base)
        else:
            self.positions = SinusoidalPositions(hidden, config.position_base)
        self.embedding_dropout = nn.Dropout(config.hidden_dropout)
        self.speaker = SpeakerConditioning(config)

        def adaln_block() -> AdaLNZeroBlock:
            return AdaLNZeroBlock(
                hidden,
                config.num_attention_heads,
                config.intermediate_size,
                config.speaker_embedding_dim,
                config.hidden_act,
                config.hidden_dropout,
                config.attention_dropout,
                config.layer_norm_eps,
            )

        self.phoneme_layers = nn.ModuleList(adaln_block() for _ in range(config.phoneme_layers))
        self.phoneme_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.bpe_layers = nn.ModuleList(
            TransformerBlock(
                hidden,
                config.num_attention_heads,
                config.intermediate_size,
                config.hidden_act,
                config.hidden_dropout,
                config.attention_dropout,
                config.layer_norm_eps,
            )
            for _ in range(config.bpe_layers)
        )
        self.bpe_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        # Without fusion (the stage-1 MLM encoder, whose heads read each stream before fusion) the
        # fusion weights are not built at all, so every parameter trains (DDP needs no
        # find_unused_parameters) and last_hidden_state is the phoneme stream's output.
        self.fusion = WordFusion(hidden, zero_init=config.zero_init_fusion) if add_fusion else None
        self.fusion_layers = nn.ModuleList(adaln_block() for _ in range(config.fusion_layers if add_fusion else 0))
        self.final_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps) if add_fusion else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.phoneme_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.phoneme_embeddings = value

    # ------------------------------------------------------------------ validation
    def check_inputs(
        self,
        phoneme_input_ids: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None = None,
        phoneme_word_ids: torch.Tensor | None = None,
        bpe_input_ids: torch.Tensor | None = None,
        bpe_attention_mask: torch.Tensor | None = None,
        bpe_word_ids: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        need_word_ids: bool = True,
    ) -> None:
        """Raise a clear error for inconsistent inputs (shapes, id ranges, speaker arguments).

        ``need_word_ids``: whether BPE inputs must come with the word ids of both streams (fusion needs them).
        """
        config = self.config
        _check_ids("phoneme_input_ids", phoneme_input_ids, config.phoneme_vocab_size)
        batch = phoneme_input_ids.shape[0]
        lengths = [("phoneme_input_ids", phoneme_input_ids.shape[1])]
        _check_same_shape(
            "phoneme_attention_mask", phoneme_attention_mask, "phoneme_input_ids", phoneme_input_ids
        )
        _check_same_shape("phoneme_word_ids", phoneme_word_ids, "phoneme_input_ids", phoneme_input_ids)
        if bpe_input_ids is None:
            for name, value in (("bpe_attention_mask", bpe_attention_mask), ("bpe_word_ids", bpe_word_ids)):
                if value is not None:
                    raise ValueError(f"{name} was given without bpe_input_ids")
        else:
            _check_ids("bpe_input_ids", bpe_input_ids, config.bpe_vocab_size)
            if bpe_input_ids.shape[0] != batch:
                raise ValueError(
                    f"bpe_input_ids has batch size {bpe_input_ids.shape[0]} but phoneme_input_ids has {batch}"
                )
            lengths.append(("bpe_input_ids", bpe_input_ids.shape[1]))
            _check_same_shape("bpe_attention_mask", bpe_attention_mask, "bpe_input_ids", bpe_input_ids)
            _check_same_shape("bpe_word_ids", bpe_word_ids, "bpe_input_ids", bpe_input_ids)
            if need_word_ids and (phoneme_word_ids is None or bpe_word_ids is None):
                raise ValueError(
                    "fusing the BPE stream into the phonemes needs both phoneme_word_ids and bpe_word_ids "
                    "(the processor returns them)"
                )
            if phoneme_word_ids is not None and bpe_word_ids is not None:
                bound = max(phoneme_input_ids.shape[1], bpe_input_ids.shape[1])
                _check_word_ids("phoneme_word_ids", phoneme_word_ids, bound)
                _check_word_ids("bpe_word_ids", bpe_word_ids, bound)
        for name, length in lengths:
            if length > config.max_position_embeddings:
                raise ValueError(
                    f"{name} has length {length} > max_position_embeddings ({config.max_position_embeddings})"
                )
        for name, mask in (
            ("phoneme_attention_mask", phoneme_attention_mask),
            ("bpe_attention_mask", bpe_attention_mask),
        ):
            if mask is not None and not bool(mask.bool().any(dim=1).all()):
                raise ValueError(f"{name} has a row with no real token; every example needs at least one")
        if speaker_ids is not None and speaker_embeds is not None:
            raise ValueError("give speaker_ids or speaker_embeds, not both")
        if speaker_ids is not None:
            if config.num_speakers == 0:
                raise ValueError("speaker_ids given but the config has num_speakers=0 (no speaker table)")
            if speaker_ids.shape != (batch,):
                raise ValueError(f"speaker_ids must have shape ({batch},), got {tuple(speaker_ids.shape)}")
            if int(speaker_ids.min()) < NO_SPEAKER or int(speaker_ids.max()) >= config.num_speakers:
                raise ValueError(
                    f"speaker_ids must be -1 (no speaker) or in [0, {config.num_speakers}); "
                    f"got min {int(speaker_ids.min())}, max {int(speaker_ids.max())}"
                )
        if speaker_embeds is not None:
            if config.external_speaker_dim == 0:
                raise ValueError("speaker_embeds given but the config has external_speaker_dim=0")
            if speaker_embeds.shape != (batch, config.external_speaker_dim):
                raise ValueError(
                    f"speaker_embeds must have shape ({batch}, {config.external_speaker_dim}), "
                    f"got {tuple(speaker_embeds.shape)}"
                )

    # ------------------------------------------------------------------ parts (used by the heads too)
    def speaker_condition(
        self,
        batch_size: int,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The (B, speaker_embedding_dim) condition of every AdaLN-Zero block."""
        return self.speaker(batch_size, speaker_ids, speaker_embeds)

    def _embed(self, ids: torch.Tensor, embedding: nn.Embedding) -> tuple[torch.Tensor, tuple | None]:
        """Token embeddings (+ sinusoidal table) and the rotary ``(cos, sin)`` for the layers (or None)."""
        hidden_states = embedding(ids)  # (B, T, H)
        length = ids.shape[1]
        position_embeddings = None
        if isinstance(self.positions, RotaryEmbedding):
            position_embeddings = self.positions(length, hidden_states.device, hidden_states.dtype)
        else:
            hidden_states = hidden_states + self.positions(length, hidden_states.device, hidden_states.dtype)
        return self.embedding_dropout(hidden_states), position_embeddings

    @staticmethod
    def _key_mask(attention_mask: torch.Tensor | None, ids: torch.Tensor) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(ids)
        return attention_mask.bool()[:, None, None, :]  # (B, T) -> (B, 1, 1, T)

    @staticmethod
    def _run_layers(
        layers: nn.ModuleList,
        hidden_states: torch.Tensor,
        key_mask: torch.Tensor,
        position_embeddings: tuple | None,
        condition: torch.Tensor | None,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> tuple[torch.Tensor, tuple, tuple]:
        all_states, all_attentions = (), ()
        for layer in layers:
            if condition is None:
                hidden_states, weights = layer(
                    hidden_states, key_mask, position_embeddings, output_attentions
                )
            else:
                hidden_states, weights = layer(
                    hidden_states, condition, key_mask, position_embeddings, output_attentions
                )
            if output_hidden_states:
                all_states += (hidden_states,)
            if output_attentions:
                all_attentions += (weights,)
        return hidden_states, all_states, all_attentions

    def encode_phonemes(
        self,
        phoneme_input_ids: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None,
        condition: torch.Tensor,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple, tuple]:
        """Phoneme stream: (B, P) ids → normalised (B, P, H) states, hidden states, attentions."""
        hidden_states, positions = self._embed(phoneme_input_ids, self.phoneme_embeddings)
        key_mask = self._key_mask(phoneme_attention_mask, phoneme_input_ids)
        last, states, attentions = self._run_layers(
            self.phoneme_layers,
            hidden_states,
            key_mask,
            positions,
            condition,
            output_attentions,
            output_hidden_states,
        )
        states = (hidden_states, *states) if output_hidden_states else ()
        return self.phoneme_norm(last), states, attentions

    def encode_bpe(
        self,
        bpe_input_ids: torch.Tensor,
        bpe_attention_mask: torch.Tensor | None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple, tuple]:
        """BPE stream (speaker-independent): (B, T) ids → normalised (B, T, H) states, hidden states, attentions."""
        hidden_states, positions = self._embed(bpe_input_ids, self.bpe_embeddings)
        key_mask = self._key_mask(bpe_attention_mask, bpe_input_ids)
        last, states, attentions = self._run_layers(
            self.bpe_layers, hidden_states, key_mask, positions, None, output_attentions, output_hidden_states
        )
        states = (hidden_states, *states) if output_hidden_states else ()
        return self.bpe_norm(last), states, attentions

    def fuse(
        self,
        phoneme_states: torch.Tensor,
        phoneme_attention_mask: torch.Tensor | None,
        condition: torch.Tensor,
        bpe_states: torch.Tensor | None = None,
        bpe_attention_mask: torch.Tensor | None = None,
        phoneme_word_ids: torch.Tensor | None = None,
        bpe_word_ids: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple, tuple]:
        """Add word-pooled BPE states (if any) to the phonemes, run the fusion blocks, final norm → (B, P, H).

        An encoder built with ``add_fusion=False`` returns the phoneme states unchanged.
        """
        if not self.add_fusion:
            return phoneme_states, (), ()
        hidden_states = phoneme_states
        if bpe_states is not None:
            # padding never takes part, whatever word id it carries
            if bpe_attention_mask is not None:
                bpe_word_ids = bpe_word_ids.masked_fill(~bpe_attention_mask.bool(), NO_WORD)
            if phoneme_attention_mask is not None:
                phoneme_word_ids = phoneme_word_ids.masked_fill(~phoneme_attention_mask.bool(), NO_WORD)
            hidden_states = self.fusion(hidden_states, bpe_states, bpe_word_ids, phoneme_word_ids)
        key_mask = self._key_mask(phoneme_attention_mask, phoneme_states[..., 0])
        positions = None
        if isinstance(self.positions, RotaryEmbedding):
            positions = self.positions(hidden_states.shape[1], hidden_states.device, hidden_states.dtype)
        last, states, attentions = self._run_layers(
            self.fusion_layers,
            hidden_states,
            key_mask,
            positions,
            condition,
            output_attentions,
            output_hidden_states,
        )
        return self.final_norm(last), states, attentions

    @staticmethod
    def _zero_padding(states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        if attention_mask is None:
            return states
        return states * attention_mask.unsqueeze(-1).to(states.dtype)  # (B, T, 1) broadcast over H

    # ------------------------------------------------------------------ forward
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
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> DualStreamModelOutput | tuple:
        """Encode both streams and fuse them; one (B, P, H) vector per phoneme position.

        Args:
            phoneme_input_ids: (B, P) phoneme ids; ``phoneme_attention_mask`` (B, P) 1 = real token.
            phoneme_word_ids: (B, P) word index per phoneme, -1 outside words.
            bpe_input_ids / bpe_attention_mask / bpe_word_ids: (B, T) the same for the BPE stream.
                Without ``bpe_input_ids`` nothing is fused: the fusion blocks see the phoneme stream only.
            speaker_ids: (B,) speaker table rows (-1 = null); or ``speaker_embeds`` (B, external_speaker_dim);
                neither = the learned null condition. Both is an error.
        """
        output_attentions = (
            output_attentions if output_attentions is not None else self.config.output_attentions
        )
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        self.check_inputs(
            phoneme_input_ids,
            phoneme_attention_mask,
            phoneme_word_ids,
            bpe_input_ids,
            bpe_attention_mask,
            bpe_word_ids,
            speaker_ids,
            speaker_embeds,
            need_word_ids=self.add_fusion,
        )
        condition = self.speaker_condition(phoneme_input_ids.shape[0], speaker_ids, speaker_embeds)
        phoneme_states, hidden_states, attentions = self.encode_phonemes(
            phoneme_input_ids, phoneme_attention_mask, condition, output_attentions, output_hidden_states
        )
        bpe_states, bpe_hidden_states, bpe_attentions = None, (), ()
        if bpe_input_ids is not None:
            bpe_states, bpe_hidden_states, bpe_attentions = self.encode_bpe(
                bpe_input_ids, bpe_attention_mask, output_attentions, output_hidden_states
            )
        fused, fusion_states, fusion_attentions = self.fuse(
            phoneme_states,
            phoneme_attention_mask,
            condition,
            bpe_states,
            bpe_attention_mask,
            phoneme_word_ids,
            bpe_word_ids,
            output_attentions,
            output_hidden_states,
        )
        output = DualStreamModelOutput(
            last_hidden_state=self._zero_padding(fused, phoneme_attention_mask),
            bpe_last_hidden_state=None
            if bpe_states is None
            else self._zero_padding(bpe_states, bpe_attention_mask),
            phoneme_stream_last_hidden_state=self._zero_padding(phoneme_states, phoneme_attention_mask),
            hidden_states=hidden_states + fusion_states if output_hidden_states else None,
            attentions=attentions + fusion_attentions if output_attentions else None,
            bpe_hidden_states=bpe_hidden_states if output_hidden_states and bpe_states is not None else None,
            bpe_attentions=bpe_attentions if output_attentions and bpe_states is not None else None,
        )
        return output if return_dict else output.to_tuple()


class DualStreamForMaskedLM(DualStreamPreTrainedModel):
    """Stage 1: masked language modelling on the phoneme stream and on the BPE stream, each with its own head.

    With ``config.mlm_before_fusion`` (default, the paper's per-stream MLM) the phoneme head reads the
    phoneme stream *before* fusion and the fusion part does not run: after fusion the BPE of the same
    (unmasked) word would tell the head which phoneme was masked — Russian spelling is close to its
    pronunciation — and the phoneme encoder would learn little. With ``mlm_before_fusion=False`` the
    head reads the fused output, which only makes sense if the collator masks the same words in both
    streams. The BPE head always reads the BPE stream. Decoders are tied to the input embeddings only
    when ``tie_word_embeddings=True``.

    Example:
        >>> model = DualStreamForMaskedLM(DualStreamConfig.tiny()).eval()
        >>> out = model(torch.tensor([[2, 4, 11, 3]]), phoneme_labels=torch.tensor([[-100, 10, -100, -100]]))
        >>> out.phoneme_logits.shape, out.loss.shape
        (torch.Size([1, 4, 109]), torch.Size([]))
    """

    _tied_weights_keys = {
        "phoneme_head.decoder.weight": "dual_stream.phoneme_embeddings.weight",
        "bpe_head.decoder.weight": "dual_stream.bpe_embeddings.weight",
    }

    def __init__(self, config: DualStreamConfig) -> None:
        super().__init__(config)
        # per-stream MLM never runs the fusion part: it is not built (it is trained from stage 2 on)
        self.dual_stream = DualStreamModel(config, add_fusion=not config.mlm_before_fusion)
        self.phoneme_head = MaskedLMHead(
            config.hidden_size, config.phoneme_vocab_size, config.hidden_act, config.layer_norm_eps
        )
        self.bpe_head = MaskedLMHead(
            config.hidden_size, config.bpe_vocab_size, config.hidden_act, config.layer_norm_eps
        )
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.dual_stream.phoneme_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.dual_stream.phoneme_embeddings = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.phoneme_head.decoder

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.phoneme_head.decoder = new_embeddings

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
        phoneme_labels: torch.Tensor | None = None,
        bpe_labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> DualStreamMaskedLMOutput | tuple:
        """MLM logits of both streams and, given ``phoneme_labels`` / ``bpe_labels`` (-100 = skip), the loss.

        Inputs as in :meth:`DualStreamModel.forward`. ``loss`` = weighted sum of the available per-stream losses.
        """
        config = self.config
        output_attentions = output_attentions if output_attentions is not None else config.output_attentions
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else config.return_dict
        _check_same_shape("phoneme_labels", phoneme_labels, "phoneme_input_ids", phoneme_input_ids)
        if bpe_labels is not None:
            if bpe_input_ids is None:
                raise ValueError("bpe_labels given without bpe_input_ids")
            _check_same_shape("bpe_labels", bpe_labels, "bpe_input_ids", bpe_input_ids)

        # the encoder of a per-stream MLM model is built without fusion (mlm_before_fusion): its
        # last_hidden_state is then the phoneme stream's output, as the per-stream heads need
        encoded = self.dual_stream(
            phoneme_input_ids,
            phoneme_attention_mask,
            phoneme_word_ids,
            bpe_input_ids,
            bpe_attention_mask,
            bpe_word_ids,
            speaker_ids,
            speaker_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        phoneme_states, bpe_states = encoded.last_hidden_state, encoded.bpe_last_hidden_state
        hidden_states, attentions = encoded.hidden_states or (), encoded.attentions or ()
        bpe_hidden_states, bpe_attentions = encoded.bpe_hidden_states or (), encoded.bpe_attentions or ()

        phoneme_logits = self.phoneme_head(phoneme_states)
        bpe_logits = None if bpe_states is None else self.bpe_head(bpe_states)
        phoneme_loss = None if phoneme_labels is None else masked_lm_loss(phoneme_logits, phoneme_labels, IGNORE_INDEX)
        bpe_loss = None if bpe_labels is None else masked_lm_loss(bpe_logits, bpe_labels, IGNORE_INDEX)
        weighted = [
            weight * part
            for weight, part in ((config.phoneme_mlm_weight, phoneme_loss), (config.bpe_mlm_weight, bpe_loss))
            if part is not None
        ]
        loss = sum(weighted[1:], weighted[0]) if weighted else None

        output = DualStreamMaskedLMOutput(
            loss=loss,
            phoneme_loss=phoneme_loss,
            bpe_loss=bpe_loss,
            phoneme_logits=phoneme_logits,
            bpe_logits=bpe_logits,
            hidden_states=hidden_states if output_hidden_states else None,
            attentions=attentions if output_attentions else None,
            bpe_hidden_states=bpe_hidden_states if output_hidden_states and bpe_states is not None else None,
            bpe_attentions=bpe_attentions if output_attentions and bpe_states is not None else None,
        )
        return output if return_dict else output.to_tuple()
