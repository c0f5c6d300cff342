"""HiFi-GAN under adversarial training: the generator, its discriminators and the two losses, one model.

::

    log-mel segment s (B, T, n_mels), waveform x (B, T · hop)
      mode="discriminator":  ŷ = G(s) (no grad) ─ D(x), D(ŷ) ─► L_D                      (D's step)
      mode="generator":      ŷ = G(s) ─ D(ŷ), D(x) (no grad) ─► L_adv + w_fm L_fm + w_mel L1(mel(x), mel(ŷ))

One module holds both players so a Trainer checkpoint holds generator and discriminators (and
DDP wraps one model: each mode is one forward and one backward; the discriminator mode leaves
the generator unused, so run DDP with ``find_unused_parameters``). The generator trains with
weight norm, as the original; :meth:`HifiGanTrainingModel.save_generator` saves it folded, as
a plain :class:`~prosody_tts.modeling.hifigan.HifiGanVocoder` for inference. The loss mels are
:class:`~prosody_tts.modeling.log_mel.LogMelSpectrogram` with the generator's settings up to
``loss_f_max`` (the original's ``fmax_for_loss``: Nyquist).

Example:
    >>> from prosody_tts.configuration.hifigan_training import HifiGanTrainingConfig
    >>> model = HifiGanTrainingModel(HifiGanTrainingConfig.tiny())
    >>> out = model(torch.zeros(2, 8, 80), torch.zeros(2, 2048), mode="generator")
    >>> sorted(k for k in out.keys() if k.endswith("loss"))
    ['adversarial_loss', 'feature_matching_loss', 'loss', 'mel_loss']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ..configuration.hifigan_training import HifiGanTrainingConfig
from .gan_losses import discriminator_loss, feature_matching_loss, generator_adversarial_loss
from .hifigan import HifiGanVocoder
from .hifigan_discriminator import HifiGanDiscriminator
from .log_mel import LogMelSpectrogram

__all__ = ["TRAINING_MODES", "HifiGanTrainingModel", "HifiGanTrainingOutput"]

#: ``forward`` modes: one player's loss each.
TRAINING_MODES: tuple[str, ...] = ("discriminator", "generator")


@dataclass
class HifiGanTrainingOutput(ModelOutput):
    """One player's loss and its parts.

    Args:
        loss: ``L_D`` (discriminator mode) or the generator's total.
        mel_loss / adversarial_loss / feature_matching_loss: the generator's parts, unweighted
            (generator mode only).
        waveform: the generated (B, samples) waveform.
    """

    loss: torch.FloatTensor | None = None
    mel_loss: torch.FloatTensor | None = None
    adversarial_loss: torch.FloatTensor | None = None
    feature_matching_loss: torch.FloatTensor | None = None
    waveform: torch.FloatTensor | None = None


class HifiGanTrainingModel(PreTrainedModel):
    """Generator + discriminators + losses (see the module docstring).

    Args:
        config: a :class:`HifiGanTrainingConfig`.
        generator / discriminator: ready modules to train instead of new ones (a converted
            published generator, for fine-tuning); :meth:`from_generator` is the usual way.
    """

    config_class = HifiGanTrainingConfig
    base_model_prefix = "hifigan_training"
    main_input_name = "input_features"

    def __init__(
        self,
        config: HifiGanTrainingConfig,
        generator: HifiGanVocoder | None = None,
        discriminator: HifiGanDiscriminator | None = None,
    ) -> None:
        super().__init__(config)
        self.generator = generator if generator is not None else HifiGanVocoder(config.generator_config)
        self.discriminator = (
            discriminator if discriminator is not None else HifiGanDiscriminator(config.discriminator_config)
        )
        if config.weight_norm and not self.generator.has_weight_norm:
            self.generator.apply_weight_norm()  # exact: g = ‖w‖, v = w
        self.loss_mel = LogMelSpectrogram.from_config(
            config.generator_config, f_max=config.loss_f_max, eps=config.loss_magnitude_eps, keep_f_max=False
        )
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        """The loss mels' derived buffers (uninitialised after ``from_pretrained`` otherwise); the
        generator and the discriminators keep their own ``_init_weights``."""
        if isinstance(module, LogMelSpectrogram):
            module.reset_buffers()

    @classmethod
    def from_generator(
        cls, generator: str | os.PathLike | HifiGanVocoder, discriminator: Any = None, **config: Any
    ) -> HifiGanTrainingModel:
        """Train (fine-tune) a saved generator: new discriminators of ``config["discriminator_config"]``
        (default: the original sizes) unless ``discriminator`` (a model or directory) is given."""
        from .loading import load_model

        generator = load_model(generator, HifiGanVocoder).folded_copy()  # a copy: the caller's stays as it is
        if discriminator is not None:
            discriminator = load_model(discriminator, HifiGanDiscriminator)
            config.setdefault("discriminator_config", discriminator.config)
        training_config = HifiGanTrainingConfig(generator_config=generator.config, **config)
        return cls(training_config, generator=generator, discriminator=discriminator)

    def save_generator(self, save_directory: str | os.PathLike, **kwargs: Any) -> HifiGanVocoder:
        """Save the generator alone, weight norm folded, for inference; returns the saved copy."""
        generator = self.generator.folded_copy().eval()
        generator.save_pretrained(save_directory, **kwargs)
        return generator

    def _check(self, input_features: torch.Tensor, waveform: torch.Tensor) -> None:
        config = self.config.generator_config
        if input_features.dim() != 3 or input_features.shape[-1] != config.model_in_dim:
            raise ValueError(f"input_features must be (batch, frames, {config.model_in_dim}), got {tuple(input_features.shape)}")
        expected = (input_features.shape[0], input_features.shape[1] * config.hop_length)
        if tuple(waveform.shape) != expected:
            raise ValueError(
                f"waveform must be (batch, frames × hop) = {expected} for these input_features, got {tuple(waveform.shape)}"
            )

    def forward(
        self,
        input_features: torch.Tensor,
        waveform: torch.Tensor,
        mode: str = "generator",
        return_dict: bool | None = None,
    ) -> HifiGanTrainingOutput | tuple:
        """One player's loss on (B, T, n_mels) log-mel segments and their (B, T · hop) waveforms."""
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if mode not in TRAINING_MODES:
            raise ValueError(f"mode must be one of {TRAINING_MODES}, got {mode!r}")
        self._check(input_features, waveform)
        real = waveform[:, None, :]
        if mode == "discriminator":
            with torch.no_grad():
                fake = self.generator(input_features, return_dict=True).waveform
            scores_real = self.discriminator(real, return_dict=True).scores
            scores_fake = self.discriminator(fake.detach()[:, None, :], return_dict=True).scores
            output = HifiGanTrainingOutput(loss=discriminator_loss(scores_real, scores_fake), waveform=fake)
        else:
            fake = self.generator(input_features, return_dict=True).waveform
            judged = self.discriminator(fake[:, None, :], return_dict=True)
            with torch.no_grad():
                reference = self.discriminator(real, return_dict=True)
            mel_loss = torch.nn.functional.l1_loss(self.loss_mel(fake), self.loss_mel(waveform))
            adversarial = generator_adversarial_loss(judged.scores)
            matching = feature_matching_loss(reference.feature_maps, judged.feature_maps)
            config = self.config
            loss = adversarial + config.feature_matching_weight * matching + config.mel_loss_weight * mel_loss
            output = HifiGanTrainingOutput(
                loss=loss, mel_loss=mel_loss, adversarial_loss=adversarial, feature_matching_loss=matching, waveform=fake
            )
        return output if return_dict else output.to_tuple()
