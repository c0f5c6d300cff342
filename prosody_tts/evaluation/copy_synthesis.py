"""Copy-synthesis quality of vocoders: real mels → waveform → mels again, compared with the real ones.

::

    held-out rows {waveform, input_features y (T, M)} ─ vocoder(y) ─► ŵ ─ MelFeatureExtractor ─► ŷ (T, M)
      mel L1 = mean |ŷ − y|                                              (natural-log mels)
      MCD    = (10 / ln 10) · sqrt(2 · Σ_{d=1..D} (c_d − ĉ_d)²), mean over frames
               c = cosine series of the log-mel frame (:func:`~.mcd.log_mel_cepstra`), c_0 left out

The frames stay aligned (a vocoder keeps the timing), so no time warping is done. The MCD here is
taken on cepstra of the 80-bin log-mel spectrum, not on SPTK mel-cepstra of the full spectrum:
it ranks vocoders on the same mels, it is not comparable with MCD figures of other papers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .mcd import log_mel_cepstra, mel_cepstral_distortion

__all__ = ["CopySynthesisScores", "evaluate_copy_synthesis"]

@dataclass
class CopySynthesisScores:
    """One vocoder's copy-synthesis errors (means over utterances, ``*_std`` their spread)."""

    mel_l1: float
    mel_l1_std: float
    mcd_db: float
    mcd_db_std: float
    utterances: int
    cepstral_coefficients: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@torch.no_grad()
def evaluate_copy_synthesis(
    vocoders: Mapping[str, torch.nn.Module],
    rows: Sequence[Mapping[str, Any]],
    feature_extractor: Any,
    *,
    coefficients: int = 13,
    seed: int = 0,
    show_progress: bool = True,
    sample_dir: str | os.PathLike | None = None,
    samples: int = 2,
) -> dict[str, CopySynthesisScores]:
    """Mel L1 and MCD of each vocoder's copy synthesis of ``rows`` (``{waveform, input_features}``).

    Each utterance is vocoded alone; a vocoder that draws noise (Griffin-Lim's initial phase) is
    seeded with ``seed + index`` (same rows → same numbers). With ``sample_dir``, the first
    ``samples`` utterances are written there to listen to: ``{id}.original.wav`` and
    ``{id}.{vocoder}.wav`` (float WAV).
    """
    import inspect

    from tqdm.auto import tqdm

    from ..modeling.loading import evaluating

    if not rows:
        raise ValueError("no rows to evaluate")
    rate = int(feature_extractor.sampling_rate)
    scores: dict[str, CopySynthesisScores] = {}
    for name, vocoder in vocoders.items():
        if hasattr(vocoder.config, "check_compatible"):
            vocoder.config.check_compatible(feature_extractor)
        seeded = "generator" in inspect.signature(vocoder.forward).parameters
        l1, mcd = [], []
        with evaluating(vocoder):
            device = vocoder.device
            for i, row in enumerate(tqdm(rows, desc=f"copy synthesis ({name})", disable=not show_progress)):
                target = torch.as_tensor(np.asarray(row["input_features"]), dtype=torch.float32)
                extra = {"generator": torch.Generator(device=device).manual_seed(seed + i)} if seeded else {}
                waveform = vocoder(target[None].to(device), return_dict=True, **extra).waveform[0].float().cpu().numpy()
                if sample_dir is not None and i < samples:
                    _write(sample_dir, row, name, waveform, rate)
                again = feature_extractor(waveform, sampling_rate=rate, return_tensors="pt")["input_features"][0]
                frames = min(again.shape[0], target.shape[0])
                l1.append(float((again[:frames] - target[:frames]).abs().mean()))
                mcd.append(mel_cepstral_distortion(
                    log_mel_cepstra(target[:frames].numpy(), coefficients),
                    log_mel_cepstra(again[:frames].numpy(), coefficients), align="none",
                ))  # fmt: skip
        scores[name] = CopySynthesisScores(
            mel_l1=float(np.mean(l1)), mel_l1_std=float(np.std(l1)), mcd_db=float(np.mean(mcd)),
            mcd_db_std=float(np.std(mcd)), utterances=len(l1), cepstral_coefficients=coefficients,
        )  # fmt: skip
    return scores


def _write(folder: str | os.PathLike, row: Mapping[str, Any], name: str, waveform: np.ndarray, rate: int) -> None:
    import soundfile

    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, str(row.get("id", "utterance")))
    if not os.path.isfile(f"{stem}.original.wav"):
        soundfile.write(f"{stem}.original.wav", np.asarray(row["waveform"], dtype=np.float32), rate, subtype="FLOAT")
    soundfile.write(f"{stem}.{name}.wav", waveform.astype(np.float32), rate, subtype="FLOAT")
