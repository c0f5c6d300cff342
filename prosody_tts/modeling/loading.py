"""Loading a trained model for inference, and running it in eval mode without losing the caller's state.

Example:
    >>> import torch
    >>> from prosody_tts import DualStreamConfig, DualStreamModel
    >>> model = DualStreamModel(DualStreamConfig.tiny()).train()
    >>> with evaluating(model) as running:
    ...     running.training
    False
    >>> model.training  # restored
    True
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch

__all__ = ["evaluating", "load_exactly", "load_model"]


def _from_directory(path: str | os.PathLike) -> torch.nn.Module:
    """A saved directory through the Auto classes; an MLM checkpoint through its own class, so no
    fusion weights are invented for a stage-1 encoder."""
    from transformers import AutoConfig, AutoModel

    from ..configuration.dual_stream import DualStreamConfig
    from .dual_stream import DualStreamForMaskedLM

    if not os.path.isdir(path):
        raise FileNotFoundError(f"no model directory {os.fspath(path)!r}")
    config = AutoConfig.from_pretrained(path)
    if isinstance(config, DualStreamConfig) and "DualStreamForMaskedLM" in (config.architectures or []):
        return DualStreamForMaskedLM.from_pretrained(path)
    return AutoModel.from_pretrained(path)


def load_model(model: Any, expected: type | tuple[type, ...] = torch.nn.Module) -> torch.nn.Module:
    """``model`` itself, or the model saved in the directory ``model``; a clear error for anything else.

    Args:
        model: a model instance or a ``save_pretrained`` directory (str / PathLike).
        expected: the class (or classes) the caller can use.
    """
    if isinstance(model, (str, os.PathLike)):
        model = _from_directory(model)
    if not isinstance(model, expected):
        names = ", ".join(cls.__name__ for cls in (expected if isinstance(expected, tuple) else (expected,)))
        raise TypeError(f"model must be one of ({names}) or a directory holding one, got {type(model).__name__}")
    return model


@contextlib.contextmanager
def evaluating(model: torch.nn.Module, device: str | torch.device | None = None) -> Iterator[torch.nn.Module]:
    """Eval mode (and ``device``, when given) for the block; train flag and device come back afterwards."""
    parameter = next(model.parameters(), None)
    original_device = parameter.device if parameter is not None else None
    was_training = model.training
    if device is not None:
        model.to(device)
    model.eval()
    try:
        yield model
    finally:
        if device is not None and original_device is not None:
            model.to(original_device)
        model.train(was_training)


def load_exactly(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """``load_state_dict(strict=True)``, after an error that names what does not fit (nothing dropped).

    Args:
        source: what the state dict is, for the message (``"the HiFi-GAN checkpoint"``).
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise ValueError(
            f"{source} does not fit {type(model).__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}, "
            f"wrong shape {wrong[:5]} ({len(missing)}, {len(unexpected)}, {len(wrong)} in all)"
        )
    model.load_state_dict(state, strict=True)
