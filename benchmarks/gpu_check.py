"""GPU checks of the parts ``gpu_stage2.py`` does not cover (one short run on a lent GPU).

    python benchmarks/gpu_check.py --out result.json

1. stage 1 at base size through ``MaskedLMTrainer`` with ``bf16=True``: Trainer steps/s, peak memory,
   finite losses;
2. held-out retrieval on the GPU equals the CPU's: ``evaluate_retrieval`` of one tiny model on the
   same synthetic prepared rows, ``device="cuda"`` vs ``device="cpu"``.

Synthetic rows from ``gpu_stage2.synthetic_rows`` (no corpus, no stress model needed).
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from gpu_stage2 import synthetic_rows  # same folder
from transformers import TrainingArguments

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.data.mlm import DualStreamMLMCollator
from prosody_tts.data.prepared import PreparedCorpus
from prosody_tts.evaluation.retrieval import evaluate_retrieval
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel
from prosody_tts.modeling.dual_stream import DualStreamForMaskedLM
from prosody_tts.trainers import MaskedLMTrainer

SPECIAL_IDS = (0, 1, 2, 3, 4)  # pad, unk, bos, eos, mask of both tokenizers
MASK_ID = 4


def stage1_bf16(rows: list[dict], steps: int, batch: int, device: str) -> dict:
    torch.manual_seed(0)
    model = DualStreamForMaskedLM(DualStreamConfig(bpe_vocab_size=3000) if device == "cuda" else DualStreamConfig.tiny())
    collator = DualStreamMLMCollator(SPECIAL_IDS, SPECIAL_IDS, 109, 3000, MASK_ID, MASK_ID)
    tokens = [{k: r[k] for k in ("phoneme_input_ids", "phoneme_word_ids", "bpe_input_ids", "bpe_word_ids")} for r in rows]
    args = TrainingArguments(
        output_dir="/tmp/gpu_check_mlm", max_steps=steps, per_device_train_batch_size=batch, bf16=device == "cuda",
        use_cpu=device == "cpu", learning_rate=2e-4, logging_steps=max(1, steps // 5), save_strategy="no",
        report_to=[], disable_tqdm=True,
    )
    trainer = MaskedLMTrainer(model=model, args=args, train_dataset=tokens, mlm_collator=collator)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    metrics = trainer.train().metrics
    logs = [e for e in trainer.state.log_history if "loss" in e]
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "wall_seconds": time.perf_counter() - started,
        "train_steps_per_second": metrics["train_steps_per_second"],
        "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
        "losses": [e["loss"] for e in logs],
        "phoneme_accuracy": [e.get("phoneme_accuracy") for e in logs],
    }


def retrieval_devices(rows: list[dict], devices: list[str]) -> dict:
    torch.manual_seed(0)
    model = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny(text_overrides={"bpe_vocab_size": 3000}))
    corpus = PreparedCorpus(rows)
    out = {}
    for device in devices:
        result = evaluate_retrieval(model.to(device), corpus, num_candidates=16, seed=0, device=device, show_progress=False)
        out[device] = {k: getattr(result, k) for k in ("r1_diff", "r1_sim", "mrr_diff", "mrr_sim", "num_anchors_diff")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=64, help="utterances per MLM step")
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny model: check the script")
    parser.add_argument("--out", default="gpu_check.json")
    args = parser.parse_args()
    device = "cpu" if args.dry_run else "cuda"
    rows = synthetic_rows(256 if not args.dry_run else 48, 90 if not args.dry_run else 30, 400 if not args.dry_run else 60, seed=0)
    result = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__}
    result["stage1_bf16"] = stage1_bf16(rows, args.steps, args.batch, device)
    print("stage1", json.dumps(result["stage1_bf16"]), flush=True)
    result["retrieval"] = retrieval_devices(rows[:64], ["cpu", device] if device == "cuda" else ["cpu"])
    print("retrieval", json.dumps(result["retrieval"]), flush=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
