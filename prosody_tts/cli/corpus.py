"""``prosody-tts corpus build``: synthesise the embedded multi-speaker corpus with exact phoneme timings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``corpus`` (with ``corpus build``) to the ``prosody-tts`` sub-commands."""
    corpus = subparsers.add_parser("corpus", help="build corpora")
    corpus_sub = corpus.add_subparsers(title="corpus commands")
    build = corpus_sub.add_parser("build", help="synthesise the embedded corpus (offline, deterministic)")
    build.add_argument("--out", type=Path, required=True, help="output directory (manifests, wavs/, corpus.json)")
    build.add_argument("--utterances", type=int, default=300, help="utterances per speaker")
    build.add_argument("--speakers", type=int, default=8)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--workers", type=int, default=2, help="synthesis processes")
    build.set_defaults(handler=_cmd_corpus_build)
    corpus.set_defaults(handler=lambda args: (corpus.print_help(), 2)[1])
    return corpus


def _cmd_corpus_build(args: argparse.Namespace) -> int:
    from ..data.sources.embedded import build_embedded_corpus

    if args.utterances < 1 or args.speakers < 1:
        raise SystemExit("prosody-tts corpus build: --utterances and --speakers must be positive")
    summary = build_embedded_corpus(
        args.out,
        utterances_per_speaker=args.utterances,
        speakers=args.speakers,
        seed=args.seed,
        workers=args.workers,
        show_progress=True,
    )
    counts = ", ".join(f"{split}: {count}" for split, count in summary.counts.items())
    hours = sum(summary.hours.values())
    print(
        f"built {args.out}: {counts} utterances, {hours * 60:.1f} min of audio, "
        f"{summary.size_bytes / 2**20:.1f} MiB, {summary.build_seconds:.0f} s"
    )
    if summary.skipped:
        print(f"{len(summary.skipped)} utterance(s) left out (reasons in corpus.json)", file=sys.stderr)
    return 0
