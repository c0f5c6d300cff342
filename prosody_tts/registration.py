"""Every Auto* and pipeline registration of the package, in one place (run on ``import prosody_tts``).

After it, ``AutoConfig`` / ``AutoTokenizer`` / ``AutoFeatureExtractor`` / ``AutoProcessor`` /
``AutoModel`` / ``AutoModelForMaskedLM`` / ``AutoModelForTextToSpectrogram`` /
``AutoModelForTextToWaveform`` load saved directories (or Hub snapshots) of this project,
``pipeline("phoneme-feature-extraction", model=DIR)`` builds the phoneme feature-extraction
pipeline and ``pipeline("text-to-speech", model=DIR)`` speaks with a saved TTS directory. Registering twice is harmless (``exist_ok=True``).
"""

from __future__ import annotations


def register_auto_classes() -> None:
    """Register the configs, tokenizers, feature extractor, processor and models with the Auto classes."""
    from transformers import (
        AutoConfig,
        AutoFeatureExtractor,
        AutoModel,
        AutoModelForMaskedLM,
        AutoModelForTextToSpectrogram,
        AutoModelForTextToWaveform,
        AutoProcessor,
        AutoTokenizer,
    )

    from .configuration import (
        DualStreamConfig,
        EcapaTdnnConfig,
        GradTTSConfig,
        GriffinLimConfig,
        HifiGanConfig,
        HifiGanDiscriminatorConfig,
        HifiGanTrainingConfig,
        PhonemeAlignerConfig,
        PhonemeRecognizerConfig,
        ProsodyContrastiveConfig,
        TextToWaveformConfig,
    )
    from .modeling import (
        DualStreamForMaskedLM,
        DualStreamModel,
        EcapaTdnnModel,
        GradTTSModel,
        GriffinLimVocoder,
        HifiGanVocoder,
        PhonemeAlignerModel,
        PhonemeRecognizerModel,
        ProsodyContrastiveModel,
        TextToWaveformModel,
    )
    from .modeling.hifigan_discriminator import HifiGanDiscriminator
    from .modeling.hifigan_training import HifiGanTrainingModel
    from .processing import DualStreamProcessor, MelFeatureExtractor, PhonemeTokenizer

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
    AutoConfig.register(GriffinLimConfig.model_type, GriffinLimConfig, exist_ok=True)
    AutoModel.register(GriffinLimConfig, GriffinLimVocoder, exist_ok=True)
    AutoConfig.register(HifiGanConfig.model_type, HifiGanConfig, exist_ok=True)
    AutoModel.register(HifiGanConfig, HifiGanVocoder, exist_ok=True)
    AutoConfig.register(HifiGanDiscriminatorConfig.model_type, HifiGanDiscriminatorConfig, exist_ok=True)
    AutoModel.register(HifiGanDiscriminatorConfig, HifiGanDiscriminator, exist_ok=True)
    AutoConfig.register(HifiGanTrainingConfig.model_type, HifiGanTrainingConfig, exist_ok=True)
    AutoModel.register(HifiGanTrainingConfig, HifiGanTrainingModel, exist_ok=True)
    AutoConfig.register(PhonemeAlignerConfig.model_type, PhonemeAlignerConfig, exist_ok=True)
    AutoModel.register(PhonemeAlignerConfig, PhonemeAlignerModel, exist_ok=True)
    AutoConfig.register(PhonemeRecognizerConfig.model_type, PhonemeRecognizerConfig, exist_ok=True)
    AutoModel.register(PhonemeRecognizerConfig, PhonemeRecognizerModel, exist_ok=True)
    AutoConfig.register(GradTTSConfig.model_type, GradTTSConfig, exist_ok=True)
    AutoModel.register(GradTTSConfig, GradTTSModel, exist_ok=True)
    AutoModelForTextToSpectrogram.register(GradTTSConfig, GradTTSModel, exist_ok=True)
    AutoConfig.register(TextToWaveformConfig.model_type, TextToWaveformConfig, exist_ok=True)
    AutoModel.register(TextToWaveformConfig, TextToWaveformModel, exist_ok=True)
    AutoModelForTextToWaveform.register(TextToWaveformConfig, TextToWaveformModel, exist_ok=True)
    for config in (GradTTSConfig, TextToWaveformConfig):  # their directories carry the processor
        AutoTokenizer.register(config, slow_tokenizer_class=PhonemeTokenizer, exist_ok=True)
        AutoProcessor.register(config, DualStreamProcessor, exist_ok=True)
    _register_latent_diffusion()


def _register_latent_diffusion() -> None:
    """The Mel-VAE and the latent-diffusion head (a text-to-spectrogram model whose directory carries the processor)."""
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForTextToSpectrogram,
        AutoProcessor,
        AutoTokenizer,
    )

    from .configuration import LatentDiffusionTTSConfig, MelVaeConfig
    from .modeling import LatentDiffusionTTSModel, MelVaeModel
    from .processing import DualStreamProcessor, PhonemeTokenizer

    AutoConfig.register(MelVaeConfig.model_type, MelVaeConfig, exist_ok=True)
    AutoModel.register(MelVaeConfig, MelVaeModel, exist_ok=True)
    AutoConfig.register(LatentDiffusionTTSConfig.model_type, LatentDiffusionTTSConfig, exist_ok=True)
    AutoModel.register(LatentDiffusionTTSConfig, LatentDiffusionTTSModel, exist_ok=True)
    AutoModelForTextToSpectrogram.register(LatentDiffusionTTSConfig, LatentDiffusionTTSModel, exist_ok=True)
    AutoTokenizer.register(LatentDiffusionTTSConfig, slow_tokenizer_class=PhonemeTokenizer, exist_ok=True)
    AutoProcessor.register(LatentDiffusionTTSConfig, DualStreamProcessor, exist_ok=True)


def register_pipelines() -> None:
    """Register the pipeline tasks of :mod:`prosody_tts.pipelines` with ``transformers.pipeline``."""
    from transformers import AutoModel
    from transformers.pipelines import PIPELINE_REGISTRY

    from .pipelines.feature_extraction import PIPELINE_TASK, PhonemeFeatureExtractionPipeline

    PIPELINE_REGISTRY.register_pipeline(
        PIPELINE_TASK, pipeline_class=PhonemeFeatureExtractionPipeline, pt_model=AutoModel
    )
    # Why in place: the subclass keeps the stock behaviour for every other model, so the task's
    # entry (models, defaults, alias "text-to-speech") stays and only its class changes, without
    # register_pipeline's "overwriting" warning on every import.
    from .pipelines.text_to_speech import ProsodyTextToAudioPipeline

    PIPELINE_REGISTRY.supported_tasks["text-to-audio"]["impl"] = ProsodyTextToAudioPipeline


def register_all() -> None:
    """Both of the above."""
    register_auto_classes()
    register_pipelines()
