"""Synthesise a corpus split with a trained text-to-waveform model, for evaluation against its recordings.

::

    corpus rows {id, audio, text, speaker, phonemes, phoneme_durations}
      ─ prepare_corpus(processor) ─ TextToSpeechCollator (one row at a time, the corpus' own phonemes)
      ─ TextToWaveformModel(seed = seed + index) ─► OUT/{id}.wav  (float WAV at the model's rate)
                                                  + predicted durations on the phoneme axis
    ─► entries {id, reference (audio path), synthesized (WAV path), text, phonemes,
                reference_durations, synthesized_durations}   (durations where the corpus has them)

The text goes in as the corpus' stored phonemes (so the durations of both sides are on one
phoneme sequence); the model predicts its own durations and its own speech. Same model, rows
and seed → the same WAVs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["synthesize_corpus"]


def _collator(model: Any, processor: Any) -> Any:
    from ..data.collators import DualStreamCollator, TextToSpeechCollator

    names = list(model.tts.config.speaker_names or [])
    multi = bool(getattr(model.tts.config, "multi_speaker", False))
    speaker_to_id = {name: i for i, name in enumerate(names)} if multi else None
    base = DualStreamCollator.from_processor(processor, speaker_to_id=speaker_to_id)
    return TextToSpeechCollator(base, with_speaker_ids=multi, with_durations=True)


@torch.no_grad()
def synthesize_corpus(
    model: Any,
    processor: Any,
    rows: Sequence[dict[str, Any]],
    out_dir: str | os.PathLike,
    *,
    n_timesteps: int | None = None,
    temperature: float | None = None,
    seed: int = 0,
    limit: int | None = None,
    show_progress: bool = True,
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Synthesise ``rows`` (corpus rows with ``audio``) into ``out_dir``; see the module doc.

    Returns ``(entries, problems)``; a row the processor or the model refuses is a
    ``(id, reason)`` problem, not an exception.
    """
    import soundfile
    from tqdm.auto import tqdm

    from ..data.prepared import prepare_corpus
    from ..evaluation.spectrograms import _phoneme_axis

    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    rows = list(rows)[:limit] if limit is not None else list(rows)
    if not rows:
        raise ValueError("no rows to synthesise")
    by_id = {str(row["id"]): row for row in rows}
    prepared = prepare_corpus(rows, processor, show_progress=False)
    prepared_ids = {str(prepared[i]["id"]) for i in range(len(prepared))}
    problems = [(key, "the processor could not prepare this row") for key in by_id if key not in prepared_ids]
    collator = _collator(model, processor)
    blanks = getattr(model.tts.config, "encoder_type", None) == "grad_tts" and model.tts.config.blank_id is not None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rate = int(model.config.sampling_rate)
    entries = []
    for index in tqdm(range(len(prepared)), desc="synthesising", disable=not show_progress):
        row = prepared[index]
        key = str(row["id"])
        batch = collator([row])
        for name in ("spectrogram", "spectrogram_lengths"):
            batch.pop(name, None)
        truth = batch.pop("phoneme_durations", None)
        batch = {name: value.to(model.device) for name, value in batch.items()}
        try:
            speech = model(**batch, n_timesteps=n_timesteps, temperature=temperature, seed=seed + index, return_dict=True)
        except ValueError as err:
            problems.append((key, f"synthesis failed: {err}"))
            continue
        samples = int(speech.waveform_lengths[0])
        target = out / f"{key}.wav"
        soundfile.write(target, speech.waveform[0, :samples].float().cpu().numpy(), rate, subtype="FLOAT")
        mask = batch["phoneme_attention_mask"][0].bool().cpu()
        entry = {
            "id": key, "reference": _reference(by_id[key]["audio"]), "synthesized": str(target),
            "text": by_id[key].get("text"), "phonemes": [str(p) for p in np.asarray(row["phonemes"]).tolist()],
        }  # fmt: skip
        if truth is not None and speech.durations is not None:
            predicted = _phoneme_axis(speech.durations.float().cpu(), blanks)[0]
            entry["reference_durations"] = truth[0][mask].float().tolist()
            entry["synthesized_durations"] = predicted[: len(mask)][mask].tolist()
        entries.append(entry)
    return entries, problems


def _reference(audio: Any) -> Any:
    """A path to the recording, or ``(waveform, rate)`` when the row holds only its bytes."""
    from ..processing.audio import load_audio

    if isinstance(audio, (str, os.PathLike)):
        return os.fspath(audio)
    if isinstance(audio, dict):
        if audio.get("path") and os.path.isfile(audio["path"]):
            return audio["path"]
        if audio.get("bytes"):
            return load_audio(audio["bytes"])
    raise ValueError(f"cannot read the reference audio of this row: {str(audio)[:80]}")
