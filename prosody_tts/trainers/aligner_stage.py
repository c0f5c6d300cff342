"""``stage="aligner"``: train the phoneme aligner on the corpus it will align (no labels needed).

::

    train split ─ prepared (log-mels, our phonemes; durations not needed) ─ AlignerDataset
      ─ Trainer (forward-sum loss [+ binarization]) ─► output_dir (aligner + the processor)
    eval split ─ align_examples ─ boundary errors against the split's own timings (the embedded
      corpus's espeak timings, festvox-ru's .lab phones) ─► output_dir/alignment_accuracy.json

Run as ``prosody-tts align --train --data DIR --out OUT`` or ``prosody-tts train aligner --corpus_dir
DIR --output_dir OUT`` (recipes ``recipes/tiny/aligner.json``, ``recipes/paper/aligner.json``).
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
    _source,
    _train_and_save,
    _transcribed_train_rows,
)

logger = logging.getLogger(__name__)

__all__ = ["ACCURACY_FILE", "build_aligner", "run_aligner_stage"]

ACCURACY_FILE = "alignment_accuracy.json"


def build_aligner(model_args: ModelArguments, processor: Any) -> Any:
    """A new aligner of the preset (vocabulary and mel bins from the processor), or ``init_from``'s."""
    from ..configuration.phoneme_aligner import PhonemeAlignerConfig
    from ..modeling.phoneme_aligner import PhonemeAlignerModel
    from ..text.inventory import WORD_BOUNDARY

    overrides = json.loads(model_args.aligner_overrides) if model_args.aligner_overrides else {}
    if model_args.init_from:  # continue training; overrides change config fields (e.g. the binarization weight)
        return PhonemeAlignerModel.from_pretrained(model_args.init_from, **overrides)
    tokenizer = processor.tokenizer
    overrides.setdefault("vocab_size", len(tokenizer))
    overrides.setdefault("pad_token_id", tokenizer.pad_token_id)
    overrides.setdefault("unaligned_token_ids", [tokenizer.convert_tokens_to_ids(WORD_BOUNDARY)])
    overrides.setdefault("num_mel_bins", int(processor.feature_extractor.feature_size))
    return PhonemeAlignerModel(PhonemeAlignerConfig.preset(model_args.aligner_preset, **overrides))


def run_aligner_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Train on ``train_split``; then the boundary errors on ``eval_split`` where it has timings."""
    from ..data.alignment import AlignerCollator, AlignerDataset
    from ..evaluation.alignment_accuracy import evaluate_alignment

    processor, train = _transcribed_train_rows(model_args, data_args, stage_args, training_args, processor)
    model = build_aligner(model_args, processor)
    dataset = AlignerDataset(train, model.config.unaligned_token_ids)
    if dataset.skipped:
        logger.warning("aligner: %d rows skipped (e.g. %s)", len(dataset.skipped), dataset.skipped[:3])
    logger.info("phoneme aligner: %.3f M parameters, %d training rows", model.num_parameters() / 1e6, len(dataset))
    training_args.remove_unused_columns = False
    collator = AlignerCollator(processor.tokenizer.pad_token_id, processor.feature_extractor.padding_value)
    trainer = Trainer(model=model, args=training_args, train_dataset=dataset, data_collator=collator)
    output = _train_and_save(trainer, training_args, processor)
    accuracy = None
    try:
        import jiwer  # noqa: F401  (the boundary matcher; in the [eval] extra)
    except ImportError:
        if stage_args.evaluate_alignment:
            logger.warning("held-out boundary errors skipped: they need jiwer (pip install 'prosody-tts[eval]')")
        stage_args.evaluate_alignment = False
    if trainer.is_world_process_zero() and stage_args.evaluate_alignment:
        examples = list(_source(data_args, data_args.eval_split))
        reference = "festvox_labels" if data_args.corpus == "festvox_ru" else "stored_durations"
        accuracy = evaluate_alignment(trainer.model, processor, examples, reference=reference,
                                      show_progress=stage_args.show_progress)  # fmt: skip
        accuracy["skipped_training_rows"] = len(dataset.skipped)
        Path(training_args.output_dir, ACCURACY_FILE).write_text(json.dumps(accuracy, indent=2, ensure_ascii=False), encoding="utf-8")
    result = StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)
    result.alignment_accuracy = accuracy
    return result
