"""Model configurations, one file per model family."""

from .contrastive import ProsodyContrastiveConfig
from .dual_stream import DualStreamConfig
from .ecapa_tdnn import EcapaTdnnConfig
from .grad_tts import GradTTSConfig
from .hifigan import HifiGanConfig
from .hifigan_training import HifiGanDiscriminatorConfig, HifiGanTrainingConfig
from .latent_diffusion import LatentDiffusionTTSConfig
from .mel_vae import MelVaeConfig
from .phoneme_aligner import PhonemeAlignerConfig
from .phoneme_recognizer import PhonemeRecognizerConfig
from .text_to_waveform import TextToWaveformConfig
from .vocoder import GriffinLimConfig

__all__ = ["DualStreamConfig", "EcapaTdnnConfig", "GradTTSConfig", "GriffinLimConfig", "HifiGanConfig", "HifiGanDiscriminatorConfig", "HifiGanTrainingConfig", "LatentDiffusionTTSConfig", "MelVaeConfig", "PhonemeAlignerConfig", "PhonemeRecognizerConfig", "ProsodyContrastiveConfig", "TextToWaveformConfig"]
