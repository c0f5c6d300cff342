"""The ``vocoder`` recipe stage: HiFi-GAN on real mels, or fine-tuned on a Grad-TTS model's own mels.

::

    recipe (stage="vocoder") ─ init_from: a generator dir (fine-tune it, new discriminators),
                               a vocoder training dir (continue both players), or nothing (vocoder_preset)
      ─ train split audio ─ log-mels (vocoder_features="ground_truth")
                          └ or tts_model's teacher-forced mels (vocoder_features="tts")
      ─ VocoderSegmentDataset (segment_size windows) ─ VocoderTrainer
      ─► output_dir (generator + discriminators: continue from it) and output_dir/vocoder (the
         generator alone, folded: the inference vocoder) + the processor
      ─ eval split: copy-synthesis mel L1 / MCD, trained generator vs Griffin-Lim ─► copy_synthesis.json
                    (+ two utterances as WAV, original and each vocoder ─► copy_synthesis_samples/)

``python recipes/train.py recipes/tiny/hifigan.json`` (CPU) ·
``accelerate launch recipes/train.py recipes/paper/hifigan.json`` (GPUs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from transformers import TrainingArguments, set_seed

from ..constants import VOCODER_SUBFOLDER
from .recipe import (
    VOCODER_FEATURES,
    DataArguments,
    ModelArguments,
    StageArguments,
    StageResult,
    _check_choice,
    _prepared,
    _source,
    _train_and_save,
)

logger = logging.getLogger(__name__)

__all__ = ["build_vocoder_model", "run_vocoder_stage"]

COPY_SYNTHESIS_FILE = "copy_synthesis.json"
#: held-out utterances re-synthesised by each vocoder, to listen to
COPY_SYNTHESIS_SAMPLES = "copy_synthesis_samples"


def build_vocoder_model(model_args: ModelArguments, feature_extractor: Any) -> tuple[Any, str]:
    """A new, fine-tuned or continued ``HifiGanTrainingModel`` for the feature extractor's mels."""
    from ..configuration.hifigan import HIFIGAN_PRESETS, HifiGanConfig
    from ..configuration.hifigan_training import HifiGanDiscriminatorConfig, HifiGanTrainingConfig
    from ..modeling.hifigan_training import HifiGanTrainingModel

    _check_choice("vocoder_preset", model_args.vocoder_preset, tuple(HIFIGAN_PRESETS))
    discriminator = HifiGanDiscriminatorConfig.tiny() if model_args.vocoder_preset == "tiny" else HifiGanDiscriminatorConfig()
    init = Path(model_args.init_from) if model_args.init_from else None
    if init is not None:
        if not (init / "config.json").is_file():
            raise FileNotFoundError(f"init_from {init} has no config.json")
        kind = json.loads((init / "config.json").read_text())["model_type"]
        if kind == HifiGanTrainingConfig.model_type:
            model, origin = HifiGanTrainingModel.from_pretrained(init), f"continued from {init}"
        elif kind == HifiGanConfig.model_type:
            model = HifiGanTrainingModel.from_generator(init, discriminator_config=discriminator)
            origin = f"generator of {init}, new discriminators"
        else:
            raise ValueError(f"init_from {init} is a {kind!r} model, not a HiFi-GAN generator or vocoder training dir")
    else:
        overrides = json.loads(model_args.vocoder_overrides) if model_args.vocoder_overrides else {}
        generator = HifiGanConfig.from_feature_extractor(feature_extractor, **{**HIFIGAN_PRESETS[model_args.vocoder_preset], **overrides})
        config = HifiGanTrainingConfig(generator_config=generator, discriminator_config=discriminator)
        model, origin = HifiGanTrainingModel(config), f"new {model_args.vocoder_preset}"
    model.config.generator_config.check_compatible(feature_extractor)
    return model, origin


def _rows(data_args: DataArguments, stage_args: StageArguments, training_args: TrainingArguments, processor: Any, split: str) -> list[dict]:
    """(mel, waveform) rows of ``split``: real mels, or the TTS model's teacher-forced ones."""
    from ..data.vocoder import load_vocoder_utterances, teacher_forced_features

    show = stage_args.show_progress and training_args.process_index == 0
    rows, skipped = load_vocoder_utterances(
        _source(data_args, split), processor.feature_extractor, show_progress=show, desc=f"vocoder {split}"
    )
    if skipped:
        logger.warning("vocoder %s: skipped %s", split, dict(skipped))
    if stage_args.vocoder_features == "ground_truth":
        return rows
    from ..data.collators import DualStreamCollator, TextToSpeechCollator
    from ..modeling.grad_tts import GradTTSModel

    tts = GradTTSModel.from_pretrained(stage_args.tts_model)
    prepared = _prepared(data_args, training_args, processor, split, show, require_durations=False)
    names = tts.config.speaker_names or []
    base = DualStreamCollator.from_processor(processor, speaker_to_id={n: i for i, n in enumerate(names)} if tts.config.multi_speaker else None)
    collator = TextToSpeechCollator(base, with_speaker_ids=tts.config.multi_speaker)
    return teacher_forced_features(rows, prepared, tts, collator, seed=training_args.seed, show_progress=show)


def run_vocoder_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Train HiFi-GAN on ``train_split``, then score copy synthesis on ``eval_split``."""
    from ..data.vocoder import VocoderSegmentDataset, segment_frames_for
    from ..processing.processing_dual_stream import DualStreamProcessor
    from .vocoder import VocoderTrainer

    _check_choice("vocoder_features", stage_args.vocoder_features, VOCODER_FEATURES)
    if stage_args.vocoder_features == "tts" and not stage_args.tts_model:
        raise ValueError("vocoder_features='tts' needs tts_model: the Grad-TTS directory whose mels to learn")
    if processor is None:
        processor = (
            DualStreamProcessor.from_pretrained(stage_args.tts_model) if stage_args.tts_model else DualStreamProcessor.from_defaults()
        )
    set_seed(training_args.seed)
    model, origin = build_vocoder_model(model_args, processor.feature_extractor)
    logger.info("HiFi-GAN (%s): generator %.2f M, discriminators %.2f M parameters", origin,
                model.generator.num_parameters() / 1e6, model.discriminator.num_parameters() / 1e6)  # fmt: skip
    extractor = processor.feature_extractor
    train = VocoderSegmentDataset(
        _rows(data_args, stage_args, training_args, processor, data_args.train_split),
        segment_frames_for(stage_args.segment_size, extractor.hop_length),
        extractor.hop_length, float(extractor.padding_value), seed=training_args.seed,
    )  # fmt: skip
    trainer = VocoderTrainer(
        model=model, args=training_args, train_dataset=train,
        lr_decay=stage_args.lr_decay, lr_decay_steps=stage_args.lr_decay_steps,
    )  # fmt: skip
    output = _train_and_save(trainer, training_args, processor)
    scores = None
    if trainer.is_world_process_zero():
        vocoder_dir = Path(training_args.output_dir, VOCODER_SUBFOLDER)
        generator = model.save_generator(vocoder_dir)
        processor.feature_extractor.save_pretrained(vocoder_dir)
        if stage_args.evaluate_copy_synthesis:
            scores = _copy_synthesis(generator, data_args, stage_args, training_args, processor)
            Path(training_args.output_dir, COPY_SYNTHESIS_FILE).write_text(json.dumps(scores, indent=2), encoding="utf-8")
    result = StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)
    result.copy_synthesis = scores
    return result


def _copy_synthesis(
    generator: Any, data_args: DataArguments, stage_args: StageArguments, training_args: TrainingArguments, processor: Any
) -> dict[str, Any]:
    """Held-out copy synthesis of the trained generator and of Griffin-Lim (32 iterations) on the same mels."""
    from ..configuration.vocoder import GriffinLimConfig
    from ..data.vocoder import load_vocoder_utterances
    from ..evaluation.copy_synthesis import evaluate_copy_synthesis
    from ..modeling.griffin_lim import GriffinLimVocoder

    extractor = processor.feature_extractor
    rows, _ = load_vocoder_utterances(
        _source(data_args, data_args.eval_split), extractor, show_progress=stage_args.show_progress, desc="vocoder eval"
    )
    vocoders = {"hifigan": generator, "griffin_lim_32": GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(extractor))}
    scores = evaluate_copy_synthesis(
        vocoders, rows, extractor, seed=training_args.seed, show_progress=stage_args.show_progress,
        sample_dir=Path(training_args.output_dir, COPY_SYNTHESIS_SAMPLES),
    )  # fmt: skip
    return {name: score.to_dict() for name, score in scores.items()}
