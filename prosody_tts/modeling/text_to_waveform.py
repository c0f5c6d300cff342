"""Text → waveform in one model: a TTS head (Grad-TTS or latent diffusion) and a vocoder (Griffin-Lim or HiFi-GAN).

::

    processor keys (phoneme_*, bpe_*) [+ speaker name / id]
      ─ tts.synthesize(n_timesteps, temperature, length_scale, seeded noise) ─► log-mels (B, T, M), lengths
      ─ vocoder ─► waveform (B, samples) at config.sampling_rate, lengths = frames · hop

Why a composite: transformers' text-to-speech pipeline downloads ``microsoft/speecht5_hifigan``
for a bare text-to-spectrogram model given no vocoder; a model whose ``forward`` returns the
waveform first is called directly (``model(**inputs)[0]``), offline. Saved as one directory (the
vocoder sub-config included), loaded with ``AutoModel`` and ``pipeline("text-to-speech", model=DIR)``.

Example:
    >>> import prosody_tts
    >>> from prosody_tts.configuration import GradTTSConfig, GriffinLimConfig
    >>> config = TextToWaveformConfig(tts_config=GradTTSConfig.tiny(), vocoder_config=GriffinLimConfig(n_iter=2, nnls_iter=2))
    >>> out = TextToWaveformModel(config).eval()(input_ids=torch.tensor([[148, 5, 148]]), n_timesteps=1)
    >>> out.waveform.shape[1] == int(out.spectrogram_lengths[0]) * 256
    True
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from transformers import AutoModel, PreTrainedModel

from ..configuration.text_to_waveform import TextToWaveformConfig
from .outputs import TextToWaveformOutput

__all__ = ["TextToWaveformModel"]


class TextToWaveformModel(PreTrainedModel):
    """A TTS head and a vocoder; ``forward`` speaks (see the module docstring).

    Args:
        config: a :class:`TextToWaveformConfig`.
        tts / vocoder: ready modules to use instead of new ones built from the sub-configs
            (:meth:`from_parts` is the usual way).
    """

    config_class = TextToWaveformConfig
    base_model_prefix = "text_to_waveform"
    main_input_name = "phoneme_input_ids"

    def __init__(self, config: TextToWaveformConfig, tts: PreTrainedModel | None = None, vocoder: Any = None) -> None:
        super().__init__(config)
        self.tts = tts if tts is not None else AutoModel.from_config(config.tts_config)
        self.vocoder = vocoder if vocoder is not None else AutoModel.from_config(config.vocoder_config)
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        """Nothing of its own: both parts keep their ``_init_weights`` (v5 dispatches nested models)."""

    @classmethod
    def from_parts(cls, tts: Any, vocoder: Any, **defaults: Any) -> TextToWaveformModel:
        """A composite of a trained TTS model and a vocoder (instances or directories), with synthesis
        ``defaults`` (``n_timesteps``, ``temperature``, ``length_scale``, ``seed``); unset ones come
        from the head's ``synthesis_defaults`` when it has them (latent diffusion: 25 steps, no
        tempering), else the config's."""
        from .loading import load_model

        tts, vocoder = load_model(tts, PreTrainedModel), load_model(vocoder, PreTrainedModel)
        defaults = {**getattr(tts, "synthesis_defaults", {}), **defaults}  # the head's own, e.g. 25 steps
        config = TextToWaveformConfig(tts_config=tts.config, vocoder_config=vocoder.config, **defaults)
        return cls(config, tts=tts, vocoder=vocoder)

    def _speaker_ids(self, speaker: Any, batch: int) -> torch.Tensor:
        """One speaker (a name, a row number) for every item, or a list of one per item."""
        speakers = list(speaker) if isinstance(speaker, (list, tuple)) else [speaker] * batch
        if len(speakers) != batch:
            raise ValueError(f"{len(speakers)} speakers for {batch} texts")
        return torch.tensor([self.tts.speaker_id(s) for s in speakers], device=self.device)

    def forward(
        self,
        speaker: str | int | list | None = None,
        n_timesteps: int | None = None,
        temperature: float | None = None,
        length_scale: float | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        return_dict: bool | None = None,
        **inputs: Any,
    ) -> TextToWaveformOutput | tuple:
        """Waveforms of the processor's text inputs (or ``input_ids`` for the faithful encoder).

        Args:
            speaker: a speaker name (``tts.config.speaker_names``) or row, one for all items or a
                list; or pass ``speaker_ids`` / ``speaker_embeds`` tensors in ``inputs``.
            n_timesteps / temperature / length_scale / seed: override the config's defaults.
            generator: seeds the noise instead of ``seed`` (the TTS head's, then a vocoder's that
                takes one, e.g. Griffin-Lim's initial phase).
            inputs: text keys, ``speaker_ids``, ``speaker_embeds``, and the head's own synthesis
                options (Grad-TTS: ``durations``, ``stochastic``; latent diffusion:
                ``guidance_scale``, ``latent_lengths``, ``prompt_spectrogram``, ``prompt_phonemes``).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        config = self.config
        text = inputs.get("phoneme_input_ids", inputs.get("input_ids"))
        if text is None:
            raise ValueError("no text: pass the processor's keys (phoneme_input_ids, ...) or input_ids")
        if speaker is not None:
            if inputs.get("speaker_ids") is not None:
                raise ValueError("give speaker or speaker_ids, not both")
            inputs["speaker_ids"] = self._speaker_ids(speaker, text.shape[0])
        if generator is None:
            seed = config.seed if seed is None else seed
            generator = None if seed is None else torch.Generator(device=self.device).manual_seed(int(seed))
        mel = self.tts.synthesize(
            n_timesteps=config.n_timesteps if n_timesteps is None else n_timesteps,
            temperature=config.temperature if temperature is None else temperature,
            length_scale=config.length_scale if length_scale is None else length_scale,
            generator=generator,
            **inputs,
        )
        seeded = {"generator": generator} if "generator" in inspect.signature(self.vocoder.forward).parameters else {}
        audio = self.vocoder(mel.spectrogram, mel.spectrogram_lengths, return_dict=True, **seeded)
        output = TextToWaveformOutput(
            waveform=audio.waveform,
            waveform_lengths=audio.waveform_lengths,
            spectrogram=mel.spectrogram,
            spectrogram_lengths=mel.spectrogram_lengths,
            durations=mel.durations,
        )
        return output if return_dict else output.to_tuple()
