"""``prosody-tts phonemize``: normalised, stressed, IPA and token forms of Russian sentences."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``phonemize`` to the ``prosody-tts`` sub-commands."""
    phonemize = subparsers.add_parser("phonemize", help="show normalised, stressed, IPA and token forms of Russian text")
    phonemize.add_argument("text", nargs="*", help="sentences; none (or '-') reads standard input")
    phonemize.add_argument("--file", type=Path, help="read sentences from a file, one per line")
    phonemize.add_argument("--json", action="store_true", help="one JSON object per sentence (JSON lines)")
    phonemize.add_argument("--g2p", choices=["rules", "espeak"], default="rules")
    phonemize.add_argument(
        "--keep-going", action="store_true", help="report a bad line and continue instead of stopping"
    )
    phonemize.set_defaults(handler=_cmd_phonemize)
    return phonemize


def _cmd_phonemize(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from ..processing.processing_dual_stream import DualStreamProcessor
    from ..text.errors import FrontendError

    processor = DualStreamProcessor.from_defaults(g2p_backend=args.g2p)
    lines, total = _input_lines(args)
    failures = 0
    progress = tqdm(lines, total=total, desc="phonemize", unit="sent", disable=args.file is None, file=sys.stderr)
    for number, line in enumerate(progress, start=1):
        if not line.strip():
            continue
        try:
            record = phonemize_record(processor, line)
        except FrontendError as error:
            failures += 1
            message = f"line {number}: {type(error).__name__}: {error}"
            if not args.keep_going:
                print(f"prosody-tts phonemize: {message}", file=sys.stderr)
                return 1
            progress.write(message, file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(format_record(record))
            print()
    if failures:
        print(f"{failures} line(s) could not be phonemised", file=sys.stderr)
        return 1
    return 0


def _input_lines(args: argparse.Namespace) -> tuple[Iterator[str], int | None]:
    if args.file is not None:
        if args.text:
            raise SystemExit("prosody-tts phonemize: give sentences or --file, not both")
        if not args.file.is_file():
            raise SystemExit(f"prosody-tts phonemize: no such file: {args.file}")
        lines = args.file.read_text(encoding="utf-8").splitlines()
        return iter(lines), len(lines)
    if args.text and args.text != ["-"]:
        return iter(args.text), len(args.text)
    return (line.rstrip("\n") for line in sys.stdin), None


def phonemize_record(processor: Any, sentence: str) -> dict:
    """Every front-end stage of one sentence, plus its token ids (what the command prints)."""
    result = processor.phonemize(sentence)
    encoded = processor.encode_phonemized([result], padding=False)
    bpe_ids = encoded["bpe_input_ids"][0]
    return {
        **result.to_dict(),
        "phoneme_input_ids": encoded["phoneme_input_ids"][0],
        "bpe_tokens": processor.bpe_tokenizer.convert_ids_to_tokens(bpe_ids),
        "bpe_input_ids": bpe_ids,
        "bpe_word_ids": encoded["bpe_word_ids"][0],
    }


def format_record(record: dict) -> str:
    rows = [
        ("text", record["text"]),
        ("normalized", record["normalized"]),
        ("stressed", record["stressed"]),
        ("phonemes", " ".join(record["phonemes"])),
        ("phoneme ids", " ".join(map(str, record["phoneme_input_ids"]))),
        ("bpe tokens", " ".join(record["bpe_tokens"])),
        ("bpe word ids", " ".join(map(str, record["bpe_word_ids"]))),
    ]
    return "\n".join(f"  {name:<13}{value}" for name, value in rows)
