"""``VocoderTrainer``: HiFi-GAN's adversarial training as a ``transformers.Trainer``.

::

    each step, on one batch of (mel, waveform) windows:
      1. discriminator: L_D (model(mode="discriminator")) ─ backward ─ clip ─ its AdamW step ─ its schedule
      2. generator:     L_G (model(mode="generator"))     ─ backward ─ (the Trainer) clip ─ AdamW step ─ schedule

The Trainer owns the generator's optimiser and schedule (``optimizer.pt``, ``scheduler.pt``); the
discriminators' pair is saved beside them in every checkpoint (``discriminator_optimizer.pt``,
``discriminator_scheduler.pt``) and restored on resume, with the model (both players), the RNG
and the data position, so a resumed run continues with the same losses. Both optimisers are
AdamW with the arguments' betas (the original: 0.8, 0.99), learning rate and weight decay; both
schedules multiply the rate by ``lr_decay`` every ``lr_decay_steps`` steps (the original: 0.999
per epoch). Logged: ``loss`` (the generator's), ``discriminator_loss``, ``mel_loss``,
``adversarial_loss``, ``feature_matching_loss``.

Not supported (refused with a message): gradient accumulation, fp16 (no loss scaler for the
second optimiser; bf16 is fine), DeepSpeed / FSDP.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from transformers import Trainer

from ..data.vocoder import VocoderCollator
from .common import SamplerEpochCallback, SubMetricsMixin

__all__ = ["DISCRIMINATOR_OPTIMIZER_FILE", "DISCRIMINATOR_SCHEDULER_FILE", "GENERATOR_LOSS_PARTS", "VocoderTrainer"]

DISCRIMINATOR_OPTIMIZER_FILE = "discriminator_optimizer.pt"
DISCRIMINATOR_SCHEDULER_FILE = "discriminator_scheduler.pt"
#: parts of the generator's loss, logged beside it
GENERATOR_LOSS_PARTS = ("mel_loss", "adversarial_loss", "feature_matching_loss")


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


class VocoderTrainer(SubMetricsMixin, Trainer):
    """``Trainer`` for :class:`~prosody_tts.modeling.hifigan_training.HifiGanTrainingModel` (see the module docstring).

    Args:
        lr_decay / lr_decay_steps: both learning rates are multiplied by ``lr_decay`` every
            ``lr_decay_steps`` optimiser steps (a staircase, as the original's per-epoch decay).
        discriminator_learning_rate: the discriminators' rate (default: ``learning_rate``).
        Other arguments as ``transformers.Trainer``; the default collator stacks the windows of a
        :class:`~prosody_tts.data.vocoder.VocoderSegmentDataset`.
    """

    def __init__(
        self,
        *args: Any,
        lr_decay: float = 0.999,
        lr_decay_steps: int = 1000,
        discriminator_learning_rate: float | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("data_collator", VocoderCollator())
        super().__init__(*args, **kwargs)
        if not 0 < lr_decay <= 1 or lr_decay_steps < 1:
            raise ValueError(f"need 0 < lr_decay <= 1 and lr_decay_steps >= 1, got {lr_decay}, {lr_decay_steps}")
        args_ = self.args
        if args_.gradient_accumulation_steps != 1:
            raise ValueError("VocoderTrainer: gradient_accumulation_steps must be 1 (each step updates both players)")
        if args_.fp16:
            raise ValueError("VocoderTrainer: fp16 is not supported (no loss scaler for the discriminators); use bf16")
        if self.is_deepspeed_enabled or self.is_fsdp_enabled:
            raise ValueError("VocoderTrainer: DeepSpeed and FSDP are not supported; use DDP (accelerate launch)")
        self.lr_decay, self.lr_decay_steps = lr_decay, lr_decay_steps
        self.discriminator_learning_rate = discriminator_learning_rate
        self.discriminator_optimizer: torch.optim.Optimizer | None = None
        self.discriminator_scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
        if hasattr(self.train_dataset, "set_epoch"):
            self.add_callback(SamplerEpochCallback(self.train_dataset))

    def _get_collator_with_removed_columns(self, data_collator: Any, description: str | None = None) -> Any:
        """The windows' keys (``id`` included) reach the collator, which keeps the model's two."""
        return data_collator

    # ------------------------------------------------------------------ optimisers
    def _adamw(self, parameters: Any, learning_rate: float) -> torch.optim.Optimizer:
        args = self.args
        return torch.optim.AdamW(
            list(parameters), lr=learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon,
            weight_decay=args.weight_decay,
        )  # fmt: skip

    def _decay(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        decay, every = self.lr_decay, self.lr_decay_steps
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: decay ** (step // every))

    def create_optimizer(self, model: torch.nn.Module | None = None) -> torch.optim.Optimizer:
        """The generator's AdamW (the Trainer's ``optimizer``) and the discriminators' (ours)."""
        model = _unwrap(self.model if model is None else model)
        if self.optimizer is None:
            self.optimizer = self._adamw(model.generator.parameters(), self.args.learning_rate)
        if self.discriminator_optimizer is None:
            rate = self.discriminator_learning_rate or self.args.learning_rate
            self.discriminator_optimizer = self._adamw(model.discriminator.parameters(), rate)
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None) -> Any:
        """The staircase decay of both rates."""
        if self.lr_scheduler is None:
            self.lr_scheduler = self._decay(optimizer or self.optimizer)
        if self.discriminator_scheduler is None:
            self.discriminator_scheduler = self._decay(self.discriminator_optimizer)
        return self.lr_scheduler

    # ------------------------------------------------------------------ one step
    def training_step(self, model: torch.nn.Module, inputs: dict[str, Any], num_items_in_batch: Any = None) -> torch.Tensor:
        """The discriminators' update, then the generator's loss and backward (the Trainer steps it)."""
        model.train()
        inputs = self._prepare_inputs(inputs)
        discriminator = _unwrap(model).discriminator
        with self.compute_loss_context_manager():
            judged = model(**inputs, mode="discriminator", return_dict=True)
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(judged.loss)
        if self.args.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(discriminator.parameters(), self.args.max_grad_norm)
        self.discriminator_optimizer.step()
        self.discriminator_scheduler.step()
        with self.compute_loss_context_manager():
            generated = model(**inputs, mode="generator", return_dict=True)
        self.accelerator.backward(generated.loss)
        for parameter in discriminator.parameters():  # the generator's backward reached them: not theirs to keep
            parameter.grad = None
        self._record({"discriminator_loss": judged.loss, **{name: getattr(generated, name) for name in GENERATOR_LOSS_PARTS}})
        return generated.loss.detach()

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
        """The generator's loss (evaluation)."""
        outputs = model(**inputs, mode="generator", return_dict=True)
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    # ------------------------------------------------------------------ checkpoints
    def _save_optimizer_and_scheduler(self, output_dir: str) -> None:
        super()._save_optimizer_and_scheduler(output_dir)
        if self.args.should_save and self.discriminator_optimizer is not None:
            torch.save(self.discriminator_optimizer.state_dict(), os.path.join(output_dir, DISCRIMINATOR_OPTIMIZER_FILE))
            torch.save(self.discriminator_scheduler.state_dict(), os.path.join(output_dir, DISCRIMINATOR_SCHEDULER_FILE))

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is None:
            return
        path = os.path.join(checkpoint, DISCRIMINATOR_OPTIMIZER_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{checkpoint} has no {DISCRIMINATOR_OPTIMIZER_FILE}: not a VocoderTrainer checkpoint")
        device = self.args.device
        self.discriminator_optimizer.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        scheduler = torch.load(os.path.join(checkpoint, DISCRIMINATOR_SCHEDULER_FILE), weights_only=True)
        self.discriminator_scheduler.load_state_dict(scheduler)
