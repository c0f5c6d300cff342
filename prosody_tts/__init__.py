"""prosody_tts: prosody-aware Russian text-to-speech, Transformers-native.

Importing the package runs :func:`prosody_tts.registration.register_all`: ``AutoConfig``,
``AutoTokenizer``, ``AutoFeatureExtractor``, ``AutoProcessor`` and ``AutoModel*`` then load saved
directories (or Hub snapshots) of this project, and its pipeline tasks are known to
``transformers.pipeline``. The package map is ``docs/architecture.md``.
"""

__version__ = "0.1.0.dev0"

from .configuration import DualStreamConfig, EcapaTdnnConfig, ProsodyContrastiveConfig
from .modeling import (
    DualStreamForMaskedLM,
    DualStreamModel,
    EcapaTdnnModel,
    ProsodyContrastiveModel,
    load_stage1_weights,
)
from .pipelines.encode import EncodedPhonemes, encode
from .pipelines.feature_extraction import (
    PhonemeFeatureExtractionPipeline,
    feature_extraction_pipeline,
)
from .processing import (
    DualStreamProcessor,
    MelFeatureExtractor,
    PhonemeTokenizer,
    load_default_bpe_tokenizer,
    train_bpe_tokenizer,
)
from .registration import register_all
from .text import RussianFrontend

register_all()

__all__ = [
    "DualStreamConfig",
    "DualStreamForMaskedLM",
    "DualStreamModel",
    "DualStreamProcessor",
    "EcapaTdnnConfig",
    "EcapaTdnnModel",
    "EncodedPhonemes",
    "MelFeatureExtractor",
    "PhonemeFeatureExtractionPipeline",
    "PhonemeTokenizer",
    "ProsodyContrastiveConfig",
    "ProsodyContrastiveModel",
    "RussianFrontend",
    "__version__",
    "encode",
    "feature_extraction_pipeline",
    "load_default_bpe_tokenizer",
    "load_stage1_weights",
    "train_bpe_tokenizer",
]
