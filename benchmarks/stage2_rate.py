"""Does the data path keep up with stage-2 training? Both rates measured in one process.

    python benchmarks/stage2_rate.py --corpus runs/corpus --batches 40

1. training: ``ContrastiveTrainer``'s model step (forward + backward + AdamW) on pre-collated
   mixed-phoneme batches, tiny preset, CPU → pairs/s;
2. prepared data path: the same Trainer's train dataloader (sampler → ``OccurrenceDataset`` rows
   from the memory-mapped Arrow cache → ``OccurrenceCollator``), no model → pairs/s;
3. raw data path: ``RobustExampleStream`` from the wav files (decode → resample → log-mel →
   front-end → tokens), i.e. what preparation costs once → utterances/s and the pairs/s it could
   feed at the corpus' occurrences per utterance;
4. with ``--aligner DIR``, the streamed stage-2 path (what ``stream_corpus`` recipes run): the same
   utterances as a Golos-layout parquet (audio bytes) → ``RobustExampleStream`` with the aligner on
   the fly → ``StreamingOccurrenceBatches`` → the occurrence collator → pairs/s; and the same from
   the corpus' own manifest (stored durations, no aligner: an aligned manifest).

Ratios > 1 mean the data side is faster than training. Interleaved repeats, medians reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from itertools import islice

import torch
from transformers import TrainingArguments

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.data.occurrences import OccurrenceDataset, occurrence_index
from prosody_tts.data.prepared import prepare_corpus
from prosody_tts.data.sources.embedded import load_embedded_corpus
from prosody_tts.data.streaming import RobustExampleStream
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel
from prosody_tts.processing.processing_dual_stream import DualStreamProcessor
from prosody_tts.trainers import ContrastiveTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="embedded corpus directory")
    parser.add_argument("--prepared", default=None, help="prepared cache (default: <corpus>/../prepared-bench)")
    parser.add_argument("--batch-size", type=int, default=32, help="pairs per step")
    parser.add_argument("--batches", type=int, default=40, help="batches per repeat")
    parser.add_argument("--raw-utterances", type=int, default=120, help="utterances per raw-path repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--aligner", default=None, help="an aligner dir: also time the streamed stage-2 path")
    args = parser.parse_args()

    processor = DualStreamProcessor.from_defaults()
    prepared_dir = args.prepared or f"{args.corpus.rstrip('/')}-prepared-bench"
    corpus = prepare_corpus(load_embedded_corpus(args.corpus, "train"), processor, cache_dir=prepared_dir)
    dataset = OccurrenceDataset(corpus, occurrence_index(corpus))
    pairs_per_utterance = len(dataset.index) / len(corpus)
    trainer = ContrastiveTrainer(
        model=ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny()),
        args=TrainingArguments(output_dir="/tmp/stage2_rate", per_device_train_batch_size=args.batch_size,
                               use_cpu=True, report_to=[], max_steps=1),
        train_dataset=dataset,
        processor=processor,
    )
    loader = trainer.get_train_dataloader()
    model = trainer.model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = list(islice(iter(loader), args.batches))
    raw_source = load_embedded_corpus(args.corpus, "train").select(range(args.raw_utterances))
    processor.phonemize("Прогрев.")  # load the stress model outside the timing

    rates: dict[str, list[float]] = {"training": [], "prepared": [], "raw_utterances": []}
    streamed = _streamed_paths(args, processor, trainer.data_collator) if args.aligner else {}
    rates.update({name: [] for name in streamed})
    for repeat in range(args.repeats):
        started = time.perf_counter()
        for batch in batches:
            model(**batch).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        rates["training"].append(args.batch_size * len(batches) / (time.perf_counter() - started))

        loader.batch_sampler.set_epoch(repeat + 1)
        dataset._cache.clear()
        started = time.perf_counter()
        count = sum(1 for _ in islice(iter(loader), args.batches))
        rates["prepared"].append(args.batch_size * count / (time.perf_counter() - started))

        stream = RobustExampleStream(raw_source, processor, require_durations=True)
        processor.frontend.stress = processor.frontend.stress.with_empty_cache()  # cold, as on a first pass
        started = time.perf_counter()
        count = sum(1 for _ in stream)
        rates["raw_utterances"].append(count / (time.perf_counter() - started))

        for name, make in streamed.items():
            started = time.perf_counter()
            count = sum(1 for _ in islice(make(), args.batches))  # every batch holds batch_size pairs
            rates[name].append(args.batch_size * count / (time.perf_counter() - started))

    median = {key: statistics.median(values) for key, values in rates.items()}
    result = {
        "training_pairs_per_s": median["training"],
        "training_steps_per_s": median["training"] / args.batch_size,
        "prepared_pairs_per_s": median["prepared"],
        "raw_utterances_per_s": median["raw_utterances"],
        "raw_pairs_per_s": median["raw_utterances"] * pairs_per_utterance,
        "pairs_per_utterance": pairs_per_utterance,
        "prepared_over_training": median["prepared"] / median["training"],
        "raw_over_training": median["raw_utterances"] * pairs_per_utterance / median["training"],
        **{f"{name}_pairs_per_s": median[name] for name in streamed},
        **{f"{name}_over_training": median[name] / median["training"] for name in streamed},
        "repeats": rates,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result, indent=2))


def _streamed_paths(args: argparse.Namespace, processor: object, collator: object) -> dict:
    """name → a fresh iterator of collated streamed batches (Golos parquet + aligner; aligned manifest)."""
    import tempfile
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Audio, Features, Value

    from prosody_tts.data.occurrence_stream import StreamingOccurrenceBatches
    from prosody_tts.data.sources.adapters import load_corpus
    from prosody_tts.data.sources.local import load_manifest
    from prosody_tts.modeling.phoneme_aligner import PhonemeAlignerModel

    corpus = Path(args.corpus)
    rows = [json.loads(line) for line in (corpus / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = rows[: args.raw_utterances * 4]
    folder = Path(tempfile.mkdtemp(prefix="stage2_stream_"))
    features = Features({"audio": Audio(sampling_rate=22050), "transcription": Value("string")})
    table = [{"audio": {"bytes": (corpus / r["audio"]).read_bytes(), "path": Path(r["audio"]).name},
              "transcription": r["text"]} for r in rows]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(table, schema=features.arrow_schema), folder / "train.parquet")
    manifest = folder / "aligned.jsonl"
    manifest.write_text("".join(json.dumps({**r, "audio": str(corpus / r["audio"])}, ensure_ascii=False) + "\n"
                                for r in rows), encoding="utf-8")  # fmt: skip
    aligner = PhonemeAlignerModel.from_pretrained(args.aligner)

    def batches(source: object, with_aligner: bool):
        def make():
            stream = RobustExampleStream(source, processor, require_durations=not with_aligner,
                                         with_occurrences=True, aligner=aligner if with_aligner else None)  # fmt: skip
            batcher = StreamingOccurrenceBatches(stream, args.batch_size, buffer_size=64, seed=0)
            return (collator(batch) for batch in batcher)

        return make

    golos = load_corpus("golos_crowd", data_files=str(folder / "train.parquet"))
    return {"streamed_aligner": batches(golos, True), "streamed_manifest": batches(load_manifest(str(manifest)), False)}


if __name__ == "__main__":
    main()
