"""Held-out spectrogram error of a TTS head: mel L1 with ground-truth durations, duration error.

::

    prepared held-out rows ─ collator (with phoneme_durations) ─► GradTTSModel
      ├─ synthesize(durations = ground truth) ─► ŷ (T, M) ─ mean |ŷ − y| over real frames ─► mel_l1
      │                                          μ_y      ─ mean |μ_y − y|                ─► prior_mel_l1
      └─ predict_durations ─► d̂ per phoneme id ─ |d̂ − d| per phoneme ─► duration_mae_frames
                                              ─ |Σ d̂ − Σ d| / Σ d per utterance ─► length_error

With ground-truth durations the decoder is measured alone (the predicted lengths would
misalign ŷ and y). A corpus without phoneme timings (real speech without an aligner: festvox-ru)
is measured against the model's own monotonic alignment of the reference mels instead
(``reference_durations="alignment"``): the decoder is still measured alone, the duration error
is then the predictor's against the alignment it was trained on. ``<s>``/``</s>`` have 0 ground-truth frames and count in the duration error
like any token. For a faithful (blank-interspersed) encoder a phoneme's predicted duration is its
own plus half of each neighbouring blank's, so a model that puts a phoneme's frames on its blanks
is not counted wrong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["SpectrogramErrors", "evaluate_spectrograms"]


@dataclass
class SpectrogramErrors:
    """Held-out errors (means over utterances; ``*_std`` their standard deviations)."""

    mel_l1: float
    mel_l1_std: float
    prior_mel_l1: float
    duration_mae_frames: float
    length_error: float
    utterances: int
    n_timesteps: int
    temperature: float
    reference_durations: str = "truth"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _phoneme_axis(durations: torch.Tensor, blanks: bool) -> torch.Tensor:
    """(B, N) durations on the model's token axis → the phoneme-id axis (blanks shared out)."""
    if not blanks:
        return durations
    phonemes = durations[:, 1::2].clone()
    return phonemes + 0.5 * (durations[:, 0:-1:2] + durations[:, 2::2])


def evaluate_spectrograms(
    model: torch.nn.Module,
    rows: Any,
    collator: Any,
    *,
    n_timesteps: int = 10,
    temperature: float = 1.5,
    seed: int = 0,
    batch_size: int = 8,
    show_progress: bool = True,
) -> SpectrogramErrors:
    """Mel L1 (ground-truth durations) and duration error of ``model`` on prepared ``rows``.

    Args:
        rows: prepared rows with ``phoneme_durations`` (a ``PreparedCorpus`` or a list).
        collator: a ``TextToSpeechCollator`` built with ``with_durations=True``.
        seed: seeds the starting noise of every batch (same seed → same numbers).

    Rows without ``phoneme_durations`` are measured against the model's alignment (module docstring);
    the result says which (``reference_durations``), and mixing both in one call is an error.
    """
    from tqdm.auto import tqdm

    from ..modeling.loading import evaluating

    if not collator.with_durations:
        raise ValueError("the collator must keep phoneme_durations (TextToSpeechCollator(..., with_durations=True))")
    if len(rows) == 0:
        raise ValueError("no rows to evaluate")
    blanks = model.config.encoder_type == "grad_tts" and model.config.blank_id is not None
    device = next(model.parameters()).device
    l1, prior_l1, duration_errors, length_errors = [], [], [], []
    kinds: set[str] = set()
    starts = range(0, len(rows), batch_size)
    with evaluating(model), torch.no_grad():
        for batch_index, start in enumerate(tqdm(starts, desc="mel L1", disable=not show_progress)):
            batch = collator([rows[i] for i in range(start, min(start + batch_size, len(rows)))])
            target, lengths = batch.pop("spectrogram"), batch.pop("spectrogram_lengths")
            truth = batch.pop("phoneme_durations", None)
            batch = {key: value.to(device) for key, value in batch.items()}
            kinds.add("truth" if truth is not None else "alignment")
            if truth is None:
                truth = _phoneme_axis(model.align(target.to(device), lengths.to(device), **batch), blanks).cpu()
            truth = truth.float()
            generator = torch.Generator(device=device).manual_seed(seed + batch_index)
            out = model.synthesize(
                **batch, durations=truth.to(device), n_timesteps=n_timesteps, temperature=temperature, generator=generator
            )
            predicted = _phoneme_axis(model.predict_durations(**batch), blanks).cpu()
            mask = batch["phoneme_attention_mask"].cpu().bool()
            for b in range(target.shape[0]):
                frames = int(min(lengths[b], out.spectrogram_lengths[b]))
                y = target[b, :frames]
                l1.append(float((out.spectrogram[b, :frames].cpu() - y).abs().mean()))
                prior_l1.append(float((out.encoder_spectrogram[b, :frames].cpu() - y).abs().mean()))
                d, d_hat = truth[b][mask[b]], predicted[b][mask[b]]
                duration_errors.append(float((d_hat - d).abs().mean()))
                length_errors.append(float(abs(d_hat.sum() - d.sum()) / max(float(d.sum()), 1.0)))
    return SpectrogramErrors(
        mel_l1=float(np.mean(l1)),
        mel_l1_std=float(np.std(l1)),
        prior_mel_l1=float(np.mean(prior_l1)),
        duration_mae_frames=float(np.mean(duration_errors)),
        length_error=float(np.mean(length_errors)),
        utterances=len(l1),
        n_timesteps=n_timesteps,
        temperature=temperature,
        reference_durations=_one_kind(kinds),
    )


def _one_kind(kinds: set[str]) -> str:
    if len(kinds) != 1:
        raise ValueError("some rows have phoneme_durations and some do not: evaluate them separately")
    return kinds.pop()
