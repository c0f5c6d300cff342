"""``stage="recognizer"``: train the CTC phoneme recogniser on a corpus's ground-truth audio.

::

    train split ─ prepared (log-mels, phonemes) ─ RecognizerDataset ─ Trainer (CTC) ─► output_dir
      (model + the processor, whose feature extractor the recogniser reads)
    eval split ─ recognizer_per ─► output_dir/recognizer_per.json (PER on held-out ground truth)

Run as ``prosody-tts train recognizer --corpus DIR --output_dir OUT`` (or a recipe,
``recipes/tiny/recognizer.json``). Rows whose phonemes do not fit their frames are skipped and
counted in the log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from transformers import Trainer, TrainingArguments

from .recipe import (
    DataArguments,
    ModelArguments,
    StageArguments,
    StageResult,
    _prepared,
    _train_and_save,
    _transcribed_train_rows,
)

logger = logging.getLogger(__name__)

__all__ = ["PER_FILE", "build_recognizer", "run_recognizer_stage"]

PER_FILE = "recognizer_per.json"


def build_recognizer(model_args: ModelArguments, processor: Any) -> Any:
    """A new recogniser of the preset (mel bins from the processor), or the one in ``init_from``."""
    from ..configuration.phoneme_recognizer import PhonemeRecognizerConfig
    from ..modeling.phoneme_recognizer import PhonemeRecognizerModel

    if model_args.init_from:
        return PhonemeRecognizerModel.from_pretrained(model_args.init_from)
    overrides = json.loads(model_args.recognizer_overrides) if model_args.recognizer_overrides else {}
    overrides.setdefault("num_mel_bins", int(processor.feature_extractor.feature_size))
    return PhonemeRecognizerModel(PhonemeRecognizerConfig.preset(model_args.recognizer_preset, **overrides))


def run_recognizer_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Train on ``train_split``, then measure the PER on ``eval_split``'s ground truth."""
    from ..data.recognition import RecognizerCollator, RecognizerDataset
    from ..evaluation.recognition import recognizer_per

    processor, train = _transcribed_train_rows(model_args, data_args, stage_args, training_args, processor)
    model = build_recognizer(model_args, processor)
    dataset = RecognizerDataset(train, model.symbol_ids, model.config.subsampling)
    if dataset.skipped:
        logger.warning("recogniser: %d rows skipped (e.g. %s)", len(dataset.skipped), dataset.skipped[:3])
    logger.info("phoneme recogniser: %.2f M parameters, %d training rows", model.num_parameters() / 1e6, len(dataset))
    training_args.remove_unused_columns = False
    trainer = Trainer(
        model=model, args=training_args, train_dataset=dataset,
        data_collator=RecognizerCollator(processor.feature_extractor.padding_value),
    )  # fmt: skip
    output = _train_and_save(trainer, training_args, processor)
    per = None
    if trainer.is_world_process_zero() and stage_args.evaluate_recognizer:
        heldout = _prepared(data_args, training_args, processor, data_args.eval_split, stage_args.show_progress,
                            all_ranks=False, require_durations=False)  # fmt: skip
        per = recognizer_per(trainer.model, heldout, seed=training_args.seed, show_progress=stage_args.show_progress)
        per["skipped_training_rows"] = len(dataset.skipped)
        Path(training_args.output_dir, PER_FILE).write_text(json.dumps(per, indent=2, ensure_ascii=False), encoding="utf-8")
    result = StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)
    result.phoneme_error_rate = per
    return result
