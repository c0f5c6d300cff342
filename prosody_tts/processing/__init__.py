"""What ``save_pretrained`` writes for the text and audio inputs: the phoneme and BPE tokenizers,
the log-mel feature extractor and the dual-stream processor; plus the one audio decode path.

The Russian linguistics these build on (normaliser, stress, G2P) live in :mod:`prosody_tts.text`.
"""

from .feature_extraction import MelFeatureExtractor
from .processing_dual_stream import DualStreamProcessor
from .tokenization_bpe import load_default_bpe_tokenizer, train_bpe_tokenizer
from .tokenization_phoneme import PhonemeTokenizer

__all__ = [
    "DualStreamProcessor",
    "MelFeatureExtractor",
    "PhonemeTokenizer",
    "load_default_bpe_tokenizer",
    "train_bpe_tokenizer",
]
