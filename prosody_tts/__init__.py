"""prosody_tts: prosody-aware Russian text-to-speech, Transformers-native.

Importing the package registers its classes with the transformers Auto classes, so that
``AutoConfig``, ``AutoTokenizer``, ``AutoFeatureExtractor`` and ``AutoProcessor`` load saved
directories (or Hub snapshots) of this project.
"""

__version__ = "0.1.0.dev0"

from .configuration import DualStreamConfig, EcapaTdnnConfig, ProsodyContrastiveConfig
from .inference import EncodedPhonemes, PhonemeFeatureExtractionPipeline, encode, feature_extraction_pipeline
from .modeling import (
    DualStreamForMaskedLM,
    DualStreamModel,
    EcapaTdnnModel,
    ProsodyContrastiveModel,
    load_stage1_weights,
)
from .processing import (
    DualStreamProcessor,
    MelFeatureExtractor,
    PhonemeTokenizer,
    RussianFrontend,
    load_default_bpe_tokenizer,
    train_bpe_tokenizer,
)


def _register_auto_classes() -> None:
    from transformers import (
        AutoConfig,
        AutoFeatureExtractor,
        AutoModel,
        AutoModelForMaskedLM,
        AutoProcessor,
        AutoTokenizer,
    )

    AutoConfig.register(DualStreamConfig.model_type, DualStreamConfig, exist_ok=True)
    AutoTokenizer.register(DualStreamConfig, slow_tokenizer_class=PhonemeTokenizer, exist_ok=True)
    AutoFeatureExtractor.register(DualStreamConfig, MelFeatureExtractor, exist_ok=True)
    AutoProcessor.register(DualStreamConfig, DualStreamProcessor, exist_ok=True)
    AutoModel.register(DualStreamConfig, DualStreamModel, exist_ok=True)
    AutoModelForMaskedLM.register(DualStreamConfig, DualStreamForMaskedLM, exist_ok=True)
    AutoConfig.register(EcapaTdnnConfig.model_type, EcapaTdnnConfig, exist_ok=True)
    AutoModel.register(EcapaTdnnConfig, EcapaTdnnModel, exist_ok=True)
    AutoConfig.register(ProsodyContrastiveConfig.model_type, ProsodyContrastiveConfig, exist_ok=True)
    AutoModel.register(ProsodyContrastiveConfig, ProsodyContrastiveModel, exist_ok=True)


_register_auto_classes()

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
