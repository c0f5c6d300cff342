"""``prosody-tts demo``: the main job (see :mod:`prosody_tts.demo`), or with ``--frontend-only`` the
front-end table of a few built-in sentences."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import __version__
from .phonemize import format_record, phonemize_record

DEMO_SENTENCES = (
    "Привет, как дела?",
    "В 2025 году мы купили 3 книги.",
    "Старинный замок стоял на холме.",
    "Он повесил на дверь новый замок.",
    "Всё хорошо, все пришли.",
    "Сколько стоит билет до Москвы?",
    "Здравствуйте! Сегодня солнце — настоящее чудо.",
    "Мы встретимся в 10:30 у входа в кафе.",
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``demo`` to the ``prosody-tts`` sub-commands."""
    demo = subparsers.add_parser(
        "demo", help="tiny curriculum on the embedded corpus: stage 1 + 2, retrieval table, report, model dir"
    )
    demo.add_argument("--out", type=Path, default=Path("prosody_tts_demo"), help="output directory")
    demo.add_argument("--speakers", type=int, default=4, help="embedded-corpus speakers (1-8)")
    demo.add_argument("--utterances", type=int, default=100, help="utterances per speaker")
    demo.add_argument("--stage1-steps", type=int, default=200)
    demo.add_argument("--stage2-steps", type=int, default=250)
    demo.add_argument("--tts-steps", type=int, default=600, help="Grad-TTS training steps")
    demo.add_argument("--num-candidates", type=int, default=32, help="retrieval candidates per anchor (N)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--frontend-only", action="store_true", help="only print the front-end table of built-in sentences")
    demo.add_argument("--g2p", choices=["rules", "espeak"], default="rules", help="G2P of --frontend-only")
    demo.set_defaults(handler=_cmd_demo)
    return demo


def _cmd_demo(args: argparse.Namespace) -> int:
    if not args.frontend_only:
        from ..demo import DemoOptions, run_demo

        for name in ("speakers", "utterances", "stage1_steps", "stage2_steps", "tts_steps", "num_candidates"):
            if getattr(args, name) < 1:
                print(f"--{name.replace('_', '-')} must be >= 1", file=sys.stderr)
                return 2
        run_demo(
            DemoOptions(
                out_dir=str(args.out),
                speakers=args.speakers,
                utterances_per_speaker=args.utterances,
                stage1_steps=args.stage1_steps,
                stage2_steps=args.stage2_steps,
                tts_steps=args.tts_steps,
                num_candidates=args.num_candidates,
                seed=args.seed,
            )
        )
        return 0
    from ..processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults(g2p_backend=args.g2p)
    print(f"prosody-tts {__version__}: Russian text front-end on {len(DEMO_SENTENCES)} built-in sentences\n")
    for sentence in DEMO_SENTENCES:
        print(format_record(phonemize_record(processor, sentence)))
        print()
    return 0
