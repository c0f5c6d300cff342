"""Original HiFi-GAN checkpoints (``g_02500000`` + ``config.json``) → :class:`HifiGanVocoder` directories.

The original repository (jik876/hifi-gan, also vendored by Grad-TTS) saves the generator as
``{"generator": state_dict}`` with weight norm on every convolution (``weight_g``, ``weight_v``)
and names the upsampling layers ``ups``. The conversion:

* folds weight norm: ``weight = weight_g · weight_v / ‖weight_v‖`` (norm over every dimension but
  the first, as ``torch.nn.utils.weight_norm(dim=0)``, for convolutions and transposed ones alike);
* renames ``ups.N`` → ``upsampler.N`` (transformers' name); everything else keeps its name
  (``conv_pre``, ``resblocks.N.convs1.M`` / ``convs2.M`` / ``convs.M`` for V3, ``conv_post``);
* reads the generator sizes and the mel settings from the original ``config.json``
  (:meth:`~prosody_tts.configuration.hifigan.HifiGanConfig.from_original`).

The discriminators (``do_*`` files: ``{"mpd", "msd", "optim_g", "optim_d", "steps", "epoch"}``)
convert too, for fine-tuning a published vocoder with its own discriminators:
:func:`convert_hifigan_discriminators` maps ``mpd.discriminators.i`` → ``period.discriminators.i``
and ``msd.discriminators.i`` → ``scale.discriminators.i``, weight norm (``weight_g``, ``weight_v``)
and the first scale's spectral norm (``weight_orig``, ``weight_u``, ``weight_v``) onto
``torch.nn.utils.parametrizations`` (``original0``/``original1``; ``original``, ``0._u``, ``0._v``).
The optimiser states are not carried over.

Any missing, unexpected or mis-shaped key is an error naming it: nothing is dropped.

``prosody-tts convert hifigan CKPT --config CONFIG_JSON --out DIR [--discriminators DO_FILE]``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..configuration.hifigan import HifiGanConfig
from .hifigan import HifiGanVocoder, fold_weight_norm
from .loading import load_exactly

__all__ = [
    "convert_hifigan_checkpoint",
    "convert_hifigan_discriminators",
    "convert_hifigan_state_dict",
    "load_original_generator",
]

_RENAMES = ((re.compile(r"^ups\."), "upsampler."),)
#: old-API parameter suffix → parametrisation suffix (weight norm, then spectral norm)
_NORM_SUFFIXES = {
    "weight_g": "parametrizations.weight.original0",
    "weight_v": "parametrizations.weight.original1",
    "weight_orig": "parametrizations.weight.original",
    "weight_u": "parametrizations.weight.0._u",
}


def load_original_generator(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The generator's state dict of an original checkpoint file (``{"generator": ...}`` or bare)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file {os.fspath(path)!r}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, Mapping) and "generator" in state:
        state = state["generator"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"{os.fspath(path)!r} is not a HiFi-GAN generator checkpoint (a g_* file holding "
            "{'generator': state_dict}); do_* files hold the discriminators"
        )
    return {re.sub(r"^module\.", "", key): value for key, value in state.items()}


def convert_hifigan_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our key layout, weight norm folded (see the module docstring)."""
    converted: dict[str, torch.Tensor] = {}
    for key, value in fold_weight_norm(dict(state)).items():
        for pattern, replacement in _RENAMES:
            key = pattern.sub(replacement, key)
        converted[key] = value
    return converted


def convert_hifigan_checkpoint(
    checkpoint: str | os.PathLike | Mapping[str, torch.Tensor],
    config: str | os.PathLike | Mapping[str, Any] | HifiGanConfig,
    out_dir: str | os.PathLike | None = None,
    **overrides: Any,
) -> HifiGanVocoder:
    """Build the vocoder of an original checkpoint and its ``config.json``, load it strictly, optionally save it.

    Args:
        checkpoint: a ``g_*`` file or its generator state dict.
        config: the original ``config.json`` (a path or the parsed dict) or a ready :class:`HifiGanConfig`.
        overrides: :class:`HifiGanConfig` fields to set (e.g. ``f_max`` when the config's is wrong).
    """
    if isinstance(config, (str, os.PathLike)):
        if not os.path.isfile(config):
            raise FileNotFoundError(f"no HiFi-GAN config file {os.fspath(config)!r}")
        config = json.loads(Path(config).read_text(encoding="utf-8"))
    if not isinstance(config, HifiGanConfig):
        config = HifiGanConfig.from_original(config, **overrides)
    state = load_original_generator(checkpoint) if isinstance(checkpoint, (str, os.PathLike)) else dict(checkpoint)
    model = HifiGanVocoder(config)
    converted = convert_hifigan_state_dict(state)
    for name, buffer in (("mean", model.mean), ("scale", model.scale)):  # unused (normalize_before off)
        converted.setdefault(name, buffer.detach().clone())
    load_exactly(model, converted, "the HiFi-GAN checkpoint")
    model.eval()
    if out_dir is not None:
        model.save_pretrained(out_dir)
    return model


def convert_hifigan_discriminators(
    checkpoint: str | os.PathLike | Mapping[str, Any], config: Any = None
) -> Any:
    """Our :class:`HifiGanDiscriminator` holding an original ``do_*`` file's MPD and MSD weights.

    Args:
        checkpoint: the ``do_*`` path or its loaded dict (``{"mpd": ..., "msd": ...}``).
        config: the discriminators' config (default: the original sizes).
    """
    from ..configuration.hifigan_training import HifiGanDiscriminatorConfig
    from .hifigan_discriminator import HifiGanDiscriminator

    if isinstance(checkpoint, (str, os.PathLike)):
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f"no checkpoint file {os.fspath(checkpoint)!r}")
        checkpoint = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, Mapping) or not {"mpd", "msd"} <= set(checkpoint):
        raise ValueError("not a HiFi-GAN discriminator checkpoint (a do_* file holding 'mpd' and 'msd')")
    state: dict[str, torch.Tensor] = {}
    for theirs, ours in (("mpd", "period"), ("msd", "scale")):
        for key, value in checkpoint[theirs].items():
            key = re.sub(r"^module\.", "", key)
            scale_zero = theirs == "msd" and key.startswith("discriminators.0.")
            head, _, suffix = key.rpartition(".")
            if suffix == "weight_v" and scale_zero:  # spectral norm's v vector, not weight norm's direction
                suffix = "parametrizations.weight.0._v"
            state[f"{ours}.{head}.{_NORM_SUFFIXES.get(suffix, suffix)}"] = value
    model = HifiGanDiscriminator(config or HifiGanDiscriminatorConfig())
    load_exactly(model, state, "the HiFi-GAN discriminator checkpoint")
    return model
