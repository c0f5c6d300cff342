"""Models of prosody_tts, one module per family, shared blocks in ``layers``."""

from prosody_tts.modeling.contrastive import (
    ProsodyContrastiveModel,
    ProsodyContrastiveOutput,
    load_stage1_weights,
)
from prosody_tts.modeling.dual_stream import (
    DualStreamForMaskedLM,
    DualStreamMaskedLMOutput,
    DualStreamModel,
    DualStreamModelOutput,
    DualStreamPreTrainedModel,
    SpeakerConditioning,
)
from prosody_tts.modeling.ecapa_tdnn import EcapaTdnnModel, EcapaTdnnOutput, EcapaTdnnPreTrainedModel
from prosody_tts.modeling.layers import (
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
