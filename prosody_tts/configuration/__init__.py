"""Model configurations, one file per model family."""

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.ecapa_tdnn import EcapaTdnnConfig

__all__ = ["DualStreamConfig", "EcapaTdnnConfig", "ProsodyContrastiveConfig"]
