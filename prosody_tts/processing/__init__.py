"""Russian text front-end, tokenizers, mel features and the dual-stream processor."""

from .errors import (
    AudioError,
    EmptyTextError,
    FrontendError,
    StressMarkError,
    TransliterationWarning,
    UnsupportedCharacterError,
)
from .feature_extraction import MelFeatureExtractor
from .frontend import NO_WORD, PhonemizedText, RussianFrontend
from .processing_dual_stream import DualStreamProcessor
from .stress import StressPlacer
from .tokenization_bpe import load_default_bpe_tokenizer, train_bpe_tokenizer
from .tokenization_phoneme import PhonemeTokenizer

__all__ = [
    "NO_WORD",
    "AudioError",
    "DualStreamProcessor",
    "EmptyTextError",
    "FrontendError",
    "MelFeatureExtractor",
    "PhonemeTokenizer",
    "PhonemizedText",
    "RussianFrontend",
    "StressMarkError",
    "StressPlacer",
    "TransliterationWarning",
    "UnsupportedCharacterError",
    "load_default_bpe_tokenizer",
    "train_bpe_tokenizer",
]
