"""The ``feature-extraction`` pipeline for the dual-stream encoder (registered as the task
``"phoneme-feature-extraction"`` in :mod:`prosody_tts.registration`).

::

    texts ─► DualStreamProcessor (AutoProcessor of the model dir) ─► both streams, padded per stream
          ─► DualStreamModel (+ speaker) ─► (B, P+2, H) ─► drop <s>/</s>/padding ─► (P_i, H) per text

:func:`feature_extraction_pipeline` builds one. Its outputs equal :func:`~.encode.encode`'s
embeddings. The stock ``pipeline("feature-extraction", model=model, tokenizer=processor)`` also
runs, but only with ``batch_size=1`` and it returns (1, P_i + 2, H) including the ``<s>``/``</s>`` rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader
from transformers import FeatureExtractionPipeline
from transformers.pipelines.pt_utils import PipelineDataset, PipelineIterator

from ..constants import NO_WORD
from ..processing.processing_dual_stream import DualStreamProcessor
from .encode import (
    _UNSET,
    EncoderLike,
    SpeakerLike,
    _one_speaker,
    _resolve_encoder,
    _resolve_processor,
    _speaker_kwargs,
)

#: Task name under which :class:`PhonemeFeatureExtractionPipeline` is registered with ``transformers.pipeline``.
PIPELINE_TASK = "phoneme-feature-extraction"


# ---------------------------------------------------------------------------------------- pipeline
class PhonemeFeatureExtractionPipeline(FeatureExtractionPipeline):
    """``feature-extraction`` for the dual-stream encoder: Russian text → (P, H), one row per phoneme.

    Why a subclass: the stock pipeline calls the processor and the model correctly, but it cannot
    batch (its collate function needs ``tokenizer.pad_token_id``, which a processor lacks), it keeps
    the ``<s>``/``</s>`` rows, it cannot pass a speaker, and ``pipeline(task, model=DIR)`` loads the
    bare phoneme tokenizer (``AutoTokenizer``), not the processor. This class loads the processor
    (``AutoProcessor``) from the model directory, pads each stream with its own pad id, passes
    ``speaker=...`` to the model and returns exactly :func:`encode`'s embeddings.

    Output per text: a (P, H) tensor with ``return_tensors=True``, else nested lists. Rows follow
    ``processor.phonemize(text).phonemes``. One ``speaker`` (None, an id or an embedding) per call.

    Example:
        >>> from transformers import pipeline
        >>> extractor = pipeline("phoneme-feature-extraction", model=saved_dir)  # doctest: +SKIP
        >>> extractor(["Привет, мир!"], return_tensors=True, batch_size=8)[0].shape  # doctest: +SKIP
        torch.Size([12, 384])
    """

    _load_processor = None  # try AutoProcessor on the model directory, no error if there is none
    _load_tokenizer = False
    _load_feature_extractor = False

    def __init__(
        self,
        model: EncoderLike,
        tokenizer: Any = None,
        processor: Any = None,
        **kwargs: Any,
    ) -> None:
        chosen = next((p for p in (processor, tokenizer) if isinstance(p, DualStreamProcessor)), None)
        if chosen is None:
            raise ValueError(
                "PhonemeFeatureExtractionPipeline needs a DualStreamProcessor: pass processor=... (or "
                "tokenizer=...), or save it with processor.save_pretrained into the model directory"
            )
        encoder, source = _resolve_encoder(model)
        self._encoder_config = encoder.config
        self._speaker_source = source
        kwargs.pop("feature_extractor", None)  # the mel extractor plays no part in text features
        super().__init__(model=encoder, tokenizer=chosen, processor=chosen, **kwargs)
        self.model.eval()

    def _sanitize_parameters(
        self,
        speaker: Any = _UNSET,
        return_tensors: bool | None = None,
        truncation: Any = None,
        tokenize_kwargs: dict | None = None,
        **kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        if truncation is not None or tokenize_kwargs:
            raise ValueError("the DualStreamProcessor takes no tokenizer arguments (it never truncates)")
        if kwargs:
            raise TypeError(f"PhonemeFeatureExtractionPipeline got unexpected arguments: {sorted(kwargs)}")
        forward_params: dict[str, Any] = {}
        if speaker is not _UNSET:
            if isinstance(speaker, (list, tuple)) or (
                isinstance(speaker, (torch.Tensor, np.ndarray)) and speaker.ndim == 2 and speaker.shape[0] > 1
            ):
                raise ValueError(
                    "the pipeline takes one speaker per call; use encode() for one speaker per text"
                )
            forward_params["speaker"] = _one_speaker(
                speaker, self._encoder_config, self._speaker_source, "speaker"
            )
        postprocess_params = {} if return_tensors is None else {"return_tensors": return_tensors}
        return {}, forward_params, postprocess_params

    def preprocess(self, inputs: str) -> dict[str, torch.Tensor]:
        if not isinstance(inputs, str):
            raise TypeError(f"each input must be a str, got {type(inputs).__name__}")
        return self.processor(text=inputs, return_tensors="pt")

    def _forward(
        self, model_inputs: dict[str, torch.Tensor], speaker: int | torch.Tensor | None = None
    ) -> dict:
        batch = model_inputs["phoneme_input_ids"].shape[0]
        states = self.model(
            **model_inputs, **_speaker_kwargs([speaker] * batch, self.device), return_dict=True
        ).last_hidden_state  # (B, P, H)
        return {"last_hidden_state": states, "phoneme_attention_mask": model_inputs["phoneme_attention_mask"]}

    def postprocess(self, model_outputs: dict, return_tensors: bool = False) -> torch.Tensor | list:
        length = int(model_outputs["phoneme_attention_mask"][0].sum())
        states = model_outputs["last_hidden_state"][0, 1 : length - 1].clone()  # drop <s>, </s>, padding
        return states if return_tensors else states.tolist()

    def _collate(self, items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Right-pad each key of (1, L) items with its own value: the stream's pad id, 0 or -1."""
        pad_ids = {
            "phoneme_input_ids": self.processor.tokenizer.pad_token_id,
            "bpe_input_ids": self.processor.bpe_tokenizer.pad_token_id,
        }
        batch = {}
        for key in items[0]:
            value = pad_ids.get(key, NO_WORD if key.endswith("word_ids") else 0)
            batch[key] = pad_sequence([item[key][0] for item in items], batch_first=True, padding_value=value)
        return batch

    def get_iterator(
        self, inputs, num_workers: int, batch_size: int, preprocess_params, forward_params, postprocess_params
    ):
        """The base iterator, with this pipeline's collate function when ``batch_size > 1``."""
        if batch_size == 1:
            return super().get_iterator(
                inputs, num_workers, batch_size, preprocess_params, forward_params, postprocess_params
            )
        if isinstance(inputs, Sequence):
            dataset = PipelineDataset(inputs, self.preprocess, preprocess_params)
        else:
            num_workers = min(num_workers, 1)
            dataset = PipelineIterator(inputs, self.preprocess, preprocess_params)
        loader = DataLoader(dataset, num_workers=num_workers, batch_size=batch_size, collate_fn=self._collate)
        model_iterator = PipelineIterator(loader, self.forward, forward_params, loader_batch_size=batch_size)
        return PipelineIterator(model_iterator, self.postprocess, postprocess_params)


def feature_extraction_pipeline(
    model: EncoderLike,
    processor: DualStreamProcessor | str | os.PathLike | None = None,
    *,
    speaker: SpeakerLike = None,
    device: int | str | torch.device | None = None,
    batch_size: int | None = None,
) -> PhonemeFeatureExtractionPipeline:
    """A :class:`PhonemeFeatureExtractionPipeline` for ``model`` (an encoder or a saved directory).

    ``processor``: ``None`` loads it from the directory ``model``. ``device``: ``None`` keeps the
    model where it is. ``speaker`` and ``batch_size`` become the pipeline's defaults.
    """
    if processor is None:
        if not isinstance(model, (str, os.PathLike)):
            raise ValueError("give the processor, or give model as a directory that also holds the processor")
        processor = model
    processor = _resolve_processor(processor)
    return PhonemeFeatureExtractionPipeline(
        model=model,
        processor=processor,
        task=PIPELINE_TASK,
        device=-1 if device is None else device,
        batch_size=batch_size,
        speaker=speaker,
    )
