"""Inference entry points on trained models: phoneme embeddings (``encode``) and the
phoneme feature-extraction pipeline; the text-to-speech pipeline joins them with the TTS heads."""

from .encode import EncodedPhonemes, encode
from .feature_extraction import (
    PIPELINE_TASK,
    PhonemeFeatureExtractionPipeline,
    feature_extraction_pipeline,
)

__all__ = [
    "PIPELINE_TASK",
    "EncodedPhonemes",
    "PhonemeFeatureExtractionPipeline",
    "encode",
    "feature_extraction_pipeline",
]
