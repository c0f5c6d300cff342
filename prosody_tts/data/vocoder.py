"""Vocoder training data: (log-mel, waveform) utterances and random aligned segments of them.

::

    canonical examples ─ decode, resample, log-mel (MelFeatureExtractor) ─► VocoderUtterance rows
        {id, waveform (frames · hop,), input_features (frames, n_mels)}     (bad files skipped, counted)
      [─ teacher_forced_features(Grad-TTS): input_features ← the TTS model's mels of the same
         utterance, its durations forced to the monotonic alignment with the real mels]
      ─ VocoderSegmentDataset: a random window of segment_frames frames and its segment_frames · hop
         samples per item (seeded by (seed, epoch, index): a resumed run sees the same windows)

Frame ``k`` of the mels covers samples ``[k · hop, (k + 1) · hop)`` (the feature extractor's
framing), so a window of frames and its samples stay aligned. Items shorter than a segment are
padded with silence: zeros in the waveform and ``log(log_floor)`` in the mels, as the original
HiFi-GAN pads short audio before taking its mels.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .schema import decode_example_audio

logger = logging.getLogger(__name__)

__all__ = [
    "VocoderCollator",
    "VocoderSegmentDataset",
    "load_vocoder_utterances",
    "segment_frames_for",
    "teacher_forced_features",
]


def load_vocoder_utterances(
    examples: Iterable[Mapping[str, Any]],
    feature_extractor: Any,
    *,
    base_dir: str | None = None,
    show_progress: bool = True,
    desc: str = "vocoder data",
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Rows ``{id, waveform, input_features}`` of every decodable example, and the skip counts.

    An example whose audio cannot be read or is shorter than one frame is skipped with a warning
    naming it and counted under its reason; nothing else is dropped. The waveform is cut to
    ``frames · hop`` samples (the tail shorter than a hop has no frame).
    """
    from tqdm.auto import tqdm

    hop, rate = int(feature_extractor.hop_length), int(feature_extractor.sampling_rate)
    rows: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for example in tqdm(examples, desc=desc, disable=not show_progress):
        name = str(example.get("id", len(rows)))
        try:
            waveform = decode_example_audio(example, rate, base_dir=base_dir)
        except Exception as error:  # a bad file must not end a long run
            logger.warning("vocoder data: skipping %s: cannot read its audio (%s)", name, error)
            skipped["unreadable audio"] += 1
            continue
        frames = len(waveform) // hop
        if frames < 1:
            logger.warning("vocoder data: skipping %s: %d samples, shorter than one hop (%d)", name, len(waveform), hop)
            skipped["shorter than one frame"] += 1
            continue
        waveform = np.ascontiguousarray(waveform[: frames * hop], dtype=np.float32)
        features = feature_extractor(waveform, sampling_rate=rate, return_tensors="np")["input_features"][0]
        rows.append({"id": name, "waveform": waveform, "input_features": features[:frames].astype(np.float32)})
    if not rows:
        raise ValueError(f"{desc}: no usable utterance (skipped: {dict(skipped) or 'none given'})")
    return rows, skipped


@torch.no_grad()
def teacher_forced_features(
    rows: Sequence[dict[str, Any]],
    prepared: Any,
    tts_model: Any,
    collator: Any,
    *,
    n_timesteps: int = 10,
    temperature: float = 1.5,
    seed: int = 0,
    show_progress: bool = True,
) -> list[dict[str, Any]]:
    """The rows with ``input_features`` replaced by the TTS model's mels of the same utterances.

    For each row the prepared corpus row of the same ``id`` gives the text; the model aligns it
    to the real mels (``align``: monotonic alignment under its encoder) and synthesises with those
    durations, so the generated mels have the real utterance's length and timing and the vocoder
    learns to turn *the model's* mels into *the real* waveform. One utterance at a time, each
    seeded by ``seed + index`` (same rows, same model → same features).

    Raises:
        KeyError: a row has no prepared counterpart (the text is needed).
    """
    from tqdm.auto import tqdm

    index = {row_id: i for i, row_id in enumerate(prepared.rows["id"] if hasattr(prepared, "rows") else [r["id"] for r in prepared])}
    missing = [row["id"] for row in rows if row["id"] not in index]
    if missing:
        raise KeyError(f"no prepared text for {len(missing)} vocoder utterances, e.g. {missing[:3]}")
    tts_model = tts_model.eval()
    device = next(tts_model.parameters()).device
    out: list[dict[str, Any]] = []
    for i, row in enumerate(tqdm(rows, desc="teacher-forced mels", disable=not show_progress)):
        batch = collator([prepared[index[row["id"]]]])
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        real = torch.from_numpy(row["input_features"])[None].to(device)
        frames = real.shape[1]
        text = {k: v for k, v in batch.items() if k not in ("spectrogram", "spectrogram_lengths", "phoneme_durations")}
        lengths = torch.tensor([frames], device=device)
        durations = tts_model.align(real, lengths, **text)
        generator = torch.Generator(device=device).manual_seed(seed + i)
        mel = tts_model.synthesize(
            n_timesteps=n_timesteps, temperature=temperature, durations=durations, generator=generator, **text
        )
        generated = mel.spectrogram[0, : int(mel.spectrogram_lengths[0])].float().cpu().numpy()
        if generated.shape[0] != frames:
            raise RuntimeError(f"{row['id']}: teacher-forced mels have {generated.shape[0]} frames, the audio {frames}")
        out.append({**row, "input_features": generated.astype(np.float32)})
    return out


class VocoderSegmentDataset(torch.utils.data.Dataset):
    """Random aligned (mel, waveform) windows of the utterances (see the module docstring).

    Args:
        rows: ``{id, waveform, input_features}`` rows (:func:`load_vocoder_utterances`).
        segment_frames: frames per window (the original's 8192-sample segment is 32 frames of 256).
        hop_length: samples per frame.
        pad_value: log-mel of silence for short items (``log(log_floor)``).
        seed: with the epoch and the item index, picks each window.
    """

    def __init__(self, rows: Sequence[dict[str, Any]], segment_frames: int, hop_length: int, pad_value: float, seed: int = 0) -> None:
        if segment_frames < 1:
            raise ValueError(f"segment_frames must be >= 1, got {segment_frames}")
        if not rows:
            raise ValueError("no utterances")
        for row in rows:
            frames = row["input_features"].shape[0]
            if row["waveform"].shape[0] != frames * hop_length:
                raise ValueError(
                    f"{row['id']}: {row['waveform'].shape[0]} samples for {frames} frames of {hop_length} (need frames × hop)"
                )
        self.rows, self.segment_frames, self.hop_length = list(rows), segment_frames, hop_length
        self.pad_value, self.seed, self.epoch = pad_value, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """New windows every epoch (the Trainer's epoch; a resumed run sets the same)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.rows[index]
        features, waveform = row["input_features"], row["waveform"]
        size, hop = self.segment_frames, self.hop_length
        frames = features.shape[0]
        if frames >= size:
            start = int(np.random.default_rng([self.seed, self.epoch, index]).integers(0, frames - size + 1))
            return {
                "id": row["id"],
                "input_features": features[start : start + size],
                "waveform": waveform[start * hop : (start + size) * hop],
            }
        padded_features = np.full((size, features.shape[1]), self.pad_value, dtype=np.float32)
        padded_features[:frames] = features
        padded_waveform = np.zeros(size * hop, dtype=np.float32)
        padded_waveform[: frames * hop] = waveform
        return {"id": row["id"], "input_features": padded_features, "waveform": padded_waveform}


class VocoderCollator:
    """Stack equal-size windows into ``input_features`` (B, T, n_mels) and ``waveform`` (B, T · hop)."""

    def __call__(self, items: Sequence[Mapping[str, np.ndarray]]) -> dict[str, torch.Tensor]:
        if not items:
            raise ValueError("empty batch")
        shapes = {tuple(item["input_features"].shape) for item in items}
        if len(shapes) != 1:
            raise ValueError(f"windows of different sizes in one batch: {sorted(shapes)}")
        return {
            "input_features": torch.from_numpy(np.stack([item["input_features"] for item in items])).float(),
            "waveform": torch.from_numpy(np.stack([item["waveform"] for item in items])).float(),
        }


def segment_frames_for(segment_size: int, hop_length: int) -> int:
    """Frames of a ``segment_size``-sample window (it must be a whole number of hops)."""
    if segment_size % hop_length:
        raise ValueError(f"segment_size {segment_size} is not a multiple of hop_length {hop_length}")
    return segment_size // hop_length

