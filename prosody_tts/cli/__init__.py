"""The ``prosody-tts`` command.

Subcommands:

* ``demo`` — the main job: build the embedded corpus, train stage 1 and stage 2 at tiny scale,
  evaluate held-out retrieval, print the table and write a report (``--out DIR``);
* ``evaluate retrieval`` — R@1-diff / R@1-sim of a trained contrastive model on a corpus;
* ``phonemize`` — normalised text, stressed text, IPA phonemes and tokens of sentences given as
  arguments, from a file (``--file``) or from standard input (one sentence per line);
* ``train-bpe`` — train the Russian BPE tokenizer on a text file (or rebuild the packaged one);
* ``corpus build`` — synthesise the embedded multi-speaker corpus with exact phoneme timings;
* ``convert grad-tts CKPT --out DIR`` — an official Grad-TTS checkpoint to a model directory;
* ``synthesize TEXT --model DIR --out out.wav`` — speak Russian text with a trained TTS directory
  (``--file`` / standard input: one WAV per line);
* ``align --data DIR|MANIFEST|festvox --out DIR [--model DIR | --train]`` — phoneme durations for
  any transcribed corpus (the phoneme aligner), written as a corpus stages 2/3 train on;
* ``train RECIPE`` — one curriculum stage from a recipe file (``recipes/train.py`` is this command
  for ``torchrun`` / ``accelerate launch``).

One module per command group (``demo.py``, ``evaluate.py``, ``phonemize.py``, ``tokenizer.py``,
``corpus.py``, ``train.py``, ``convert.py``, ``synthesize.py``, ``align.py``), each with an ``add_parser(subparsers)``; the work itself lives in the
library (:mod:`prosody_tts.demo`, :mod:`prosody_tts.trainers.recipe`, …).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from . import align, convert, corpus, demo, evaluate, phonemize, synthesize, tokenizer, train


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``prosody-tts`` with ``argv`` (default: the command line); returns the exit status."""
    parser = _build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"] and argv[1:2] not in (["-h"], ["--help"]):
        return train.run(argv[1:])  # the recipe's own parser reads the --field value pairs, in order
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prosody-tts", description="Prosody-aware Russian TTS toolkit.")
    parser.add_argument("--version", action="version", version=f"prosody-tts {__version__}")
    sub = parser.add_subparsers(title="commands")
    for command in (demo, evaluate, phonemize, synthesize, tokenizer, corpus, train, convert, align):
        command.add_parser(sub)
    return parser
