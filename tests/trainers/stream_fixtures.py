"""Local files in the Golos and Common Voice layouts, made of the tiny corpus' real (espeak) speech,
and a tiny aligner saved to a folder: the offline stand-ins of a streamed Hub corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Audio, Features, Value

GOLOS_FEATURES = Features({"audio": Audio(sampling_rate=16000), "transcription": Value("string")})
CV_FEATURES = Features({"client_id": Value("string"), "path": Value("string"), "audio": Audio(sampling_rate=48000),
                        "sentence": Value("string")})  # fmt: skip


def _rows(corpus_dir: Path) -> list[dict]:
    lines = (corpus_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write_layout(corpus_dir: Path, out: Path, layout: str, shards: int = 2) -> list[str]:
    """``shards`` parquet files of the tiny corpus' train split in the ``"golos"`` or ``"cv"`` layout."""
    rows = _rows(Path(corpus_dir))
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for shard in range(shards):
        part = rows[shard::shards]
        if layout == "golos":
            table = [{"audio": {"bytes": (corpus_dir / r["audio"]).read_bytes(), "path": Path(r["audio"]).name},
                      "transcription": r["text"]} for r in part]  # fmt: skip
            features = GOLOS_FEATURES
        else:
            table = [{"client_id": r["speaker"], "path": Path(r["audio"]).name, "sentence": r["text"],
                      "audio": {"bytes": (corpus_dir / r["audio"]).read_bytes(), "path": Path(r["audio"]).name}}
                     for r in part]  # fmt: skip
            features = CV_FEATURES
        path = out / f"train-{shard:05d}-of-{shards:05d}.parquet"
        pq.write_table(pa.Table.from_pylist(table, schema=features.arrow_schema), path)
        files.append(str(path))
    return files


def save_tiny_aligner(processor, out: Path) -> str:
    """A randomly initialised tiny aligner that accepts every alignment (min score 0), with the processor."""
    import torch

    from prosody_tts.configuration import PhonemeAlignerConfig
    from prosody_tts.modeling import PhonemeAlignerModel
    from prosody_tts.text.inventory import WORD_BOUNDARY

    torch.manual_seed(0)
    tokenizer = processor.tokenizer
    config = PhonemeAlignerConfig.tiny(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, min_alignment_score=0.0,
        unaligned_token_ids=[tokenizer.convert_tokens_to_ids(WORD_BOUNDARY)],
    )  # fmt: skip
    PhonemeAlignerModel(config).save_pretrained(out)
    processor.save_pretrained(out)
    return str(out)
