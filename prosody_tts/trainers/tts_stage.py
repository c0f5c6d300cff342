"""The ``tts`` recipe stage: Grad-TTS over a curriculum encoder (or the faithful one) on a prepared corpus.

::

    recipe (stage="tts") ─ init_from: a stage-1/2/3 directory (our encoder), a Grad-TTS directory
                           (continue), or nothing (a new encoder of model_size)
      ─ prepared train split ─ TextToSpeechTrainer ─► output_dir (GradTTSModel + processor)
      ─ prepared eval split ─ evaluate_spectrograms ─► spectrogram_errors.json

``python recipes/train.py recipes/tiny/grad_tts.json`` (CPU) ·
``accelerate launch recipes/train.py recipes/paper/grad_tts.json`` (GPUs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from transformers import TrainingArguments

from .recipe import (
    TTS_PRESETS,
    DataArguments,
    ModelArguments,
    StageArguments,
    StageResult,
    _check_choice,
    _prepared,
    _text_config,
    _train_and_save,
    _transcribed_train_rows,
)

logger = logging.getLogger(__name__)

__all__ = ["build_tts_model", "run_tts_stage", "train_tts_head"]

#: GradTTSConfig fields the ``tiny`` preset sets besides the encoder's (the decoder, predictor, crop).
_TINY_HEAD_FIELDS = ("duration_predictor_channels", "segment_frames")


def _tiny_head() -> dict[str, Any]:
    from ..configuration.grad_tts import GradTTSConfig

    sizes = GradTTSConfig.tiny().to_diff_dict()
    return {k: v for k, v in sizes.items() if k in _TINY_HEAD_FIELDS or k.startswith("decoder_")}


def build_tts_model(model_args: ModelArguments, processor: Any, speakers: list[str]) -> tuple[Any, str]:
    """A new (or continued) ``GradTTSModel`` for a corpus with ``speakers``; returns it and its origin."""
    from ..configuration.grad_tts import TEXT_ENCODERS, GradTTSConfig
    from ..modeling.grad_tts import GradTTSModel

    _check_choice("tts_text_encoder", model_args.tts_text_encoder, TEXT_ENCODERS)
    _check_choice("tts_preset", model_args.tts_preset, TTS_PRESETS)
    init = Path(model_args.init_from) if model_args.init_from else None
    if init is not None and json.loads((init / "config.json").read_text())["model_type"] == GradTTSConfig.model_type:
        return GradTTSModel.from_pretrained(init), "continued from a Grad-TTS model"
    overrides: dict[str, Any] = json.loads(model_args.tts_overrides) if model_args.tts_overrides else {}
    if len(speakers) > 1:
        overrides.setdefault("num_speakers", len(speakers))
        overrides.setdefault("speaker_names", list(speakers))
    tiny = model_args.tts_preset == "tiny"
    if model_args.tts_text_encoder == "grad_tts":
        if init is not None:
            raise ValueError("init_from with tts_text_encoder='grad_tts': the faithful encoder trains from scratch")
        blank = len(processor.tokenizer)  # the blank id sits above every phoneme id
        values = dict(vocab_size=blank + 1, blank_id=blank, **overrides)
        return GradTTSModel((GradTTSConfig.tiny if tiny else GradTTSConfig)(**values)), "faithful encoder"
    overrides.setdefault("freeze_text_encoder", model_args.freeze_encoder)
    if init is not None:
        model = GradTTSModel.from_text_encoder(init, tiny=tiny, **overrides)
        return model, f"dual-stream encoder from {init}"
    head = {**(_tiny_head() if tiny else {}), **overrides}
    return GradTTSModel(GradTTSConfig.with_text_encoder(_text_config(model_args, processor), **head)), "new dual-stream encoder"


def run_tts_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Train Grad-TTS on ``train_split``, then measure mel L1 and duration error on ``eval_split``."""
    processor, train = _transcribed_train_rows(model_args, data_args, stage_args, training_args, processor)
    model, origin = build_tts_model(model_args, processor, train.speakers)
    logger.info("Grad-TTS (%s): %.2f M parameters", origin, model.num_parameters() / 1e6)
    trainer, output, heldout = train_tts_head(model, train, data_args, stage_args, training_args, processor)
    errors = None
    if trainer.is_world_process_zero() and stage_args.evaluate_spectrograms:
        from ..evaluation.spectrograms import evaluate_spectrograms

        collator = trainer.data_collator
        collator = type(collator)(collator.base, collator.with_speaker_ids, with_durations=True)
        errors = evaluate_spectrograms(
            trainer.model, heldout, collator, n_timesteps=stage_args.eval_timesteps,
            seed=training_args.seed, show_progress=stage_args.show_progress,
        ).to_dict()  # fmt: skip
        Path(training_args.output_dir, "spectrogram_errors.json").write_text(json.dumps(errors, indent=2), encoding="utf-8")
    result = StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)
    result.spectrogram_errors = errors
    return result


def train_tts_head(
    model: Any, train: Any, data_args: DataArguments, stage_args: StageArguments, training_args: TrainingArguments,
    processor: Any,
) -> tuple[Any, Any, Any]:
    """Train a TTS head (Grad-TTS or latent diffusion) on prepared ``train`` rows with the
    frame-budget ``TextToSpeechTrainer`` (speaker table rows from the model's ``speaker_names``,
    TensorBoard samples every ``sample_every_steps``), then save it with the processor.

    Returns ``(trainer, train output, the prepared eval split or None)``; the eval split is prepared
    when samples or held-out measures need it."""
    from .tts import TextToSpeechTrainer

    speaker_to_id = None
    if model.config.num_speakers > 1:
        names = model.config.speaker_names or []
        unknown = sorted(set(train.speakers) - set(names))
        if unknown:
            raise ValueError(f"the model's speaker table lacks corpus speakers {unknown[:5]} (it knows {names[:5]})")
        speaker_to_id = {name: i for i, name in enumerate(names)}
    trainer = TextToSpeechTrainer(
        model=model, args=training_args, train_dataset=train, processor=processor,
        speaker_to_id=speaker_to_id, max_frames=stage_args.max_frames,
    )  # fmt: skip
    heldout = None
    if stage_args.sample_every_steps or stage_args.evaluate_spectrograms:
        heldout = _prepared(
            data_args, training_args, processor, data_args.eval_split, stage_args.show_progress, require_durations=False
        )
    if stage_args.sample_every_steps:
        trainer.add_callback(_sample_callback(trainer, processor, heldout[0], stage_args.sample_every_steps))
    return trainer, _train_and_save(trainer, training_args, processor), heldout


def _sample_callback(trainer: Any, processor: Any, row: dict[str, Any], every: int) -> Any:
    from ..configuration.vocoder import GriffinLimConfig
    from ..modeling.griffin_lim import GriffinLimVocoder
    from .tts import SynthesisSampleCallback

    vocoder = GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(processor.feature_extractor))
    defaults = getattr(trainer.model, "synthesis_defaults", {})  # the head's own steps / temperature
    return SynthesisSampleCallback(row, trainer.data_collator, vocoder, every, seed=trainer.args.seed, **defaults)
