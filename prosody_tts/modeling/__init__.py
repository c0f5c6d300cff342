"""Models of prosody_tts, one module per family, shared blocks in ``layers``."""

from .contrastive import ProsodyContrastiveModel, load_stage1_weights
from .dual_stream import DualStreamForMaskedLM, DualStreamModel, DualStreamPreTrainedModel
from .ecapa_tdnn import EcapaTdnnModel, EcapaTdnnPreTrainedModel
from .grad_tts import GradTTSModel
from .griffin_lim import GriffinLimVocoder
from .hifigan import HifiGanVocoder
from .latent_diffusion import LatentDiffusionTTSModel
from .layers import (
    AdaLNZeroBlock,
    AdaLNZeroModulation,
    FeedForward,
    MaskedLMHead,
    RotaryEmbedding,
    SelfAttention,
    SinusoidalPositions,
    TransformerBlock,
    WordFusion,
    ZeroInitLinear,
)
from .mel_vae import MelVaeModel
from .outputs import (
    DualStreamMaskedLMOutput,
    DualStreamModelOutput,
    EcapaTdnnOutput,
    ProsodyContrastiveOutput,
    VocoderOutput,
)
from .phoneme_aligner import PhonemeAlignerModel
from .phoneme_recognizer import PhonemeRecognizerModel
from .speaker import SpeakerConditioning
from .text_to_waveform import TextToWaveformModel

__all__ = [
    "AdaLNZeroBlock",
    "AdaLNZeroModulation",
    "DualStreamForMaskedLM",
    "DualStreamMaskedLMOutput",
    "DualStreamModel",
    "DualStreamModelOutput",
    "DualStreamPreTrainedModel",
    "EcapaTdnnModel",
    "EcapaTdnnOutput",
    "EcapaTdnnPreTrainedModel",
    "FeedForward",
    "GradTTSModel",
    "GriffinLimVocoder",
    "HifiGanVocoder",
    "LatentDiffusionTTSModel",
    "MaskedLMHead",
    "MelVaeModel",
    "PhonemeAlignerModel",
    "PhonemeRecognizerModel",
    "ProsodyContrastiveModel",
    "ProsodyContrastiveOutput",
    "RotaryEmbedding",
    "SelfAttention",
    "SinusoidalPositions",
    "SpeakerConditioning",
    "TextToWaveformModel",
    "TransformerBlock",
    "VocoderOutput",
    "WordFusion",
    "ZeroInitLinear",
    "load_stage1_weights",
]
