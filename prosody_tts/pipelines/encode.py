"""Phoneme-level embeddings from a trained text encoder, for downstream TTS (docs/encode.md).

::

    texts ─► processor.phonemize (front-end, batched) ─► both token streams, padded per batch
          ─► DualStreamModel(speaker) ─► (B, P+2, H) ─► EncodedPhonemes: one (P_i, H) per text

:func:`encode` returns :class:`EncodedPhonemes`: one (P_i, H) tensor per text, one row per phoneme
symbol of the front-end (``#`` and punctuation included, ``<s>``/``</s>`` and padding removed),
with the symbols and their word ids alongside. The pipeline form is
:mod:`prosody_tts.pipelines.feature_extraction`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from tqdm.auto import tqdm
from transformers import AutoProcessor

from ..configuration.dual_stream import DualStreamConfig
from ..constants import NO_SPEAKER
from ..modeling.contrastive import ProsodyContrastiveModel
from ..modeling.dual_stream import DualStreamForMaskedLM, DualStreamModel
from ..modeling.loading import evaluating, load_model
from ..processing.padding import length_mask
from ..processing.processing_dual_stream import DualStreamProcessor
from ..text.errors import FrontendError
from ..text.frontend import PhonemizedText

EncoderLike = DualStreamModel | DualStreamForMaskedLM | ProsodyContrastiveModel | str | os.PathLike


SpeakerLike = int | torch.Tensor | np.ndarray | None


_PROGRESS_MIN_TEXTS = 64  # auto progress bar from this many texts on


_FRONTEND_CHUNK = 256  # texts phonemised per front-end call (stress is batched within a chunk)


_UNSET: Any = object()


@dataclass
class EncodedPhonemes:
    """Per-text phoneme embeddings and the symbols they belong to.

    Args:
        embeddings: one (P_i, H) tensor per text, row j = ``phonemes[i][j]``; no ``<s>``/``</s>``, no
            padding. Ordinary tensors (not inference tensors), on the device the encoder ran on.
        phonemes: the front-end's symbols per text (``#`` between words, punctuation kept), or
            ``None`` with ``return_phonemes=False``.
        phoneme_word_ids: word index of each symbol (``-1`` for ``#`` and punctuation), or ``None``
            with ``return_phonemes=False``.
    """

    embeddings: list[torch.Tensor]
    phonemes: list[list[str]] | None = None
    phoneme_word_ids: list[list[int]] | None = None

    def __len__(self) -> int:
        return len(self.embeddings)

    @property
    def lengths(self) -> list[int]:
        """P_i of every text."""
        return [int(row.shape[0]) for row in self.embeddings]

    def padded(self, padding_value: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, Pmax, H) right-padded embeddings and the (B, Pmax) bool mask (True = real phoneme)."""
        states = pad_sequence(self.embeddings, batch_first=True, padding_value=padding_value)
        lengths = torch.tensor(self.lengths, device=states.device)
        mask = length_mask(lengths, states.shape[1])  # (B, Pmax)
        return states, mask


# ---------------------------------------------------------------------------------------- resolution
def _resolve_encoder(model: EncoderLike) -> tuple[DualStreamModel, str | None]:
    """The DualStreamModel to run and, for a contrastive model, its ``speaker_source``."""
    model = load_model(model, (DualStreamModel, DualStreamForMaskedLM, ProsodyContrastiveModel))
    if isinstance(model, ProsodyContrastiveModel):
        return model.text_model, model.config.speaker_source
    if isinstance(model, DualStreamForMaskedLM):
        return model.dual_stream, None
    if isinstance(model, DualStreamModel):
        return model, None
    raise TypeError(
        "model must be a DualStreamModel, DualStreamForMaskedLM, ProsodyContrastiveModel or a directory "
        f"that AutoModel loads as one of them, got {type(model).__name__}"
    )


def _resolve_processor(processor: DualStreamProcessor | str | os.PathLike) -> DualStreamProcessor:
    if isinstance(processor, (str, os.PathLike)):
        processor = AutoProcessor.from_pretrained(processor)
    if not isinstance(processor, DualStreamProcessor):
        raise TypeError(
            "processor must be a DualStreamProcessor (e.g. DualStreamProcessor.from_defaults()) or a directory "
            f"it was saved to, got {type(processor).__name__}"
        )
    return processor


def _check_texts(texts: str | Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a str or a list of str, got {type(texts).__name__}")
    if len(texts) == 0:
        raise ValueError("texts is an empty list")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] must be a str, got {type(text).__name__}")
    return list(texts)


# ---------------------------------------------------------------------------------------- speakers
def _one_speaker(
    value: SpeakerLike, config: DualStreamConfig, source: str | None, where: str
) -> int | torch.Tensor | None:
    """Validate one speaker: None (null condition), a table row, or an external embedding (D,)."""
    if value is None:
        return None
    is_tensor = isinstance(value, (torch.Tensor, np.ndarray))
    if isinstance(value, (bool, np.bool_)) or (is_tensor and torch.as_tensor(value).dtype == torch.bool):
        raise TypeError(f"{where} is a bool; give a speaker id (int), an embedding, or None")
    if isinstance(value, (int, np.integer)) or (
        is_tensor and value.ndim == 0 and not torch.as_tensor(value).is_floating_point()
    ):
        index = int(value)
        if source in ("audio", "none"):
            raise ValueError(
                f"{where}: this contrastive model's text encoder was trained with speaker_source={source!r}, "
                "so speaker table ids do not apply; "
                + ("give an ECAPA speaker embedding or None" if source == "audio" else "give None")
            )
        if config.num_speakers == 0:
            raise ValueError(
                f"{where} is a speaker id ({index}) but the encoder has no speaker table (num_speakers=0); "
                f"give an external speaker embedding of size {config.external_speaker_dim} or None"
            )
        if not 0 <= index < config.num_speakers:
            raise ValueError(
                f"{where} = {index} is outside the speaker table [0, {config.num_speakers}); "
                "use None for the null (speaker-free) condition"
            )
        return index
    if is_tensor:
        embed = torch.as_tensor(value).detach()
        if not embed.is_floating_point():
            raise TypeError(f"{where} must be a float speaker embedding, got dtype {embed.dtype}")
        if embed.ndim == 2 and embed.shape[0] == 1:
            embed = embed[0]
        if source in ("ids", "none"):
            raise ValueError(
                f"{where}: this contrastive model's text encoder was trained with speaker_source={source!r}, "
                "so external speaker embeddings do not apply; "
                + ("give a speaker id or None" if source == "ids" else "give None")
            )
        if config.external_speaker_dim == 0:
            raise ValueError(f"{where} is a speaker embedding but the encoder has external_speaker_dim=0")
        if embed.shape != (config.external_speaker_dim,):
            raise ValueError(
                f"{where} must be a speaker embedding of shape ({config.external_speaker_dim},) "
                f"(config.external_speaker_dim), got {tuple(embed.shape)}"
            )
        if not bool(torch.isfinite(embed).all()):
            raise ValueError(f"{where} holds NaN or inf")
        return embed
    raise TypeError(
        f"{where} must be None, an int speaker id or a speaker embedding tensor/array, got {type(value).__name__}"
    )


def _resolve_speakers(
    speaker: SpeakerLike | Sequence[SpeakerLike], count: int, config: DualStreamConfig, source: str | None
) -> list[int | torch.Tensor | None]:
    """One validated speaker per text: a list gives one each, a (N, D) array one row each, else all share one."""
    if isinstance(speaker, (list, tuple)):
        if len(speaker) != count:
            raise ValueError(
                f"speaker is a list of {len(speaker)} but there are {count} texts; give one per text"
            )
        return [_one_speaker(value, config, source, f"speaker[{i}]") for i, value in enumerate(speaker)]
    if isinstance(speaker, (torch.Tensor, np.ndarray)) and speaker.ndim == 2 and speaker.shape[0] > 1:
        if speaker.shape[0] != count:
            raise ValueError(
                f"speaker has {speaker.shape[0]} embedding rows but there are {count} texts; give one row per text"
            )
        return [_one_speaker(row, config, source, f"speaker[{i}]") for i, row in enumerate(speaker)]
    return [_one_speaker(speaker, config, source, "speaker")] * count


def _speaker_kwargs(
    speakers: Sequence[int | torch.Tensor | None], device: torch.device
) -> dict[str, torch.Tensor]:
    """Model keyword arguments for one batch whose speakers are all ids/None or all embeddings."""
    if all(value is None for value in speakers):
        return {}
    if isinstance(speakers[0], torch.Tensor):
        return {"speaker_embeds": torch.stack(list(speakers)).to(device)}  # (B, D)
    ids = [NO_SPEAKER if value is None else value for value in speakers]
    return {"speaker_ids": torch.tensor(ids, dtype=torch.long, device=device)}  # (B,)


# ---------------------------------------------------------------------------------------- encode
def _phonemize(processor: DualStreamProcessor, texts: list[str], show_progress: bool) -> list[PhonemizedText]:
    """Run the front-end in chunks; a rejected text re-raises its FrontendError with the text index."""
    frontend = processor.frontend
    results: list[PhonemizedText] = []
    with tqdm(total=len(texts), disable=not show_progress, desc="phonemize", unit="text") as progress:
        for start in range(0, len(texts), _FRONTEND_CHUNK):
            chunk = texts[start : start + _FRONTEND_CHUNK]
            try:
                results.extend(frontend.batch(chunk))
            except FrontendError:
                for offset, text in enumerate(chunk):  # find which text failed
                    try:
                        frontend(text)
                    except FrontendError as error:
                        message = error.args[0] if error.args else str(error)
                        error.args = (f"text {start + offset} ({text[:40]!r}): {message}", *error.args[1:])
                        raise error from None
                raise
            progress.update(len(chunk))
    return results


def _batches(
    phonemized: list[PhonemizedText], speakers: list[int | torch.Tensor | None], batch_size: int
) -> list[list[int]]:
    """Text indices per batch: ids/None and embeddings never share a batch; long texts together (less padding)."""
    order = sorted(
        range(len(phonemized)),
        key=lambda i: (isinstance(speakers[i], torch.Tensor), -len(phonemized[i].phonemes)),
    )
    batches: list[list[int]] = []
    for index in order:
        if (
            batches
            and len(batches[-1]) < batch_size
            and isinstance(speakers[batches[-1][0]], torch.Tensor)
            == isinstance(speakers[index], torch.Tensor)
        ):
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def _check_lengths(inputs: dict[str, list], indices: list[int], max_positions: int) -> None:
    for name in ("phoneme_input_ids", "bpe_input_ids"):
        for row, index in zip(inputs[name], indices, strict=True):
            if len(row) > max_positions:
                raise ValueError(
                    f"text {index} gives {len(row)} {name.split('_')[0]} tokens (with <s>/</s>), more than the "
                    f"encoder's max_position_embeddings ({max_positions}); split the text"
                )


def encode(
    texts: str | Sequence[str],
    model: EncoderLike,
    processor: DualStreamProcessor | str | os.PathLike,
    *,
    speaker: SpeakerLike | Sequence[SpeakerLike] = None,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    return_phonemes: bool = True,
    show_progress: bool | None = None,
) -> EncodedPhonemes:
    """Phoneme-level embeddings of ``texts`` for a downstream acoustic model (Grad-TTS, latent diffusion).

    Args:
        texts: one Russian text or a list of them.
        model: a :class:`DualStreamModel`; a :class:`ProsodyContrastiveModel` (its ``text_model`` runs,
            and ``speaker`` must fit its ``speaker_source``); a :class:`DualStreamForMaskedLM` (its
            encoder; with ``mlm_before_fusion`` it has no fusion, so the output is the phoneme stream);
            or a ``save_pretrained`` directory of one of them (loaded on every call: load it once
            yourself for repeated calls).
        processor: the :class:`DualStreamProcessor` the encoder was trained with, or its directory.
        speaker: ``None`` (the learned null condition); an int row of the speaker table; a float
            speaker embedding of size ``config.external_speaker_dim`` (tensor or array, (D,) or (1, D));
            a list with one of those per text, or an (N, D) array with one row per text.
        batch_size: texts per forward pass.
        device: run there (the model is moved there, in place); ``None``: where the model is.
        return_phonemes: also return the symbols and word ids (``False``: both ``None``).
        show_progress: tqdm bars for the front-end and the encoder; ``None``: only from 64 texts on.

    Returns:
        :class:`EncodedPhonemes`, in the order of ``texts``.

    Raises:
        FrontendError: (a subclass of) a text the front-end rejects; the message starts with ``text <index>``.
        ValueError / TypeError: a bad speaker, a text too long for the encoder, bad arguments.
    """
    text_list = _check_texts(texts)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    processor = _resolve_processor(processor)
    encoder, source = _resolve_encoder(model)
    speakers = _resolve_speakers(speaker, len(text_list), encoder.config, source)
    if device is not None:
        encoder.to(device)
    run_device = encoder.device
    if show_progress is None:
        show_progress = len(text_list) >= _PROGRESS_MIN_TEXTS

    phonemized = _phonemize(processor, text_list, show_progress)
    embeddings: list[torch.Tensor | None] = [None] * len(text_list)
    with (
        evaluating(encoder),
        tqdm(total=len(text_list), disable=not show_progress, desc="encode", unit="text") as progress,
    ):
        for indices in _batches(phonemized, speakers, batch_size):
            lists = processor.encode_phonemized([phonemized[i] for i in indices], padding=True)
            _check_lengths(lists, indices, encoder.config.max_position_embeddings)
            inputs = {name: torch.tensor(value, device=run_device) for name, value in lists.items()}
            with torch.inference_mode():
                states = encoder(
                    **inputs, **_speaker_kwargs([speakers[i] for i in indices], run_device), return_dict=True
                ).last_hidden_state  # (B, P, H), <s> at 0
            for row, index in enumerate(indices):
                length = len(phonemized[index].phonemes)
                # clone outside inference mode: an ordinary tensor a downstream model can train on
                embeddings[index] = states[row, 1 : 1 + length].clone()
            progress.update(len(indices))

    return EncodedPhonemes(
        embeddings=embeddings,
        phonemes=[list(item.phonemes) for item in phonemized] if return_phonemes else None,
        phoneme_word_ids=[list(item.phoneme_word_ids) for item in phonemized] if return_phonemes else None,
    )
