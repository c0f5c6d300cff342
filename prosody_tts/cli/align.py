"""``prosody-tts align``: phoneme durations for any transcribed corpus, as a corpus stages 2/3 read.

::

    prosody-tts align --data DIR_OR_MANIFEST|festvox --out OUT [--model ALIGNER_DIR | --train]
      --data: a folder with train.jsonl / heldout.jsonl (an embedded or an aligned corpus),
              a .jsonl / .csv / .tsv / .parquet manifest (every 10th row held out), or 'festvox'
      --train: train an aligner on the train split first (OUT/aligner), then align with it
    ─► OUT/train.jsonl, OUT/heldout.jsonl   canonical examples + phonemes + phoneme_durations
                                            (Σ = mel frames) + alignment_score + edge_silence_frames
       OUT/rejected.jsonl                   {id, split, reason} of every utterance not aligned
       OUT/alignment.json                   counts, score quantiles, speed, boundary errors against
                                            the data's own timings when it has them
       OUT/figures/*.png                    log-mels of the first held-out utterances with the
                                            aligner's boundaries (and the reference's)
    then: prosody-tts train recipes/tiny/stage2.json --corpus_dir OUT ...
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "load_splits"]

logger = logging.getLogger(__name__)

SPLITS = ("train", "heldout")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``align`` to the ``prosody-tts`` sub-commands."""
    align = subparsers.add_parser(
        "align", help="phoneme durations for a transcribed corpus (trains the aligner with --train)",
        description="Align every utterance of --data with a phoneme aligner; write a corpus with durations to --out.",
    )  # fmt: skip
    align.add_argument("--data", required=True, help="corpus folder (train.jsonl/heldout.jsonl), a manifest file, or 'festvox'")
    align.add_argument("--out", required=True, type=Path, help="output folder")
    align.add_argument("--model", default=None, help="a trained aligner directory (prosody-tts align --train, or train aligner)")
    align.add_argument("--train", action="store_true", help="train an aligner on the train split first (into OUT/aligner)")
    align.add_argument("--preset", default="small", help="--train: aligner size, tiny | small | base")
    align.add_argument("--max-steps", type=int, default=600, help="--train: optimisation steps")
    align.add_argument("--learning-rate", type=float, default=2e-3, help="--train: peak learning rate")
    align.add_argument("--batch-size", type=int, default=16, help="utterances per batch (training and alignment)")
    align.add_argument("--min-score", type=float, default=None, help="reject alignments scoring below (default: the model's)")
    align.add_argument("--seed", type=int, default=0, help="--train: seed")
    align.add_argument("--no-progress", action="store_true", help="no progress bars")
    align.set_defaults(handler=run)
    return align


def _data_arguments(data: str) -> Any:
    from ..trainers.recipe import DataArguments

    if data in ("festvox", "festvox_ru"):
        return DataArguments(corpus="festvox_ru")
    path = Path(data)
    if path.is_dir():
        if not (path / "train.jsonl").is_file():
            raise FileNotFoundError(f"{path} has no train.jsonl: give a corpus folder, a manifest file or 'festvox'")
        return DataArguments(corpus="embedded", corpus_dir=str(path))
    if path.is_file():
        return DataArguments(corpus="manifest", corpus_dir=str(path))
    raise FileNotFoundError(f"--data {data}: no such folder or manifest file (or give 'festvox')")


def load_splits(data: str) -> tuple[Any, dict[str, list[dict]], str]:
    """``(DataArguments, {split: examples}, reference kind)`` of ``--data``."""
    from ..trainers.recipe import _source

    data_args = _data_arguments(data)
    splits = {}
    for split in SPLITS:
        if data_args.corpus == "embedded" and not Path(data_args.corpus_dir, f"{split}.jsonl").is_file():
            continue
        splits[split] = [dict(e) for e in _source(data_args, split)]
    reference = "festvox_labels" if data_args.corpus == "festvox_ru" else "stored_durations"
    return data_args, splits, reference


def _train(args: argparse.Namespace, data_args: Any) -> str:
    from transformers import TrainingArguments

    from ..trainers.recipe import ModelArguments, StageArguments, run_stage

    out = args.out / "aligner"
    training = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=args.batch_size, max_steps=args.max_steps,
        learning_rate=args.learning_rate, warmup_steps=min(50, args.max_steps // 10), lr_scheduler_type="cosine",
        weight_decay=0.01, max_grad_norm=5.0, use_cpu=True, logging_steps=20, save_strategy="steps",
        save_steps=max(1, args.max_steps // 3), save_total_limit=2, report_to=[], seed=args.seed,
        disable_tqdm=args.no_progress,
    )  # fmt: skip
    data_args.prepared_dir = str(args.out / "prepared")
    stage = StageArguments(stage="aligner", show_progress=not args.no_progress, evaluate_alignment=False)
    run_stage(ModelArguments(aligner_preset=args.preset), data_args, stage, training)
    return str(out)


def run(args: argparse.Namespace) -> int:
    """Align ``--data`` into ``--out`` (see the module docstring)."""
    prog = "prosody-tts align"
    if (args.model is None) == (not args.train):
        raise SystemExit(f"{prog}: give either --model ALIGNER_DIR or --train")
    try:
        data_args, splits, reference = load_splits(args.data)
        args.out.mkdir(parents=True, exist_ok=True)
        model_dir = _train(args, data_args) if args.train else args.model
        summary = align_splits(model_dir, splits, reference, args)
    except (OSError, ValueError) as err:
        raise SystemExit(f"{prog}: {err}") from err
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def align_splits(model_dir: str, splits: dict[str, list[dict]], reference: str, args: argparse.Namespace) -> dict[str, Any]:
    """Align every split with the aligner in ``model_dir``; write the manifests and the summary."""
    from tqdm.auto import tqdm

    from ..data.alignment import align_examples
    from ..evaluation.alignment_accuracy import records_accuracy, score_quantiles
    from ..modeling.phoneme_aligner import PhonemeAlignerModel
    from ..processing.processing_dual_stream import DualStreamProcessor

    model = PhonemeAlignerModel.from_pretrained(model_dir)
    processor = DualStreamProcessor.from_pretrained(model_dir)
    extractor = processor.feature_extractor
    frame_seconds = int(extractor.hop_length) / int(extractor.sampling_rate)
    summary: dict[str, Any] = {"model": str(model_dir), "out": str(args.out), "reference": reference, "splits": {}}
    rejected_all: list[dict[str, Any]] = []
    for split, examples in splits.items():
        records, started = [], time.perf_counter()
        partial = args.out / f"{split}.jsonl.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            results = align_examples(model, processor, examples, batch_size=args.batch_size, min_score=args.min_score,
                                     audio_dir=args.out / "audio")  # fmt: skip
            for kind, record in tqdm(results, total=len(examples), desc=f"aligning {split}", unit="utt", disable=args.no_progress):
                if kind == "rejected":
                    rejected_all.append({**record, "split": split})
                    continue
                records.append(record)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        partial.replace(args.out / f"{split}.jsonl")  # an interrupted run never leaves a truncated manifest
        seconds = time.perf_counter() - started
        try:
            accuracy, missing = records_accuracy(records, {str(e["id"]): e for e in examples}, reference, frame_seconds)
        except ImportError:  # jiwer (the sequence matcher) is in the [eval] extra
            logger.warning("boundary errors need jiwer: pip install 'prosody-tts[eval]'")
            accuracy, missing = None, []
        summary["splits"][split] = {
            "utterances": len(examples), "aligned": len(records), "rejected": len(examples) - len(records),
            "seconds": round(seconds, 2), "utterances_per_second": round(len(examples) / max(seconds, 1e-9), 3),
            "alignment_score": score_quantiles([r["alignment_score"] for r in records]) if records else None,
            "boundary_errors": accuracy.to_dict() if accuracy is not None else None, "no_reference": len(missing),
        }  # fmt: skip
        if split == "heldout" or len(splits) == 1:
            summary["figures"] = _figures(records, {str(e["id"]): e for e in examples}, reference, extractor, args.out)
    with open(args.out / "rejected.jsonl", "w", encoding="utf-8") as handle:
        for item in rejected_all:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    (args.out / "alignment.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary


#: held-out utterances drawn into OUT/figures
FIGURES = 3


def _figures(records: list[dict], sources: dict[str, dict], reference: str, extractor: Any, out: Path) -> list[str]:
    """Log-mel + boundary figures of the first aligned utterances (none without matplotlib)."""
    from ..data.schema import decode_example_audio
    from ..evaluation.alignment_accuracy import aligned_record_segments, reference_segments

    try:
        from ..evaluation.plots import plot_alignment
    except ImportError:  # pragma: no cover - matplotlib is a dev/plots extra
        return []
    rate, hop = int(extractor.sampling_rate), int(extractor.hop_length)
    paths = []
    for record in records[:FIGURES]:
        try:
            wave = decode_example_audio({"audio": record["audio"]}, rate)
            mel = extractor(wave, sampling_rate=rate, padding=False, return_tensors=None)["input_features"][0]
            ref = reference_segments(sources[str(record["id"])], reference, hop / rate)
            path = out / "figures" / f"{record['id'].replace('/', '_')}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            plot_alignment(mel, aligned_record_segments(record, hop / rate), path, ref, hop_seconds=hop / rate,
                           title=str(record["id"]))  # fmt: skip
            paths.append(str(path))
        except ImportError:
            return paths
    return paths
