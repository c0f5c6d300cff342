"""``stage="mel_vae"``: train the Mel-VAE whose latents the latent-diffusion head generates.

::

    train split ─ prepared log-mels ─ mel mean / std of the first ``latent_stats_rows`` rows ─► MelVaeConfig
      ─ MelVaeTrainer (frame-budget batches of log-mels only; L1 + KL or RVQ) ─► output_dir (Mel-VAE + processor)
    eval split ─ evaluate_reconstruction (encoder mean → decoder) ─► output_dir/reconstruction.json
      (+ figures/reconstruction.png: one held-out log-mel beside its reconstruction)

``python recipes/train.py recipes/tiny/mel_vae.json`` (CPU) · ``accelerate launch recipes/train.py
recipes/paper/mel_vae.json`` (GPUs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainingArguments

from .recipe import (
    VAE_PRESETS,
    DataArguments,
    ModelArguments,
    StageArguments,
    StageResult,
    _check_choice,
    _prepared,
    _train_and_save,
    _transcribed_train_rows,
)
from .tts import TextToSpeechTrainer

logger = logging.getLogger(__name__)

__all__ = ["RECONSTRUCTION_FILE", "MelVaeTrainer", "build_mel_vae", "mel_statistics", "run_mel_vae_stage"]

RECONSTRUCTION_FILE = "reconstruction.json"


class MelVaeTrainer(TextToSpeechTrainer):
    """The text-to-speech trainer (frame-budget sampler, resume, loss parts) on log-mels alone.

    Batches are :class:`~prosody_tts.data.collators.TextToSpeechCollator` batches with
    ``spectrogram_only=True``; the logged parts are the model's ``loss_parts``
    (``reconstruction_loss``, ``kl_loss`` or ``quantizer_loss``).
    """

    def __init__(self, *args: Any, processor: Any = None, **kwargs: Any) -> None:
        from ..data.collators import DualStreamCollator, TextToSpeechCollator

        if "data_collator" not in kwargs:
            base = DualStreamCollator.from_processor(processor) if processor is not None else DualStreamCollator()
            kwargs["data_collator"] = TextToSpeechCollator(base, spectrogram_only=True)
        super().__init__(*args, processor=processor, **kwargs)


def mel_statistics(rows: Any, limit: int) -> tuple[float, float]:
    """(mean, std) of every log-mel value of the first ``limit`` prepared rows."""
    if len(rows) == 0:
        raise ValueError("no training rows to measure the log-mel statistics on")
    values = np.concatenate([np.asarray(rows[i]["input_features"], dtype=np.float64).ravel() for i in range(min(limit, len(rows)))])
    return float(values.mean()), float(max(values.std(), 1e-3))


def build_mel_vae(model_args: ModelArguments, processor: Any, train: Any, stats_rows: int) -> tuple[Any, str]:
    """A new Mel-VAE of ``vae_preset`` (mel settings from the processor, statistics from ``train``),
    or ``init_from``'s to continue."""
    from ..configuration.mel_vae import MelVaeConfig
    from ..modeling.mel_vae import MelVaeModel

    _check_choice("vae_preset", model_args.vae_preset, VAE_PRESETS)
    overrides: dict[str, Any] = json.loads(model_args.vae_overrides) if model_args.vae_overrides else {}
    if model_args.init_from:
        return MelVaeModel.from_pretrained(model_args.init_from, **overrides), f"continued from {model_args.init_from}"
    extractor = processor.feature_extractor
    mean, std = mel_statistics(train, stats_rows)
    values = dict(n_mels=int(extractor.feature_size), sampling_rate=int(extractor.sampling_rate),
                  hop_length=int(extractor.hop_length), mel_mean=mean, mel_std=std)  # fmt: skip
    values.update(overrides)
    config = MelVaeConfig.tiny(**values) if model_args.vae_preset == "tiny" else MelVaeConfig(**values)
    return MelVaeModel(config), f"new ({model_args.vae_preset}; log-mel mean {mean:.3f}, std {std:.3f})"


def run_mel_vae_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Train the Mel-VAE on ``train_split``, then measure its reconstruction L1 on ``eval_split``."""
    processor, train = _transcribed_train_rows(model_args, data_args, stage_args, training_args, processor)
    model, origin = build_mel_vae(model_args, processor, train, stage_args.latent_stats_rows)
    logger.info("Mel-VAE (%s): %.2f M parameters, %d× down", origin, model.num_parameters() / 1e6, model.config.downsample_rate)
    trainer = MelVaeTrainer(model=model, args=training_args, train_dataset=train, processor=processor, max_frames=stage_args.max_frames)
    output = _train_and_save(trainer, training_args, processor)
    result = StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)
    if trainer.is_world_process_zero() and stage_args.evaluate_spectrograms:
        from ..evaluation.latent_tts import evaluate_reconstruction

        heldout = _prepared(data_args, training_args, processor, data_args.eval_split, stage_args.show_progress, all_ranks=False,
                            require_durations=False)  # fmt: skip
        errors = evaluate_reconstruction(trainer.model, heldout, trainer.data_collator, show_progress=stage_args.show_progress)
        result.spectrogram_errors = errors.to_dict()
        Path(training_args.output_dir, RECONSTRUCTION_FILE).write_text(json.dumps(result.spectrogram_errors, indent=2), encoding="utf-8")
        _plot_reconstruction(trainer.model, heldout[0], trainer.data_collator, Path(training_args.output_dir) / "figures")
    return result


def _plot_reconstruction(vae: Any, row: dict[str, Any], collator: Any, folder: Path) -> None:
    """figures/reconstruction.png: a held-out log-mel and its round trip (skipped without matplotlib)."""
    import torch

    try:
        from ..evaluation.plots import plot_spectrograms
    except ImportError as error:
        logger.warning("reconstruction figure not drawn: %s", error)
        return
    batch = collator([row])
    device = next(vae.parameters()).device
    mel = batch["spectrogram"].to(device)
    with torch.no_grad():
        latents, lengths = vae.encode(mel)
        decoded = vae.decode(latents, lengths)[:, : mel.shape[1]]
    figure = plot_spectrograms({"log-mel": mel[0].cpu(), "Mel-VAE reconstruction": decoded[0].cpu()}, title=str(row.get("id")))
    folder.mkdir(parents=True, exist_ok=True)
    figure.savefig(folder / "reconstruction.png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(figure)
