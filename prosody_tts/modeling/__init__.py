"""Models of prosody_tts, one module per family, shared blocks in ``layers``."""

from .contrastive import ProsodyContrastiveModel, ProsodyContrastiveOutput, load_stage1_weights
from .dual_stream import (
    DualStreamForMaskedLM,
    DualStreamMaskedLMOutput,
    DualStreamModel,
    DualStreamModelOutput,
    DualStreamPreTrainedModel,
    SpeakerConditioning,
)
from .ecapa_tdnn import EcapaTdnnModel, EcapaTdnnOutput, EcapaTdnnPreTrainedModel
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
