"""Trainers of the curriculum: stage 1 (MLM) and stages 2/3 (contrastive), and their recipe runner."""

from .common import SamplerEpochCallback, SubMetricsMixin, batch_sampler_dataloader
from .contrastive import BATCH_SAMPLERS, ContrastiveTrainer
from .mlm import MaskedLMTrainer, SeededMLMCollator, masked_accuracy

__all__ = [
    "BATCH_SAMPLERS",
    "ContrastiveTrainer",
    "MaskedLMTrainer",
    "SamplerEpochCallback",
    "SeededMLMCollator",
    "SubMetricsMixin",
    "batch_sampler_dataloader",
    "masked_accuracy",
]
