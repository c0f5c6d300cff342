"""``prosody-tts train RECIPE``: one curriculum stage from a recipe file (or ``--flag value`` arguments).

The same command runs on one process, under ``torchrun`` and under ``accelerate launch`` (through
``recipes/train.py``). The main process prints a JSON summary: output directory, train metrics and,
for stages 2/3, held-out retrieval; for the tts stage, the held-out spectrogram errors; for the
vocoder stage, the copy-synthesis scores; for the recognizer, its PER on held-out ground truth; for the aligner, its boundary errors;
for the Mel-VAE, its held-out reconstruction L1; for the latent-diffusion head, its length error.
``prosody-tts train recognizer --corpus DIR --output_dir OUT`` names the stage instead of a recipe.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train`` to the ``prosody-tts`` sub-commands."""
    train = subparsers.add_parser(
        "train",
        help="one curriculum stage from a recipe (recipes/tiny/stage1.json, ...)",
        description="Arguments: a recipe file, or the recipe's fields as --flag value pairs.",
    )
    train.add_argument(
        "recipe", nargs="*",
        help="RECIPE.json|yaml [--field value ...], or a stage name (mlm, contrastive, tts, vocoder, recognizer, aligner, mel_vae, latent_tts) "
        "followed by --field value pairs",
    )  # fmt: skip
    train.set_defaults(handler=_cmd_train)
    return train


def _cmd_train(args: argparse.Namespace) -> int:
    return run(args.recipe)


def run(recipe: list[str]) -> int:
    """Train the stage ``recipe`` describes (a recipe file, or ``--field value`` pairs) and print a summary."""
    from ..trainers.recipe import STAGES, run_recipe

    if not recipe:
        raise SystemExit("prosody-tts train: give a recipe file (e.g. recipes/tiny/stage1.json) or --field value pairs")
    if recipe[0] in STAGES:  # `prosody-tts train recognizer --corpus ...`: the stage by name
        recipe = ["--stage", recipe[0], *recipe[1:]]
    result = run_recipe(recipe)
    if result.process_index == 0:
        retrieval = {k: v for k, v in (result.retrieval or {}).items() if k != "per_phoneme"} or None
        summary = {"output_dir": result.output_dir, "train": result.train_metrics, "retrieval": retrieval}
        if result.spectrogram_errors is not None:
            summary["spectrogram_errors"] = result.spectrogram_errors
        if result.copy_synthesis is not None:
            summary["copy_synthesis"] = result.copy_synthesis
        if result.phoneme_error_rate is not None:
            summary["phoneme_error_rate"] = result.phoneme_error_rate
        if result.alignment_accuracy is not None:
            summary["alignment_accuracy"] = {k: v for k, v in result.alignment_accuracy.items() if k != "rejected"}
        print(json.dumps(summary, indent=2, default=str))
    return 0
