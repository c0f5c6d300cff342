"""Held-out measures of the latent-diffusion head's parts: Mel-VAE reconstruction and total-length error.

::

    prepared rows ─ TextToSpeechCollator ─┬─ Mel-VAE encode (posterior mean) → decode ─ L1 vs the log-mels
                                          └─ length predictor (text only) ─ |L̂ − L| latent frames, seconds, relative

Both are deterministic (no sampling), so the same model and rows give the same numbers. The
synthesis metrics of the whole chain (MCD, F0, SIM-o, PER, …) come from ``prosody-tts evaluate tts``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["LengthErrors", "ReconstructionErrors", "evaluate_lengths", "evaluate_reconstruction"]


@dataclass
class ReconstructionErrors:
    """Mel-VAE round trip on held-out log-mels.

    Attributes:
        mel_l1: mean |reconstruction − log-mel| over every real frame and bin (log-mel units).
        median_utterance_l1: the median of the per-utterance means.
        utterances / frames: how much was measured.
    """

    mel_l1: float
    median_utterance_l1: float
    utterances: int
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LengthErrors:
    """Total-length predictor on held-out texts (latent frames of the Mel-VAE).

    Attributes:
        mean_abs_frames / median_abs_frames: |predicted − true| latent frames (round(prediction)).
        mean_abs_seconds: the same in seconds (latent frames / latent rate).
        mean_relative: mean |predicted − true| / true. mean_signed_frames: mean predicted − true.
        utterances: how many texts.
    """

    mean_abs_frames: float
    median_abs_frames: float
    mean_abs_seconds: float
    mean_relative: float
    mean_signed_frames: float
    utterances: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _batches(rows: Any, collator: Any, batch_size: int, show_progress: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    if len(rows) == 0:
        raise ValueError("no rows to evaluate")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    starts = range(0, len(rows), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not show_progress):
        yield collator([rows[i] for i in range(start, min(start + batch_size, len(rows)))])


@torch.no_grad()
def evaluate_reconstruction(
    vae: torch.nn.Module, rows: Any, collator: Any, batch_size: int = 8, show_progress: bool = True
) -> ReconstructionErrors:
    """Mel L1 of ``vae``'s round trip (encoder mean → decoder) over prepared ``rows``."""
    from ..modeling.loading import evaluating

    device = next(vae.parameters()).device
    per_utterance: list[float] = []
    total, frames, bins = 0.0, 0, 1
    with evaluating(vae):
        for batch in _batches(rows, collator, batch_size, show_progress, "Mel-VAE reconstruction"):
            mel = batch["spectrogram"].to(device)
            lengths = batch["spectrogram_lengths"].to(device)
            latents, latent_lengths = vae.encode(mel, lengths)
            decoded = vae.decode(latents, latent_lengths)[:, : mel.shape[1]]
            for b in range(mel.shape[0]):
                n = int(lengths[b])
                error = (decoded[b, :n] - mel[b, :n]).abs()
                per_utterance.append(float(error.mean()))
                total += float(error.sum())
                frames += n
            bins = mel.shape[-1]
    return ReconstructionErrors(
        mel_l1=total / (frames * bins), median_utterance_l1=float(np.median(per_utterance)),
        utterances=len(per_utterance), frames=frames,
    )  # fmt: skip


@torch.no_grad()
def evaluate_lengths(
    model: torch.nn.Module, rows: Any, collator: Any, batch_size: int = 8, show_progress: bool = True
) -> LengthErrors:
    """The length predictor of a ``LatentDiffusionTTSModel`` against the Mel-VAE latent length of each row."""
    from ..modeling.loading import evaluating

    device = next(model.parameters()).device
    errors: list[float] = []
    relative: list[float] = []
    with evaluating(model):
        for batch in _batches(rows, collator, batch_size, show_progress, "length predictor"):
            lengths = model.vae.latent_lengths(batch.pop("spectrogram_lengths").to(device))
            batch.pop("spectrogram")
            predicted = model.predict_text_lengths(**{key: value.to(device) for key, value in batch.items()})
            signed = predicted.round() - lengths
            errors += signed.tolist()
            relative += (signed.abs() / lengths).tolist()
    absolute = np.abs(np.asarray(errors))
    rate = float(model.config.vae_config.latent_rate)
    return LengthErrors(
        mean_abs_frames=float(absolute.mean()), median_abs_frames=float(np.median(absolute)),
        mean_abs_seconds=float(absolute.mean() / rate), mean_relative=float(np.mean(relative)),
        mean_signed_frames=float(np.mean(errors)), utterances=len(errors),
    )  # fmt: skip
