"""``prosody-tts train-bpe``: train the Russian BPE tokenizer on a text file, or rebuild the packaged one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train-bpe`` to the ``prosody-tts`` sub-commands."""
    bpe = subparsers.add_parser("train-bpe", help="train the Russian BPE tokenizer")
    bpe.add_argument("--input", type=Path, help="text file, one text per line")
    bpe.add_argument("--out", type=Path, help="directory to save the tokenizer (save_pretrained)")
    bpe.add_argument("--vocab-size", type=int, default=8000)
    bpe.add_argument("--min-frequency", type=int, default=2)
    bpe.add_argument(
        "--default", action="store_true", help="rebuild the packaged tokenizer from the built-in sentences"
    )
    bpe.set_defaults(handler=_cmd_train_bpe)
    return bpe


def _cmd_train_bpe(args: argparse.Namespace) -> int:
    from ..processing.tokenization_bpe import (
        DEFAULT_TOKENIZER_FILE,
        default_bpe_tokenizer_path,
        train_bpe_tokenizer,
    )

    if args.default:
        from ..data.sources.sentences import default_training_texts

        texts = default_training_texts()
        tokenizer = train_bpe_tokenizer(texts, vocab_size=args.vocab_size, min_frequency=args.min_frequency)
        path = default_bpe_tokenizer_path()
        tokenizer.backend_tokenizer.save(str(path))
        print(f"saved the packaged BPE tokenizer ({tokenizer.vocab_size} tokens) to {path}")
        return 0
    if args.input is None or args.out is None:
        raise SystemExit("prosody-tts train-bpe: give --input and --out (or --default)")
    if not args.input.is_file():
        raise SystemExit(f"prosody-tts train-bpe: no such file: {args.input}")
    with args.input.open(encoding="utf-8") as handle:
        count = sum(1 for _ in handle)
    with args.input.open(encoding="utf-8") as handle:
        texts = (line.rstrip("\n") for line in handle)
        tokenizer = train_bpe_tokenizer(
            texts, vocab_size=args.vocab_size, min_frequency=args.min_frequency, length=count
        )
    tokenizer.save_pretrained(args.out)
    print(f"saved a BPE tokenizer with {tokenizer.vocab_size} tokens to {args.out} ({DEFAULT_TOKENIZER_FILE} format)")
    return 0
