"""MOS *proxy*: DNSMOS (Reddy et al. 2022), a non-intrusive predictor of listener ratings.

::

    waveform @ any rate ─ 16 kHz mono ─ [clip to ±1, counted] ─ speechmos.dnsmos (ONNX, in its wheel)
      ─► p808_mos (ITU-T P.808 MOS), ovrl_mos, sig_mos, bak_mos (P.835 overall / signal / background)

DNSMOS was trained on noisy, reverberant and enhanced speech ratings, not on TTS: it is a proxy
of MOS, never MOS, and is named so in every table. Clips shorter than its 9 s input are tiled
by speechmos to 9 s. Needs ``speechmos``, ``onnxruntime`` and ``librosa``
(``pip install 'prosody-tts[eval]'``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..processing.audio import prepare_waveform

__all__ = ["DNSMOS_RATE", "DnsMos"]

#: the rate the DNSMOS models take
DNSMOS_RATE = 16000


class DnsMos:
    """DNSMOS P.808 / P.835 proxy scores of one waveform (``score(waveform, rate)``)."""

    name = "dnsmos"

    def __init__(self, personalized: bool = False) -> None:
        try:
            from speechmos import dnsmos
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the MOS proxy needs `pip install speechmos onnxruntime librosa` (or `pip install 'prosody-tts[eval]'`)"
            ) from err
        self._dnsmos = dnsmos
        self._model_type = "dnsmos_personalized" if personalized else "dnsmos"

    def score(self, waveform: np.ndarray, sampling_rate: int) -> dict[str, Any]:
        """``{p808_mos, ovrl_mos, sig_mos, bak_mos, clipped_samples}`` of one utterance."""
        audio = prepare_waveform(np.asarray(waveform), int(sampling_rate), DNSMOS_RATE)
        clipped = int(np.count_nonzero(np.abs(audio) > 1.0))
        audio = np.clip(audio, -1.0, 1.0)
        if not np.any(audio):
            raise ValueError("DNSMOS of silent audio is undefined")
        result = self._dnsmos.run(audio, DNSMOS_RATE, model_type=self._model_type)
        scores = {key: float(result[key]) for key in ("p808_mos", "ovrl_mos", "sig_mos", "bak_mos")}
        scores["clipped_samples"] = clipped
        return scores
