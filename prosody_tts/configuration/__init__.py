"""Model configurations, one file per model family."""

from .dual_stream import DualStreamConfig

__all__ = ["DualStreamConfig"]
