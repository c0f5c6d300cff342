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

__all__ = ["add_parsers", "corpus_rows", "run_pairs", "run_tts"]

PROG = "prosody-tts evaluate pairs"


def _add_metric_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--asr", default=None, help="ASR model (local directory or Hub id) for WER/CER")
    parser.add_argument(
        "--recognizer", default=None,
        help="a phoneme-recogniser directory (prosody-tts train recognizer) for the PER proxy; its PER on "
        "the references is reported beside it",
    )  # fmt: skip
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

    tts = commands.add_parser(
        "tts",
        help="synthesise a corpus split with a trained TTS model, then evaluate it against the recordings",
        description="Synthesise the held-out split with --model and run the `evaluate pairs` metrics on it.",
    )
    tts.add_argument("--model", type=Path, required=True, help="a text-to-waveform or Grad-TTS directory")
    tts.add_argument("--vocoder", type=Path, default=None, help="a vocoder directory (default: the model's)")
    tts.add_argument("--data", required=True, help="an embedded-corpus directory, or 'festvox' (festvox-ru)")
    tts.add_argument("--split", default="heldout", help="the split to synthesise (default: heldout)")
    tts.add_argument("--limit", type=int, default=None, help="only the first N utterances")
    tts.add_argument("--steps", type=int, default=None, help="reverse diffusion steps (default: the model's)")
    tts.add_argument("--temperature", type=float, default=None, help="noise temperature (default: the model's)")
    tts.add_argument("--out", type=Path, required=True, help="OUT/synthesized/*.wav and the report files")
    _add_metric_options(tts)
    tts.set_defaults(handler=run_tts)


def options_from_args(args: argparse.Namespace) -> Any:
    from ..evaluation.synthesis import SynthesisEvaluationOptions

    encoder = None if args.speaker_encoder in ("none", "") else args.speaker_encoder
    if args.resamples < 1:
        raise SystemExit(f"{PROG}: --resamples must be >= 1, got {args.resamples}")
    return SynthesisEvaluationOptions(
        speaker_encoder=encoder, asr=args.asr, recognizer=args.recognizer, mos_proxy=not args.no_mos_proxy, seed=args.seed,
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


def corpus_rows(data: str, split: str) -> list[dict[str, Any]]:
    """Rows of an embedded-corpus directory's split, or of festvox-ru (``data="festvox"``)."""
    if data == "festvox":
        from ..data.sources.festvox import festvox_split, load_festvox_ru

        return festvox_split(load_festvox_ru(), split)
    folder = Path(data)
    if not (folder / f"{split}.jsonl").is_file():
        raise FileNotFoundError(f"{folder} is not an embedded corpus with {split}.jsonl (or give 'festvox')")
    from ..data.sources.embedded import load_embedded_corpus

    return list(load_embedded_corpus(folder, split))


def run_tts(args: argparse.Namespace) -> int:
    """Synthesise ``--split`` of ``--data`` with ``--model`` into OUT/synthesized, then evaluate the pairs."""
    from ..evaluation.synthesis import PairProblem, evaluate_pairs
    from ..pipelines.corpus_synthesis import synthesize_corpus
    from ..pipelines.text_to_speech import load_text_to_speech

    prog = "prosody-tts evaluate tts"
    try:
        rows = corpus_rows(args.data, args.split)
        model, processor = load_text_to_speech(str(args.model), None if args.vocoder is None else str(args.vocoder))
        entries, failed = synthesize_corpus(
            model, processor, rows, args.out / "synthesized", n_timesteps=args.steps,
            temperature=args.temperature, seed=args.seed, limit=args.limit,
        )  # fmt: skip
    except (OSError, TypeError, ValueError) as err:  # a missing dir, not a TTS model, mismatched mels, bad data
        raise SystemExit(f"{prog}: {err}") from err
    items = [(e["id"], e["reference"], e["synthesized"]) for e in entries]
    texts = {e["id"]: {k: v for k, v in e.items() if k not in ("id", "reference", "synthesized") and v is not None} for e in entries}
    problems = [PairProblem(key, reason) for key, reason in failed]
    try:
        evaluation, tracks = evaluate_pairs(items, options_from_args(args), texts=texts, problems=problems)
    except (FileNotFoundError, ImportError, OSError) as err:
        raise SystemExit(f"{prog}: {err}") from err
    return report(evaluation, tracks, args, f"Synthesis evaluation: {args.model} on {args.data} ({args.split})")
