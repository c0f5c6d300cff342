"""SIM-o: speaker similarity of synthesised speech to the original recording.

::

    waveform @ any rate ─ SpeakerEncoder.embed ─► e (E,) ─┐
    original @ any rate ─ SpeakerEncoder.embed ─► e' (E,) ┴─ cos(e, e') ∈ [-1, 1]   (SIM-o)

Three encoders, chosen by :func:`load_speaker_encoder`:

* ``"resemblyzer"`` (default): the GE2E encoder whose weights ship inside the ``resemblyzer``
  wheel (16 kHz, its own VAD trimming and volume normalisation; 256-d);
* ``"ecapa:DIR"``: our ECAPA-TDNN audio tower, from an ``EcapaTdnnModel`` or a contrastive
  model directory (its ``audio_model``), with the feature extractor saved beside it;
* ``DIR``: any transformers speaker-verification checkpoint a user holds locally
  (``AutoModelForAudioXVector``: WavLM / wav2vec2 / UniSpeech-SAT x-vector heads), with its
  feature extractor.

Nothing is downloaded: a directory that does not exist is an error, not a Hub id.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np
import torch

from ..processing.audio import prepare_waveform

__all__ = [
    "EcapaSpeakerEncoder",
    "ResemblyzerSpeakerEncoder",
    "SpeakerEncoder",
    "TransformersSpeakerEncoder",
    "cosine_similarity",
    "load_speaker_encoder",
    "speaker_similarity",
]


class SpeakerEncoder(Protocol):
    """Anything that turns one waveform into a speaker embedding."""

    name: str

    def embed(self, waveform: np.ndarray, sampling_rate: int) -> np.ndarray: ...


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two embedding vectors (error for a zero vector)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"embeddings of different sizes: {a.shape} and {b.shape}")
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0 or not np.isfinite(norms):
        raise ValueError("a speaker embedding is zero or not finite: is the audio silent?")
    return float(np.dot(a, b) / norms)


def speaker_similarity(
    encoder: SpeakerEncoder, synthesized: np.ndarray, original: np.ndarray, synthesized_rate: int, original_rate: int
) -> float:
    """SIM-o of one pair with ``encoder``."""
    return cosine_similarity(encoder.embed(synthesized, synthesized_rate), encoder.embed(original, original_rate))


class ResemblyzerSpeakerEncoder:
    """resemblyzer's GE2E encoder (weights in its wheel), on CPU unless ``device`` says otherwise."""

    name = "resemblyzer"

    def __init__(self, device: str | None = None) -> None:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "SIM-o with resemblyzer needs `pip install resemblyzer webrtcvad-wheels` "
                "(or `pip install 'prosody-tts[eval]'`)"
            ) from err
        self._encoder = VoiceEncoder(device=device or "cpu", verbose=False)

    def embed(self, waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        audio = prepare_waveform(np.asarray(waveform), int(sampling_rate))
        audio = preprocess_wav(audio, source_sr=int(sampling_rate))
        if audio.size == 0:
            raise ValueError("resemblyzer's voice-activity trimming left no speech in the audio")
        return np.asarray(self._encoder.embed_utterance(audio), dtype=np.float64)


class EcapaSpeakerEncoder:
    """Our ECAPA-TDNN tower's utterance embedding (a tower or a contrastive model directory)."""

    def __init__(self, path: str | os.PathLike, device: str | None = None) -> None:
        from transformers import AutoModel

        from ..modeling import EcapaTdnnModel
        from ..processing import MelFeatureExtractor

        _require_dir(path, "ECAPA")
        model = AutoModel.from_pretrained(os.fspath(path))
        model = getattr(model, "audio_model", model)
        if not isinstance(model, EcapaTdnnModel):
            raise ValueError(
                f"{path} holds a {type(model).__name__}, not an ECAPA-TDNN tower or a contrastive model "
                "with one (audio_model)"
            )
        self.model = model.to(device or "cpu").eval()
        self.feature_extractor = MelFeatureExtractor.from_pretrained(os.fspath(path))
        self.name = f"ecapa:{os.fspath(path)}"

    @torch.no_grad()
    def embed(self, waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
        features = self.feature_extractor(
            np.asarray(waveform), sampling_rate=int(sampling_rate), return_tensors="pt", return_attention_mask=True
        )
        inputs = {key: value.to(self.model.device) for key, value in features.items()}
        output = self.model(inputs["input_features"], inputs.get("attention_mask"), return_dict=True)
        return output.embeddings[0].double().cpu().numpy()


class TransformersSpeakerEncoder:
    """A local transformers x-vector checkpoint (``AutoModelForAudioXVector`` + its feature extractor)."""

    def __init__(self, path: str | os.PathLike, device: str | None = None) -> None:
        from transformers import AutoFeatureExtractor, AutoModelForAudioXVector

        _require_dir(path, "speaker-verification")
        self.model = AutoModelForAudioXVector.from_pretrained(os.fspath(path)).to(device or "cpu").eval()
        self.feature_extractor = AutoFeatureExtractor.from_pretrained(os.fspath(path))
        self.name = os.fspath(path)

    @torch.no_grad()
    def embed(self, waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
        rate = int(self.feature_extractor.sampling_rate)
        audio = prepare_waveform(np.asarray(waveform), int(sampling_rate), rate)
        inputs = self.feature_extractor(audio, sampling_rate=rate, return_tensors="pt")
        inputs = {key: value.to(self.model.device) for key, value in inputs.items()}
        return self.model(**inputs).embeddings[0].double().cpu().numpy()


def load_speaker_encoder(spec: str = "resemblyzer", device: str | None = None) -> SpeakerEncoder:
    """``"resemblyzer"``, ``"ecapa:DIR"`` or a local x-vector checkpoint ``DIR`` (see the module doc)."""
    if spec == "resemblyzer":
        return ResemblyzerSpeakerEncoder(device)
    if spec.startswith("ecapa:"):
        return EcapaSpeakerEncoder(spec[len("ecapa:") :], device)
    return TransformersSpeakerEncoder(spec, device)


def _require_dir(path: str | os.PathLike, what: str) -> None:
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"{what} model directory not found: {os.fspath(path)} (SIM-o encoders are local "
            "directories; nothing is downloaded)"
        )

