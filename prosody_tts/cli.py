"""The ``prosody-tts`` command.

Subcommands:

* ``demo`` — the main job: build the embedded corpus, train stage 1 and stage 2 at tiny scale,
  evaluate held-out retrieval, print the table and write a report (``--out DIR``);
* ``evaluate retrieval`` — R@1-diff / R@1-sim of a trained contrastive model on a corpus;
* ``phonemize`` — normalised text, stressed text, IPA phonemes and tokens of sentences given as
  arguments, from a file (``--file``) or from standard input (one sentence per line);
* ``train-bpe`` — train the Russian BPE tokenizer on a text file (or rebuild the packaged one);
* ``corpus build`` — synthesise the embedded multi-speaker corpus with exact phoneme timings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __version__

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
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

    demo = sub.add_parser(
        "demo", help="tiny curriculum on the embedded corpus: stage 1 + 2, retrieval table, report, model dir"
    )
    demo.add_argument("--out", type=Path, default=Path("prosody_tts_demo"), help="output directory")
    demo.add_argument("--speakers", type=int, default=4, help="embedded-corpus speakers (1-8)")
    demo.add_argument("--utterances", type=int, default=100, help="utterances per speaker")
    demo.add_argument("--stage1-steps", type=int, default=200)
    demo.add_argument("--stage2-steps", type=int, default=250)
    demo.add_argument("--num-candidates", type=int, default=32, help="retrieval candidates per anchor (N)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--frontend-only", action="store_true", help="only print the front-end table of built-in sentences")
    demo.add_argument("--g2p", choices=["rules", "espeak"], default="rules", help="G2P of --frontend-only")
    demo.set_defaults(handler=_cmd_demo)

    from .evaluation.cli import add_evaluate_parser

    add_evaluate_parser(sub)

    phonemize = sub.add_parser("phonemize", help="show normalised, stressed, IPA and token forms of Russian text")
    phonemize.add_argument("text", nargs="*", help="sentences; none (or '-') reads standard input")
    phonemize.add_argument("--file", type=Path, help="read sentences from a file, one per line")
    phonemize.add_argument("--json", action="store_true", help="one JSON object per sentence (JSON lines)")
    phonemize.add_argument("--g2p", choices=["rules", "espeak"], default="rules")
    phonemize.add_argument(
        "--keep-going", action="store_true", help="report a bad line and continue instead of stopping"
    )
    phonemize.set_defaults(handler=_cmd_phonemize)

    bpe = sub.add_parser("train-bpe", help="train the Russian BPE tokenizer")
    bpe.add_argument("--input", type=Path, help="text file, one text per line")
    bpe.add_argument("--out", type=Path, help="directory to save the tokenizer (save_pretrained)")
    bpe.add_argument("--vocab-size", type=int, default=8000)
    bpe.add_argument("--min-frequency", type=int, default=2)
    bpe.add_argument(
        "--default", action="store_true", help="rebuild the packaged tokenizer from the built-in sentences"
    )
    bpe.set_defaults(handler=_cmd_train_bpe)

    corpus = sub.add_parser("corpus", help="build corpora")
    corpus_sub = corpus.add_subparsers(title="corpus commands")
    build = corpus_sub.add_parser("build", help="synthesise the embedded corpus (offline, deterministic)")
    build.add_argument("--out", type=Path, required=True, help="output directory (manifests, wavs/, corpus.json)")
    build.add_argument("--utterances", type=int, default=300, help="utterances per speaker")
    build.add_argument("--speakers", type=int, default=8)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--workers", type=int, default=2, help="synthesis processes")
    build.set_defaults(handler=_cmd_corpus_build)
    corpus.set_defaults(handler=lambda args: (corpus.print_help(), 2)[1])
    return parser


# ---------------------------------------------------------------------- demo / phonemize
def _cmd_demo(args: argparse.Namespace) -> int:
    if not args.frontend_only:
        from .demo import DemoOptions, run_demo

        for name in ("speakers", "utterances", "stage1_steps", "stage2_steps", "num_candidates"):
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
                num_candidates=args.num_candidates,
                seed=args.seed,
            )
        )
        return 0
    from .processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults(g2p_backend=args.g2p)
    print(f"prosody-tts {__version__}: Russian text front-end on {len(DEMO_SENTENCES)} built-in sentences\n")
    for sentence in DEMO_SENTENCES:
        print(_format_record(_record(processor, sentence)))
        print()
    return 0


def _cmd_phonemize(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .processing.errors import FrontendError
    from .processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults(g2p_backend=args.g2p)
    lines, total = _input_lines(args)
    failures = 0
    progress = tqdm(lines, total=total, desc="phonemize", unit="sent", disable=args.file is None, file=sys.stderr)
    for number, line in enumerate(progress, start=1):
        if not line.strip():
            continue
        try:
            record = _record(processor, line)
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
            print(_format_record(record))
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


def _record(processor, sentence: str) -> dict:
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


def _format_record(record: dict) -> str:
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


# ---------------------------------------------------------------------- train-bpe
def _cmd_train_bpe(args: argparse.Namespace) -> int:
    from .processing.tokenization_bpe import (
        DEFAULT_TOKENIZER_FILE,
        default_bpe_tokenizer_path,
        train_bpe_tokenizer,
    )

    if args.default:
        from .processing.tokenization_bpe import default_training_texts

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


# ---------------------------------------------------------------------- corpus
def _cmd_corpus_build(args: argparse.Namespace) -> int:
    from .data.embedded import build_embedded_corpus

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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
