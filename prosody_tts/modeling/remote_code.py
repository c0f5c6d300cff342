"""``register_for_auto_class`` + ``save_pretrained`` / ``push_to_hub`` that ship working remote code.

transformers' own remote-code saving copies a model's module and its relative imports flat into
the directory, which cannot work for this package's layout (``configuration/`` and
``modeling/`` folders, two-dot imports, two modules both named ``dual_stream.py``). Once a class
is registered with ``register_for_auto_class``, this mixin routes ``save_pretrained`` (which
``push_to_hub`` calls) through :func:`prosody_tts.hub.save_for_remote_code`, which writes
flattened same-folder copies of the code and the ``auto_map``. Unregistered models save as usual.
"""

from __future__ import annotations

import importlib
import os
from typing import Any


class RemoteCodeSaveMixin:
    """Mixed into each family's ``PreTrainedModel`` base class, before ``PreTrainedModel``."""

    def save_pretrained(self, save_directory: str | os.PathLike, *args: Any, **kwargs: Any) -> Any:
        if getattr(type(self), "_auto_class", None) is None or args or kwargs.get("push_to_hub"):
            return super().save_pretrained(save_directory, *args, **kwargs)
        # imported by name: the flattened remote copy of this file must not import the package
        hub = importlib.import_module("prosody_tts.hub")
        hub.save_for_remote_code(self, save_directory, **kwargs)
        return None
