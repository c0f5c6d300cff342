"""``pipeline("text-to-speech")`` for this project's models, offline.

::

    texts ─► DualStreamProcessor (AutoProcessor of the model dir) ─► phoneme_* / bpe_* tensors
      ├─ TextToWaveformModel ─ forward(speaker, n_timesteps, …) ─► waveform (1, samples)   [out[0]]
      └─ GradTTSModel / LatentDiffusionTTSModel (text-to-spectrogram) ─► log-mels ─► vocoder ─► waveform
                 vocoder: vocoder= (model or dir) · else DIR/vocoder/ (HiFi-GAN) · else Griffin-Lim
    ─► {"audio": (samples,) float32, "sampling_rate": 22050}

The stock text-to-audio pipeline already runs a composite :class:`TextToWaveformModel` (it is
forward-only and puts ``waveform`` first). :class:`ProsodyTextToAudioPipeline` adds two things
for a bare text-to-spectrogram model of this project: ``vocoder=`` may be a directory (loaded
with ``AutoModel``), and without one it uses the vocoder saved in the model directory's
``vocoder/`` sub-folder, else Griffin-Lim built from the model's mel settings, instead of
downloading ``microsoft/speecht5_hifigan``. A vocoder whose mel settings differ from the
processor's feature extractor is refused (the fields are named). For every other model it is the
stock pipeline, unchanged (it is installed as the task's class by :mod:`prosody_tts.registration`).

Example:
    >>> from transformers import pipeline
    >>> tts = pipeline("text-to-speech", model="demo/tts")  # doctest: +SKIP
    >>> tts("Привет, мир!", forward_params={"speaker": "espeak_f1"})["sampling_rate"]  # doctest: +SKIP
    22050
"""

from __future__ import annotations

import os
from typing import Any

from transformers import TextToAudioPipeline

__all__ = ["ProsodyTextToAudioPipeline", "check_mels", "default_vocoder", "load_text_to_speech", "voice_prompt_inputs"]


def default_vocoder(model: Any) -> Any:
    """The vocoder of a text-to-spectrogram model of this project, or None for any other model.

    The one saved in the model directory's ``vocoder/`` sub-folder (``model.name_or_path``) when
    there is one, else Griffin-Lim with the model's mel settings.
    """
    from transformers import AutoModel

    from ..configuration.grad_tts import GradTTSConfig
    from ..configuration.latent_diffusion import LatentDiffusionTTSConfig
    from ..configuration.vocoder import GriffinLimConfig
    from ..constants import VOCODER_SUBFOLDER
    from ..modeling.griffin_lim import GriffinLimVocoder

    config = getattr(model, "config", None)
    if not isinstance(config, (GradTTSConfig, LatentDiffusionTTSConfig)):
        return None
    saved = os.path.join(str(getattr(model, "name_or_path", "") or ""), VOCODER_SUBFOLDER)
    if os.path.isfile(os.path.join(saved, "config.json")):
        return AutoModel.from_pretrained(saved)
    return GriffinLimVocoder(
        GriffinLimConfig(sampling_rate=config.sampling_rate, hop_length=config.hop_length, num_mel_bins=config.n_mels)
    )


class ProsodyTextToAudioPipeline(TextToAudioPipeline):
    """The text-to-audio pipeline, plus a directory ``vocoder=`` and an offline default vocoder for
    this project's text-to-spectrogram models (see the module docstring)."""

    def __init__(self, *args: Any, vocoder: Any = None, **kwargs: Any) -> None:
        from transformers import AutoModel

        if isinstance(vocoder, (str, os.PathLike)):
            vocoder = AutoModel.from_pretrained(vocoder)
        model = kwargs.get("model", args[0] if args else None)
        if vocoder is None:
            vocoder = default_vocoder(model)
        super().__init__(*args, vocoder=vocoder, **kwargs)
        if self.vocoder is not None and not hasattr(self.vocoder, "config"):
            raise TypeError(f"vocoder must be a model or a model directory, got {type(self.vocoder).__name__}")
        vocoder_config = getattr(self.model.config, "vocoder_config", None) or getattr(self.vocoder, "config", None)
        check_mels(vocoder_config, getattr(self, "processor", None))


def check_mels(vocoder_config: Any, processor: Any) -> None:
    """Refuse a vocoder whose mel settings differ from the processor's feature extractor (if both are known)."""
    extractor = getattr(processor, "feature_extractor", None)
    if extractor is not None and hasattr(vocoder_config, "check_compatible"):
        vocoder_config.check_compatible(extractor)


def load_text_to_speech(model: Any, vocoder: Any = None) -> tuple[Any, Any]:
    """(a ``TextToWaveformModel``, its ``DualStreamProcessor``) from a directory or model.

    ``model`` is a composite text-to-waveform directory, or a text-to-spectrogram (Grad-TTS)
    directory that is joined to ``vocoder`` (a directory or model; default: the directory's
    ``vocoder/`` sub-folder, else Griffin-Lim from its mel settings); ``vocoder`` also replaces a
    composite's own. The processor is read from the model directory, and a vocoder whose mel
    settings differ from its feature extractor's is refused.
    """
    from ..modeling.loading import load_model
    from ..modeling.text_to_waveform import TextToWaveformModel
    from ..processing.processing_dual_stream import DualStreamProcessor

    loaded = load_model(model)
    if not isinstance(loaded, TextToWaveformModel):
        vocoder = load_model(vocoder) if vocoder is not None else default_vocoder(loaded)
        if vocoder is None:
            raise TypeError(f"{type(loaded).__name__} is not a TTS model of this project (no default vocoder)")
        loaded = TextToWaveformModel.from_parts(loaded, vocoder)
    elif vocoder is not None:
        loaded = TextToWaveformModel.from_parts(loaded.tts, load_model(vocoder))
    if not isinstance(model, (str, os.PathLike)) or not os.path.isfile(os.path.join(model, "processor_config.json")):
        raise FileNotFoundError(f"no processor in {model!r}: save the DualStreamProcessor into the model directory")
    processor = DualStreamProcessor.from_pretrained(model)
    check_mels(loaded.config.vocoder_config, processor)
    return loaded.eval(), processor


def voice_prompt_inputs(processor: Any, text: str, prompt_audio: Any, prompt_text: str) -> dict[str, Any]:
    """The inputs of a latent-diffusion head that continues a voice prompt with ``text``.

    ``prompt_audio`` (a path or encoded bytes) is decoded and resampled to the processor's rate and
    turned into log-mels (``prompt_spectrogram`` (1, T, M)); the text keys are those of
    ``prompt_text + " " + text`` (the head reads the prompt's transcript before the new text), and
    ``prompt_phonemes`` counts the leading phoneme tokens that belong to the transcript (its
    ``<s>`` and phonemes, not its ``</s>``), from which the head takes the prompt's speaking rate.
    """
    import torch

    from ..processing.audio import load_audio

    if not prompt_text or not prompt_text.strip():
        raise ValueError("a voice prompt needs its transcript (prompt_text): the head continues it")
    extractor = processor.feature_extractor
    waveform, rate = load_audio(prompt_audio, int(extractor.sampling_rate))
    features = extractor(waveform, sampling_rate=rate, return_tensors="pt")["input_features"]
    prompt_ids = processor(text=prompt_text.strip(), return_tensors="pt")["phoneme_input_ids"]
    inputs = dict(processor(text=f"{prompt_text.strip()} {text.strip()}", return_tensors="pt"))
    inputs["prompt_spectrogram"] = features.float()
    inputs["prompt_phonemes"] = torch.tensor([prompt_ids.shape[1] - 1])
    return inputs
