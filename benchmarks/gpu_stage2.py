"""Stage 2 at base scale on one GPU: steps/s, peak memory and model FLOPs utilisation (bf16).

    python benchmarks/gpu_stage2.py --out result.json

Two measurements on synthetic data of realistic shape (no corpus or stress model needed):

1. the training step itself (forward + backward + AdamW) of ``ProsodyContrastiveModel`` at base
   size (text encoder hidden 384, 6+6+2 layers; ECAPA-TDNN 1024x4+3072) under bf16 autocast and
   in fp32, timed with CUDA synchronisation; FLOPs counted once with
   ``torch.utils.flop_counter.FlopCounterMode`` → MFU against the card's dense bf16 peak;
2. the same model through ``ContrastiveTrainer`` (``bf16=True``, mixed-phoneme sampler,
   occurrence collator), as the recipes run it: Trainer steps/s.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import torch

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.ecapa_tdnn import EcapaTdnnConfig
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel
from prosody_tts.text.inventory import PHONEMES, WORD_BOUNDARY

#: Dense bf16 tensor-core peaks (vendor data sheets, FLOP/s, no sparsity).
BF16_PEAK = {"H100 80GB HBM3": 989e12, "H100 PCIe": 756e12, "H200": 989e12, "A100": 312e12}
PHONEME_ID_OFFSET = 5  # ids below are the tokenizer's specials


def peak_for(name: str) -> float | None:
    return next((value for key, value in BF16_PEAK.items() if key in name), None)


def synthetic_rows(utterances: int, phonemes: int, frames: int, seed: int) -> list[dict]:
    """Prepared-corpus rows: words of 5 phonemes, durations summing to the frame count."""
    rng = random.Random(seed)
    rows = []
    for u in range(utterances):
        symbols: list[str] = []
        while len(symbols) < phonemes:
            if symbols:
                symbols.append(WORD_BOUNDARY)
            symbols.extend(rng.choice(PHONEMES) for _ in range(5))
        symbols = symbols[:phonemes]
        if symbols[-1] == WORD_BOUNDARY:
            symbols[-1] = PHONEMES[0]
        durations = [frames // len(symbols)] * len(symbols)
        durations[-1] += frames - sum(durations)
        word, words = 0, []
        for s in symbols:
            word += s == WORD_BOUNDARY
            words.append(-1 if s == WORD_BOUNDARY else word)
        ids = [2] + [PHONEME_ID_OFFSET + (PHONEMES.index(s) if s in PHONEMES else 0) for s in symbols] + [3]
        num_words = word + 1
        rows.append(
            {
                "id": f"u{u}",
                "speaker": f"s{u % 8}",
                "num_frames": frames,
                "input_features": torch.randn(frames, 80).numpy(),
                "phoneme_input_ids": ids,
                "phoneme_word_ids": [-1, *words, -1],
                "bpe_input_ids": [2] + [10 + rng.randrange(2900) for _ in range(num_words)] + [3],
                "bpe_word_ids": [-1, *range(num_words), -1],
                "phoneme_durations": [0, *durations, 0],
                "phonemes": symbols,
            }
        )
    return rows


def base_model() -> ProsodyContrastiveModel:
    audio = EcapaTdnnConfig()
    text = DualStreamConfig(bpe_vocab_size=3000, external_speaker_dim=audio.embedding_dim)
    return ProsodyContrastiveModel(ProsodyContrastiveConfig(text_config=text, audio_config=audio))


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _peak_gib(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None


def tiny_model() -> ProsodyContrastiveModel:
    """For a CPU dry run of this script."""
    return ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny())


def time_raw_steps(
    rows,
    occurrences_per_batch: int,
    steps: int,
    warmup: int,
    dtype: torch.dtype | None,
    device: str,
    tiny: bool,
    per_layer_frame_checks: bool = False,
) -> dict:
    from prosody_tts.data.collators import DualStreamCollator, OccurrenceCollator
    from prosody_tts.data.occurrences import OccurrenceDataset, occurrence_index
    from prosody_tts.data.prepared import PreparedCorpus
    from prosody_tts.data.samplers import MixedPhonemeBatchSampler

    torch.manual_seed(0)
    model = (tiny_model() if tiny else base_model()).to(device).train()
    from prosody_tts.modeling.ecapa_tdnn import MaskedBatchNorm1d

    for module in model.modules():  # on: one host sync per batch norm (the old behaviour), for an A/B
        if isinstance(module, MaskedBatchNorm1d):
            module.check_frame_count = per_layer_frame_checks
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device == "cuda")
    corpus = PreparedCorpus(rows)
    dataset = OccurrenceDataset(corpus, occurrence_index(corpus))
    sampler = MixedPhonemeBatchSampler(dataset.index, occurrences_per_batch, seed=0)
    collate = OccurrenceCollator(DualStreamCollator())
    batches = []
    for batch in sampler:
        batches.append({k: v.to(device) for k, v in collate([dataset[i] for i in batch]).items()})
        if len(batches) == warmup + steps:
            break

    def step(batch):
        with torch.autocast(device, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    flops = None
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step(batches[0])
    flops = counter.get_total_flops()
    for batch in batches[1:warmup]:
        step(batch)
    _sync(device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for batch in batches[warmup:]:
        loss = step(batch)
    _sync(device)
    seconds = (time.perf_counter() - started) / steps
    utterances = sum(int(b["phoneme_input_ids"].shape[0]) for b in batches[warmup:]) / steps
    return {
        "dtype": str(dtype) if dtype else "fp32",
        "seconds_per_step": seconds,
        "steps_per_second": 1.0 / seconds,
        "pairs_per_second": occurrences_per_batch / seconds,
        "utterances_per_step": utterances,
        "flops_per_step": flops,
        "achieved_tflops": flops / seconds / 1e12,
        "peak_memory_gib": _peak_gib(device),
        "final_loss": float(loss),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def time_trainer(
    rows, occurrences_per_batch: int, steps: int, out_dir: str, compile_model: bool, device: str, tiny: bool
) -> dict:
    from transformers import TrainingArguments

    from prosody_tts.data.occurrences import OccurrenceDataset, occurrence_index
    from prosody_tts.data.prepared import PreparedCorpus
    from prosody_tts.trainers import ContrastiveTrainer

    torch.manual_seed(0)
    corpus = PreparedCorpus(rows)
    args = TrainingArguments(
        output_dir=out_dir, max_steps=steps, per_device_train_batch_size=occurrences_per_batch, bf16=device == "cuda",
        use_cpu=device == "cpu", torch_compile=compile_model, learning_rate=1e-4, logging_steps=max(1, steps // 4), save_strategy="no",
        report_to=[], disable_tqdm=True, dataloader_num_workers=4 if device == "cuda" else 0,
    )
    trainer = ContrastiveTrainer(model=tiny_model() if tiny else base_model(), args=args, train_dataset=OccurrenceDataset(corpus, occurrence_index(corpus)))
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    metrics = trainer.train().metrics
    return {
        "compile": compile_model,
        "wall_seconds": time.perf_counter() - started,
        "train_steps_per_second": metrics["train_steps_per_second"],
        "peak_memory_gib": _peak_gib(device),
        "losses": [e["loss"] for e in trainer.state.log_history if "loss" in e],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=512)
    parser.add_argument("--phonemes", type=int, default=90, help="phoneme symbols per utterance")
    parser.add_argument("--frames", type=int, default=600, help="mel frames per utterance (~7 s)")
    parser.add_argument("--batch", type=int, default=64, help="occurrences (pairs) per step")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--trainer-steps", type=int, default=40)
    parser.add_argument("--compile", action="store_true", help="also time the Trainer with torch_compile=True")
    parser.add_argument("--out", default="gpu_stage2.json")
    parser.add_argument("--dry-run", action="store_true", help="tiny model on the CPU, to check the script")
    parser.add_argument(
        "--sync-ab", action="store_true", help="only: raw steps with per-layer frame-count syncs on vs off (A/B)"
    )
    args = parser.parse_args()
    device = "cpu" if args.dry_run else "cuda"
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    rows = synthetic_rows(args.utterances, args.phonemes, args.frames, seed=0)
    result = {"device": name, "torch": torch.__version__, "bf16_peak_flops": peak_for(name), "args": vars(args)}
    if args.sync_ab:
        for label, dtype in (("bf16", torch.bfloat16), ("fp32", None)):
            for repeat in range(2):  # interleaved A/B, twice
                for checks in (True, False):
                    key = f"{label}_per_layer_checks_{'on' if checks else 'off'}_{repeat}"
                    run = time_raw_steps(rows, args.batch, args.steps, args.warmup, dtype, device, args.dry_run, checks)
                    result[key] = {k: run[k] for k in ("seconds_per_step", "steps_per_second", "achieved_tflops")}
                    print(key, json.dumps(result[key]), flush=True)
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=2)
        return
    for label, dtype in (("bf16", torch.bfloat16), ("fp32", None)):
        result[label] = time_raw_steps(rows, args.batch, args.steps, args.warmup, dtype, device, args.dry_run)
        if result["bf16_peak_flops"]:
            result[label]["mfu_vs_bf16_peak"] = result[label]["achieved_tflops"] * 1e12 / result["bf16_peak_flops"]
        print(label, json.dumps(result[label]), flush=True)
        if device == "cuda":
            torch.cuda.empty_cache()
    result["trainer_bf16"] = time_trainer(rows, args.batch, args.trainer_steps, "/tmp/gpu_trainer", False, device, args.dry_run)
    print("trainer", json.dumps(result["trainer_bf16"]), flush=True)
    if args.compile:
        result["trainer_bf16_compile"] = time_trainer(
            rows, args.batch, args.trainer_steps, "/tmp/gpu_trainer_c", True, device, args.dry_run
        )
        print("trainer compile", json.dumps(result["trainer_bf16_compile"]), flush=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
