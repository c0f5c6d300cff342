"""``prosody-tts evaluate pairs``: score any TTS system's outputs against reference recordings.

Registered on the ``evaluate`` group by :func:`add_parsers`::

    prosody-tts evaluate pairs --reference refs/ --synthesized outputs/ --text texts.tsv \
        [--asr MODEL] [--speaker-encoder resemblyzer|ecapa:DIR|DIR|none] [--no-mos-proxy] --out report/

Files are paired by name (``{id}.wav`` / ``.flac`` / ``.ogg`` / ``.mp3``); ``--text`` is
``id<TAB>text`` lines or JSON lines (``id``, ``text``, optional ``phonemes``,
``reference_durations``, ``synthesized_durations``). Unpaired or unreadable files are listed and
counted. Writes ``records.jsonl``, ``summary.json``, ``report.md`` and figures to ``--out``, and
prints the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parsers", "run_pairs"]

PROG = "prosody-tts evaluate pairs"


def _add_metric_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--asr", default=None, help="ASR model (local directory or Hub id) for WER/CER")
    parser.add_argument(
        "--speaker-encoder", default="resemblyzer",
        help="SIM-o encoder: resemblyzer (default), ecapa:DIR, a local x-vector model DIR, or none",
    )  # fmt: skip
    parser.add_argument("--no-mos-proxy", action="store_true", help="skip DNSMOS (the MOS proxy)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the bootstrap intervals")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--device", default=None, help="torch device for the models (default: cpu)")
    parser.add_argument("--no-figures", action="store_true", help="write no PNGs")


def add_parsers(commands: Any) -> None:
    """Add ``pairs`` to the ``evaluate`` subcommands."""
    pairs = commands.add_parser(
        "pairs",
        help="MCD, F0, SIM-o, WER, MOS proxy of synthesised audio against references (files paired by name)",
        description="Evaluate any TTS system's outputs against reference recordings (see docs/evaluation.md).",
    )
    pairs.add_argument("--reference", type=Path, required=True, help="folder of reference recordings")
    pairs.add_argument("--synthesized", type=Path, required=True, help="folder of synthesised files, same names")
    pairs.add_argument("--text", type=Path, default=None, help="id<TAB>text lines or JSON lines (WER, speaking rate)")
    pairs.add_argument("--out", type=Path, required=True, help="write records.jsonl, summary.json, report.md, PNGs")
    _add_metric_options(pairs)
    pairs.set_defaults(handler=run_pairs)


def options_from_args(args: argparse.Namespace) -> Any:
    from ..evaluation.synthesis import SynthesisEvaluationOptions

    encoder = None if args.speaker_encoder in ("none", "") else args.speaker_encoder
    if args.resamples < 1:
        raise SystemExit(f"{PROG}: --resamples must be >= 1, got {args.resamples}")
    return SynthesisEvaluationOptions(
        speaker_encoder=encoder, asr=args.asr, mos_proxy=not args.no_mos_proxy, seed=args.seed,
        resamples=args.resamples, device=args.device,
    )  # fmt: skip


def report(evaluation: Any, tracks: Any, args: argparse.Namespace, title: str) -> int:
    from ..evaluation.synthesis_report import write_synthesis_report

    written = write_synthesis_report(evaluation, args.out, tracks, title=title, figures=not args.no_figures)
    print(evaluation.to_markdown())
    for problem in evaluation.problems:
        print(f"problem: {problem.id}: {problem.reason}", file=sys.stderr)
    print(
        f"{len(evaluation.records)} evaluated, {len(evaluation.problems)} problems; "
        f"wrote {', '.join(written)} to {args.out}",
        file=sys.stderr,
    )
    return 0 if evaluation.records else 1


def run_pairs(args: argparse.Namespace) -> int:
    """Pair, score, summarise and write the report (exit 1 when nothing could be evaluated)."""
    from ..evaluation.synthesis import evaluate_pairs, pair_files, read_texts

    try:
        pairs, problems = pair_files(args.reference, args.synthesized)
        texts = read_texts(args.text) if args.text is not None else None
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"{PROG}: {err}") from err
    options = options_from_args(args)
    try:
        evaluation, tracks = evaluate_pairs(pairs, options, texts=texts, problems=problems)
    except (FileNotFoundError, ImportError, OSError) as err:  # a model that cannot be loaded
        raise SystemExit(f"{PROG}: {err}") from err
    return report(evaluation, tracks, args, f"Synthesis evaluation: {args.synthesized} against {args.reference}")
