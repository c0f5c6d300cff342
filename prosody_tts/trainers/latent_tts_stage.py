"""``stage="latent_tts"``: the latent-diffusion head over a curriculum encoder and a trained Mel-VAE.

::

    recipe (stage="latent_tts") ─ init_from: a stage-1/2/3 directory (our encoder), a latent-diffusion
                                  directory (continue), or nothing (a new encoder of model_size)
                                ─ vae_model: the Mel-VAE directory (stage mel_vae)
      ─ latent mean / std per channel over the first ``latent_stats_rows`` training rows ─► config
      ─ prepared train split ─ TextToSpeechTrainer (frame-budget batches) ─► output_dir (model + processor)
      ─ prepared eval split ─ evaluate_lengths ─► output_dir/latent_errors.json

``python recipes/train.py recipes/tiny/latent_tts.json`` (CPU) · ``accelerate launch
recipes/train.py recipes/paper/latent_tts.json`` (GPUs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from transformers import TrainingArguments

from .recipe import (
    TTS_PRESETS,
    DataArguments,
    ModelArguments,
    StageArguments,
    StageResult,
    _check_choice,
    _text_config,
    _transcribed_train_rows,
)

logger = logging.getLogger(__name__)

__all__ = ["LATENT_ERRORS_FILE", "build_latent_tts_model", "latent_statistics", "run_latent_tts_stage"]

LATENT_ERRORS_FILE = "latent_errors.json"


@torch.no_grad()
def latent_statistics(vae: Any, rows: Any, collator: Any, limit: int, batch_size: int = 16) -> tuple[list[float], list[float]]:
    """Per-channel (mean, std) of the Mel-VAE latents (posterior means) of the first ``limit`` rows."""
    if len(rows) == 0:
        raise ValueError("no training rows to measure the latent statistics on")
    chunks = []
    count = min(limit, len(rows))
    for start in range(0, count, batch_size):
        batch = collator([rows[i] for i in range(start, min(start + batch_size, count))])
        latents, lengths = vae.eval().encode(batch["spectrogram"], batch["spectrogram_lengths"])
        chunks += [latents[b, : int(lengths[b])] for b in range(latents.shape[0])]
    values = torch.cat(chunks).double()
    return values.mean(0).tolist(), values.std(0).clamp_min(1e-3).tolist()


def build_latent_tts_model(model_args: ModelArguments, processor: Any, speakers: list[str]) -> tuple[Any, str]:
    """A new (or continued) ``LatentDiffusionTTSModel`` for a corpus with ``speakers``; returns it and its origin."""
    from ..configuration.latent_diffusion import LatentDiffusionTTSConfig
    from ..modeling.latent_diffusion import LatentDiffusionTTSModel
    from ..modeling.mel_vae import MelVaeModel

    _check_choice("tts_preset", model_args.tts_preset, TTS_PRESETS)
    init = Path(model_args.init_from) if model_args.init_from else None
    if init is not None and json.loads((init / "config.json").read_text())["model_type"] == LatentDiffusionTTSConfig.model_type:
        return LatentDiffusionTTSModel.from_pretrained(init), "continued from a latent-diffusion model"
    if not model_args.vae_model:
        raise ValueError("stage latent_tts needs vae_model: a Mel-VAE directory (train one with stage mel_vae)")
    overrides: dict[str, Any] = json.loads(model_args.latent_overrides) if model_args.latent_overrides else {}
    if len(speakers) > 1:
        overrides.setdefault("num_speakers", len(speakers))
        overrides.setdefault("speaker_names", list(speakers))
    overrides.setdefault("freeze_text_encoder", model_args.freeze_encoder)
    tiny = model_args.tts_preset == "tiny"
    vae = MelVaeModel.from_pretrained(model_args.vae_model)
    if init is not None:
        return LatentDiffusionTTSModel.from_parts(init, vae, tiny=tiny, **overrides), f"dual-stream encoder from {init}"
    config = LatentDiffusionTTSConfig.with_text_encoder(_text_config(model_args, processor), tiny=tiny, vae_config=vae.config, **overrides)
    model = LatentDiffusionTTSModel(config)
    model.vae.load_state_dict(vae.state_dict())
    return model, "new dual-stream encoder"


def run_latent_tts_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Train the latent-diffusion head on ``train_split``, then measure its length error on ``eval_split``."""
    from ..data.collators import DualStreamCollator, TextToSpeechCollator
    from .tts_stage import train_tts_head

    processor, train = _transcribed_train_rows(model_args, data_args, stage_args, training_args, processor)
    model, origin = build_latent_tts_model(model_args, processor, train.speakers)
    if model.config.latent_mean is None:
        spectra = TextToSpeechCollator(DualStreamCollator.from_processor(processor), spectrogram_only=True)
        mean, std = latent_statistics(model.vae, train, spectra, stage_args.latent_stats_rows)
        model.config.latent_mean, model.config.latent_std = mean, std
    logger.info("latent diffusion (%s): %.2f M parameters (DiT %.2f M)", origin, model.num_parameters() / 1e6,
                sum(p.numel() for p in model.dit.parameters()) / 1e6)  # fmt: skip
    trainer, output, heldout = train_tts_head(model, train, data_args, stage_args, training_args, processor)
    result = StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)
    if trainer.is_world_process_zero() and stage_args.evaluate_spectrograms:
        from ..evaluation.latent_tts import evaluate_lengths

        errors = evaluate_lengths(trainer.model, heldout, trainer.data_collator, show_progress=stage_args.show_progress)
        result.spectrogram_errors = errors.to_dict()
        Path(training_args.output_dir, LATENT_ERRORS_FILE).write_text(json.dumps(result.spectrogram_errors, indent=2), encoding="utf-8")
    return result
