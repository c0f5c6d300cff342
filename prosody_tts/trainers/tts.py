"""Training a text-to-speech head (Grad-TTS, latent diffusion) on a prepared corpus with ``Trainer``.

::

    PreparedCorpus rows ─ FrameBudgetBatchSampler (≤ max_frames padded frames per rank, lengths bucketed)
      ─ TextToSpeechCollator ─► both token streams, spectrogram (B, T, M), lengths, speaker_ids
      ─ GradTTSModel.forward ─► loss = duration + prior + diffusion (each logged under its name)
    every ``sample_every_steps`` (rank 0): synthesise a fixed held-out row ─► TensorBoard image
      (generated vs ground-truth mel) and audio (Griffin-Lim), under ``<output_dir>/runs/samples``

The sampler is rank-aware (the same seed on every rank, disjoint batches, equal counts), so the
loader is built here and never re-sharded by Accelerate; :class:`~.common.SamplerEpochCallback`
keeps its epoch right on resume. Randomness inside the model (decoder crops, diffusion times and
noise) draws from the global RNG, which the Trainer checkpoints and restores, so a resumed run
continues with the same losses.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from torch.utils.data import DataLoader
from transformers import Trainer, TrainerCallback

from ..data.collators import DualStreamCollator, TextToSpeechCollator
from ..data.samplers import FrameBudgetBatchSampler
from .common import SamplerEpochCallback, SubMetricsMixin, batch_sampler_dataloader

logger = logging.getLogger(__name__)

__all__ = ["LOSS_PARTS", "SynthesisSampleCallback", "TextToSpeechTrainer"]

#: The parts of the TTS loss logged beside ``loss``.
LOSS_PARTS: tuple[str, ...] = ("duration_loss", "prior_loss", "diffusion_loss")


class TextToSpeechTrainer(SubMetricsMixin, Trainer):
    """``Trainer`` for a TTS head (:class:`~prosody_tts.modeling.grad_tts.GradTTSModel`,
    :class:`~prosody_tts.modeling.latent_diffusion.LatentDiffusionTTSModel`) on a ``PreparedCorpus``.

    Logs ``loss`` and its parts (the model's ``loss_parts``; Grad-TTS: :data:`LOSS_PARTS`).

    Args:
        processor: the ``DualStreamProcessor`` of the corpus (pad ids; saved with checkpoints).
        speaker_to_id: fixed speaker → table row (multi-speaker models; the same on every rank).
        max_frames: padded mel frames per batch on each rank (``FrameBudgetBatchSampler``).
        bucket_size: items sorted by length together before packing.
        Other arguments as ``transformers.Trainer``; ``per_device_train_batch_size`` is unused
        (the frame budget sets the batch).
    """

    def __init__(
        self,
        *args: Any,
        processor: Any = None,
        speaker_to_id: dict[str, int] | None = None,
        max_frames: int = 4000,
        bucket_size: int = 256,
        **kwargs: Any,
    ) -> None:
        model = kwargs.get("model", args[0] if args else None)
        multi = bool(getattr(getattr(model, "config", None), "multi_speaker", False))
        if multi and speaker_to_id is None:
            raise ValueError("a multi-speaker model needs a fixed speaker_to_id (the same on every rank)")
        if "data_collator" not in kwargs:
            base = (
                DualStreamCollator.from_processor(processor, speaker_to_id=speaker_to_id)
                if processor is not None
                else DualStreamCollator(speaker_to_id=speaker_to_id)
            )
            kwargs["data_collator"] = TextToSpeechCollator(base, with_speaker_ids=multi)
        if processor is not None:
            kwargs.setdefault("processing_class", processor)
        super().__init__(*args, **kwargs)
        self.max_frames, self.bucket_size = max_frames, bucket_size
        self.sampler: FrameBudgetBatchSampler | None = None

    def make_sampler(self, dataset: Any) -> FrameBudgetBatchSampler:
        """The rank-aware frame-budget sampler over ``dataset``'s ``num_frames``."""
        rows = getattr(dataset, "rows", dataset)
        lengths = rows["num_frames"] if hasattr(rows, "column_names") else [row["num_frames"] for row in rows]
        return FrameBudgetBatchSampler(
            lengths,
            self.max_frames,
            bucket_size=self.bucket_size,
            seed=self.args.data_seed if self.args.data_seed is not None else self.args.seed,
            rank=self.args.process_index,
            world_size=self.args.world_size,
        )

    def get_train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            raise ValueError("TextToSpeechTrainer: training requires a train_dataset (a PreparedCorpus)")
        if self.sampler is None:
            self.sampler = self.make_sampler(self.train_dataset)
            self.add_callback(SamplerEpochCallback(self.sampler))
        return batch_sampler_dataloader(self.train_dataset, self.sampler, self.data_collator, self.args)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
        outputs = model(**inputs, return_dict=True)
        parts = getattr(self.model, "loss_parts", LOSS_PARTS)
        self._record({name: getattr(outputs, name) for name in parts if getattr(outputs, name, None) is not None})
        return (outputs.loss, outputs) if return_outputs else outputs.loss


class SynthesisSampleCallback(TrainerCallback):
    """Every ``every_steps`` steps (rank 0): synthesise ``row`` and log it to TensorBoard.

    Logs the image ``samples/spectrogram`` (generated, aligned prior μ, ground truth) and the audio
    ``samples/audio`` (the generated mel through ``vocoder``). Sampling is seeded (``seed``), so
    two logs differ only by what the model learned in between.

    Args:
        row: a prepared row (``input_features``, token ids, ``speaker``).
        collator: the trainer's ``TextToSpeechCollator``.
        vocoder: a mel → waveform model with ``config.sampling_rate`` (e.g. ``GriffinLimVocoder``).
        every_steps / n_timesteps / temperature / seed: when and how to sample.
        log_dir: default ``<output_dir>/runs/samples``.
    """

    def __init__(
        self,
        row: dict[str, Any],
        collator: TextToSpeechCollator,
        vocoder: torch.nn.Module,
        every_steps: int,
        n_timesteps: int = 10,
        temperature: float = 1.5,
        seed: int = 0,
        log_dir: str | None = None,
    ) -> None:
        if every_steps < 1:
            raise ValueError(f"every_steps must be >= 1, got {every_steps}")
        self.row, self.collator, self.vocoder = row, collator, vocoder.eval()
        self.every_steps, self.n_timesteps, self.temperature, self.seed = every_steps, n_timesteps, temperature, seed
        self.log_dir = log_dir
        self._writer: Any = None

    def synthesize(self, model: torch.nn.Module) -> dict[str, Any]:
        """The sample's generated and reference log-mels (T, M), prior μ and waveform."""
        from ..modeling.loading import evaluating

        batch = self.collator([self.row])
        target = batch.pop("spectrogram")[0]
        batch.pop("spectrogram_lengths")
        device = next(model.parameters()).device
        batch = {key: value.to(device) for key, value in batch.items()}
        generator = torch.Generator(device=device).manual_seed(self.seed)
        with evaluating(model), torch.no_grad():
            out = model.synthesize(**batch, n_timesteps=self.n_timesteps, temperature=self.temperature, generator=generator)
            mel = out.spectrogram[:1].float().cpu()
            waveform = self.vocoder(mel, generator=torch.Generator().manual_seed(self.seed)).waveform[0]
        prior = getattr(out, "encoder_spectrogram", None)  # Grad-TTS only
        prior = None if prior is None else prior[0].float().cpu()
        return {"generated": mel[0], "prior": prior, "target": target, "waveform": waveform}

    def on_step_end(self, args, state, control, model=None, **kwargs):  # type: ignore[no-untyped-def]
        if not state.is_world_process_zero or model is None or state.global_step % self.every_steps:
            return control
        try:
            from torch.utils.tensorboard import SummaryWriter

            from ..evaluation.plots import figure_image, plot_spectrograms
        except ImportError as error:  # tensorboard or matplotlib missing: training goes on
            logger.warning("synthesis samples not logged: %s", error)
            return control
        sample = self.synthesize(model)
        if self._writer is None:
            self._writer = SummaryWriter(log_dir=self.log_dir or os.path.join(args.output_dir, "runs", "samples"))
        panels = {"generated": sample["generated"], "prior μ (aligned encoder output)": sample["prior"], "ground truth": sample["target"]}
        figure = plot_spectrograms({k: v for k, v in panels.items() if v is not None}, title=f"step {state.global_step}")
        self._writer.add_image("samples/spectrogram", figure_image(figure), state.global_step, dataformats="CHW")
        rate = int(self.vocoder.config.sampling_rate)
        self._writer.add_audio("samples/audio", sample["waveform"].clamp(-1, 1), state.global_step, sample_rate=rate)
        self._writer.flush()
        return control

    def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return control
