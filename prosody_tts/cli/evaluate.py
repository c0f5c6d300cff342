"""``prosody-tts evaluate retrieval``: held-out retrieval of a contrastive model, as a table and a report.

Wired into the main parser with :func:`add_parser`::

    prosody-tts evaluate retrieval --model runs/stage3 --data corpus/ --out reports/stage3

``--data`` is an embedded-corpus directory (``train.jsonl`` / ``heldout.jsonl``; the split is
prepared in memory) or a ``prepare_corpus(cache_dir=...)`` folder (``prepared.arrow``, directly
or in ``<split>/``). With ``--out`` the command writes ``report.md``, ``result.json`` and PNG
figures (per-phoneme recall, a similarity matrix, and training curves when the model directory
has a ``trainer_state.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..constants import REPORT_FILE, RESULT_FILE, SPEAKER_MAP_FILE, TRAINER_STATE_FILE

__all__ = ["add_parser", "run_evaluate"]

PROG = "prosody-tts evaluate retrieval"

RECALL_PNG, SIMILARITY_PNG, CURVES_PNG = "per_phoneme_recall.png", "similarity_matrix.png", "training_curves.png"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``evaluate`` (with its ``retrieval`` subcommand) on the main parser's subparsers."""
    evaluate = subparsers.add_parser("evaluate", help="evaluate a trained model")
    commands = evaluate.add_subparsers(title="evaluate commands", dest="evaluate_command")
    retrieval = commands.add_parser(
        "retrieval",
        help="held-out R@1/R@5/MRR of text anchors against N audio segments (-diff and -sim)",
        description="Rank each held-out phoneme's true audio segment among N candidates (see docs/retrieval.md).",
    )
    retrieval.add_argument("--model", type=Path, required=True, help="a ProsodyContrastiveModel directory")
    retrieval.add_argument(
        "--data", type=Path, required=True, help="an embedded-corpus directory or a prepared-corpus cache directory"
    )
    retrieval.add_argument("--split", default="heldout", help="split of an embedded corpus (default: heldout)")
    retrieval.add_argument("--num-candidates", type=int, default=32, help="N: the true segment + N-1 distractors")
    retrieval.add_argument("--seed", type=int, default=0, help="seeds the anchor subset and the distractors")
    retrieval.add_argument("--max-anchors", type=int, default=None, help="evaluate a seeded subset of anchors")
    retrieval.add_argument("--batch-size", type=int, default=16, help="utterances per forward pass")
    retrieval.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    retrieval.add_argument(
        "--no-stress", action="store_true", help="group stressed and unstressed vowels into one identity"
    )
    retrieval.add_argument(
        "--speaker-map",
        type=Path,
        default=None,
        help=f"JSON speaker → id mapping for speaker_source='ids' models (default: MODEL/{SPEAKER_MAP_FILE})",
    )
    retrieval.add_argument("--plot-size", type=int, default=40, help="occurrences in the similarity-matrix figure")
    retrieval.add_argument("--out", type=Path, default=None, help=f"write {REPORT_FILE}, {RESULT_FILE} and PNGs here")
    retrieval.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    retrieval.set_defaults(handler=run_evaluate)
    from . import evaluate_synthesis

    evaluate_synthesis.add_parsers(commands)
    evaluate.set_defaults(handler=lambda args: (evaluate.print_help(), 2)[1])
    return evaluate


def _fail(message: str) -> SystemExit:
    return SystemExit(f"{PROG}: {message}")


def _load_processor(model_dir: Path) -> Any:
    """The model directory's saved processor, else the packaged default."""
    import prosody_tts  # noqa: F401  (registers the Auto classes)

    if (model_dir / "processor_config.json").is_file():
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(model_dir)
    from ..processing.processing_dual_stream import DualStreamProcessor

    print(f"{PROG}: no processor saved in {model_dir}; using the packaged default", file=sys.stderr)
    return DualStreamProcessor.from_defaults()


def _load_corpus(data: Path, split: str, processor: Any) -> Any:
    """A PreparedCorpus from an embedded-corpus directory or a prepared cache directory."""
    from ..data.prepared import PREPARED_FILE, PREPARED_INFO, PreparedCorpus, prepare_corpus

    if not data.is_dir():
        raise _fail(f"no such directory: {data}")
    for folder in (data, data / split):
        if (folder / PREPARED_FILE).is_file():
            if (folder / PREPARED_INFO).is_file():  # prepare_corpus' reuse path (no example is read)
                return prepare_corpus([], processor, cache_dir=folder, show_progress=False)
            from datasets import Dataset

            return PreparedCorpus(Dataset.from_file(str(folder / PREPARED_FILE)))
    if (data / f"{split}.jsonl").is_file():
        from ..data.sources.embedded import load_embedded_corpus

        return prepare_corpus(load_embedded_corpus(data, split), processor, desc=f"preparing {split}")
    raise _fail(
        f"{data} is neither a prepared corpus ({PREPARED_FILE} in it or in {split}/) "
        f"nor an embedded corpus with {split}.jsonl"
    )


def _speaker_map(args: argparse.Namespace, model: Any) -> dict[str, int] | None:
    if model.config.speaker_source != "ids":
        return None
    path = args.speaker_map or args.model / SPEAKER_MAP_FILE
    if not path.is_file():
        raise _fail(
            f"the model takes speaker ids (speaker_source='ids'); give its training mapping with --speaker-map "
            f"(a JSON object speaker → id), or save it as {args.model / SPEAKER_MAP_FILE}"
        )
    return {str(k): int(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def _write_outputs(args: argparse.Namespace, result: Any, embeddings: Any) -> list[str]:
    """report.md, result.json and the PNGs (skipped with a note when matplotlib is missing)."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    figures: list[str] = []
    try:
        from ..evaluation.plots import (
            plot_loss_curves,
            plot_per_phoneme_recall,
            plot_similarity_matrix,
            similarity_sample,
        )

        plot_per_phoneme_recall(result, out / RECALL_PNG)
        figures.append(RECALL_PNG)
        sample = similarity_sample(embeddings.identities, args.plot_size, args.seed)
        plot_similarity_matrix(
            embeddings.text[sample], embeddings.audio[sample], [embeddings.identities[i] for i in sample], out / SIMILARITY_PNG
        )
        figures.append(SIMILARITY_PNG)
        state = args.model / TRAINER_STATE_FILE
        if state.is_file():
            history = json.loads(state.read_text(encoding="utf-8")).get("log_history") or []
            try:
                plot_loss_curves(history, out / CURVES_PNG)
                figures.append(CURVES_PNG)
            except ValueError as error:
                print(f"{PROG}: no training curves: {error}", file=sys.stderr)
    except ImportError as error:
        print(f"{PROG}: figures skipped: {error}", file=sys.stderr)
    lines = [
        "# Retrieval report",
        "",
        f"- model: `{args.model}`",
        f"- data: `{args.data}` (split `{args.split}`), {len(embeddings)} occurrences",
        f"- identities {'with' if not args.no_stress else 'without'} stress; protocol: docs/retrieval.md",
        "",
        result.to_markdown(),
        "",
        "## Per phoneme",
        "",
        result.per_phoneme_markdown(),
        "",
    ]
    lines += [f"![{name}]({name})\n" for name in figures]
    (out / REPORT_FILE).write_text("\n".join(lines), encoding="utf-8")
    return [REPORT_FILE, RESULT_FILE, *figures]


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``evaluate retrieval``: load model, processor and split, evaluate, print (and write) the result."""
    if getattr(args, "evaluate_command", None) != "retrieval":
        raise _fail(f"unknown evaluate command {getattr(args, 'evaluate_command', None)!r}")
    if args.num_candidates < 2:
        raise _fail(f"--num-candidates must be >= 2, got {args.num_candidates}")
    if args.max_anchors is not None and args.max_anchors < 1:
        raise _fail(f"--max-anchors must be >= 1, got {args.max_anchors}")
    if args.batch_size < 1 or args.plot_size < 1:
        raise _fail("--batch-size and --plot-size must be positive")
    if not (args.model / "config.json").is_file():
        raise _fail(f"no model in {args.model} (config.json missing)")

    import torch

    from ..data.occurrences import occurrence_index
    from ..evaluation.retrieval import compute_occurrence_embeddings, evaluate_retrieval
    from ..modeling.contrastive import ProsodyContrastiveModel

    processor = _load_processor(args.model)
    model = ProsodyContrastiveModel.from_pretrained(args.model)
    speaker_to_id = _speaker_map(args, model)
    corpus = _load_corpus(args.data, args.split, processor)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    keep_stress = not args.no_stress
    embeddings = compute_occurrence_embeddings(
        model,
        corpus,
        occurrence_index(corpus, keep_stress=keep_stress),
        batch_size=args.batch_size,
        device=device,
        show_progress=True,
        speaker_to_id=speaker_to_id,
        processor=processor,
    )
    try:
        result = evaluate_retrieval(
            model,
            corpus,
            num_candidates=args.num_candidates,
            seed=args.seed,
            max_anchors=args.max_anchors,
            keep_stress=keep_stress,
            embeddings=embeddings,
        )
    except ValueError as error:
        raise _fail(str(error)) from error
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result.to_markdown())
    if args.out is not None:
        written = _write_outputs(args, result, embeddings)
        print(f"wrote {', '.join(written)} to {args.out}", file=sys.stderr)
    return 0
