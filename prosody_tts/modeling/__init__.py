"""Models of prosody_tts, one module per family, shared blocks in ``layers``."""

from .contrastive import ProsodyContrastiveModel, load_stage1_weights
from .dual_stream import DualStreamForMaskedLM, DualStreamModel, DualStreamPreTrainedModel
from .ecapa_tdnn import EcapaTdnnModel, EcapaTdnnPreTrainedModel
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
from .outputs import (
    DualStreamMaskedLMOutput,
    DualStreamModelOutput,
    EcapaTdnnOutput,
    ProsodyContrastiveOutput,
)
from .speaker import SpeakerConditioning

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
    "MaskedLMHead",
    "ProsodyContrastiveModel",
    "ProsodyContrastiveOutput",
    "RotaryEmbedding",
    "SelfAttention",
    "SinusoidalPositions",
    "SpeakerConditioning",
    "TransformerBlock",
    "WordFusion",
    "ZeroInitLinear",
    "load_stage1_weights",
]
