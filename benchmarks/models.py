"""Benchmark: training-step throughput of our phoneme stream vs ``transformers.BertForMaskedLM``.

Run: ``python benchmarks/models.py [--hidden 256] [--layers 4] [--heads 4] [--ffn 1024] [--batch 16]
[--seq 128] [--threads 2] [--steps 15] [--warmup 3] [--base] [--profile]``

Both sides get the same sizes (hidden, layers, heads, FFN, vocabulary = the phoneme vocabulary of
109), the same batches (random ids, right padding, 15 % of the real positions labelled) and the same
optimiser (AdamW, lr 1e-4). One training step = ``zero_grad`` + forward with labels + backward +
``optimizer.step()``. Throughput = non-padding tokens of the batch / seconds of that step.

* ours: ``DualStreamForMaskedLM`` given only ``phoneme_input_ids`` / ``phoneme_attention_mask`` /
  ``phoneme_labels``: the phoneme stream (AdaLN-Zero blocks, null speaker condition, rotary
  positions) and the phoneme MLM head. The BPE stream and the fusion blocks are built with 0 layers
  (they would not run anyway); parameters that get no gradient are skipped by AdamW.
* BERT: ``BertForMaskedLM`` with ``attn_implementation="sdpa"``, untied decoder (like ours).

Dropout matches: 0.1 on hidden states, 0.0 on attention probabilities (our default). Steps of the
two models alternate (the order flips every repeat) after ``--warmup`` untimed steps each; the
median and the spread (min–max, interquartile range) of the per-step throughputs are reported.
``--base`` adds a second run at the base size (hidden 384, 6 layers, 6 heads, FFN 1536);
``--profile`` prints the top operators of one of our steps and one BERT step (torch.profiler).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from transformers import BertConfig, BertForMaskedLM

from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.modeling.dual_stream import DualStreamForMaskedLM

VOCAB = 109  # the phoneme tokenizer's vocabulary (DualStreamConfig.phoneme_vocab_size)
PAD, FIRST_REAL_ID = 0, 5  # ids below 5 are pad / specials in the phoneme tokenizer
MASK_FRACTION = 0.15
BASE = dict(hidden=384, layers=6, heads=6, ffn=1536)


def make_batches(count: int, batch: int, seq: int, seed: int) -> list[dict[str, torch.Tensor]]:
    """``count`` batches of random ids, lengths in [0.7 * seq, seq] (row 0 full), 15 % of real positions labelled."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        lengths = torch.randint(int(0.7 * seq), seq + 1, (batch,), generator=generator)
        lengths[0] = seq
        mask = torch.arange(seq)[None, :] < lengths[:, None]  # (B, T) True = real token
        ids = torch.randint(FIRST_REAL_ID, VOCAB, (batch, seq), generator=generator).masked_fill(~mask, PAD)
        chosen = (torch.rand(batch, seq, generator=generator) < MASK_FRACTION) & mask
        chosen[:, 1] = True  # at least one labelled position per row
        labels = ids.masked_fill(~chosen, -100)
        batches.append({"ids": ids, "mask": mask.long(), "labels": labels})
    return batches


def build_ours(args: argparse.Namespace) -> DualStreamForMaskedLM:
    config = DualStreamConfig(
        phoneme_vocab_size=VOCAB,
        hidden_size=args.hidden,
        num_attention_heads=args.heads,
        intermediate_size=args.ffn,
        phoneme_layers=args.layers,
        bpe_layers=0,
        fusion_layers=0,
        max_position_embeddings=max(512, args.seq),
        hidden_dropout=0.1,
        attention_dropout=0.0,
    )
    return DualStreamForMaskedLM(config)


def build_bert(args: argparse.Namespace) -> BertForMaskedLM:
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.ffn,
        max_position_embeddings=max(512, args.seq),
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.0,
        pad_token_id=PAD,
        tie_word_embeddings=False,
        attn_implementation="sdpa",
    )
    model = BertForMaskedLM(config)
    if model.config._attn_implementation != "sdpa":
        raise RuntimeError(f"BERT runs {model.config._attn_implementation!r} attention, not sdpa")
    return model


def ours_loss(model: DualStreamForMaskedLM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(
        phoneme_input_ids=batch["ids"], phoneme_attention_mask=batch["mask"], phoneme_labels=batch["labels"]
    ).loss


def bert_loss(model: BertForMaskedLM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(input_ids=batch["ids"], attention_mask=batch["mask"], labels=batch["labels"]).loss


class Trainer:
    """One model, its AdamW and a step function that returns the step's wall time."""

    def __init__(self, name: str, model: torch.nn.Module, loss_fn: Callable) -> None:
        self.name = name
        self.model = model.train()
        self.loss_fn = loss_fn
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(self, batch: dict[str, torch.Tensor]) -> float:
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model, batch)
        loss.backward()
        self.optimizer.step()
        return time.perf_counter() - start

    def trained_parameters(self) -> int:
        """Parameters that received a gradient in the last step (what the step actually trains)."""
        return sum(p.numel() for p in self.model.parameters() if p.grad is not None)

    def total_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def run_size(args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    trainers = [Trainer("ours", build_ours(args), ours_loss), Trainer("bert", build_bert(args), bert_loss)]
    batches = make_batches(4, args.batch, args.seq, seed=1)
    tokens = [int(b["mask"].sum()) for b in batches]
    for trainer in trainers:
        for i in range(args.warmup):
            trainer.step(batches[i % len(batches)])
    rates: dict[str, list[float]] = {t.name: [] for t in trainers}
    ratios: list[float] = []
    for repeat in range(args.steps):
        index = repeat % len(batches)
        order = trainers if repeat % 2 == 0 else trainers[::-1]
        seconds = {t.name: t.step(batches[index]) for t in order}
        for name, value in seconds.items():
            rates[name].append(tokens[index] / value)
        # same batch for both: ratio of rates = inverse ratio of times
        ratios.append(seconds["bert"] / seconds["ours"])
    result = {
        "size": f"H{args.hidden} L{args.layers} N{args.heads} F{args.ffn} B{args.batch} T{args.seq}",
        "tokens": statistics.mean(tokens),
        "ratio": statistics.median(ratios),
        "ratio_spread": (min(ratios), max(ratios)),
    }
    for trainer in trainers:
        values = rates[trainer.name]
        result[trainer.name] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "iqr": quartiles(values),
            "trained": trainer.trained_parameters(),
            "total": trainer.total_parameters(),
        }
    if args.profile:
        profile(trainers, batches[0])
    return result


def profile(trainers: list[Trainer], batch: dict[str, torch.Tensor], rows: int = 18) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for trainer in trainers:
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                trainer.step(batch)
        print(f"\n### profile: {trainer.name} (3 steps, sorted by self CPU time)\n")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def report(results: list[dict], threads: int, steps: int) -> str:
    lines = [
        f"torch {torch.__version__}, {threads} threads, {steps} interleaved steps per model (warm-up excluded)",
        "",
        "| size | tokens/step | ours tok/s median (min–max) | BERT-sdpa tok/s median (min–max) "
        "| ours / BERT median (min–max) | ours params (trained / built) | BERT params |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        ours, bert = r["ours"], r["bert"]
        lines.append(
            f"| {r['size']} | {r['tokens']:.0f} "
            f"| {ours['median']:,.0f} ({ours['min']:,.0f}–{ours['max']:,.0f}) "
            f"| {bert['median']:,.0f} ({bert['min']:,.0f}–{bert['max']:,.0f}) "
            f"| {r['ratio']:.3f}× ({r['ratio_spread'][0]:.2f}–{r['ratio_spread'][1]:.2f}) "
            f"| {ours['trained']:,} / {ours['total']:,} | {bert['trained']:,} |"
        )
    lines.append("")
    for r in results:
        for name in ("ours", "bert"):
            low, high = r[name]["iqr"]
            lines.append(f"- {r['size']} {name}: interquartile range {low:,.0f}–{high:,.0f} tok/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=15, help="timed steps per model (interleaved)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per model")
    parser.add_argument("--base", action="store_true", help="also run the base size (H384 L6 N6 F1536)")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler tables")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    sizes = [args]
    if args.base:
        sizes.append(argparse.Namespace(**{**vars(args), **BASE}))
    results = []
    for size in sizes:
        results.append(run_size(size))
        print(f"done: {results[-1]['size']}", file=sys.stderr, flush=True)
    print(report(results, args.threads, args.steps))


if __name__ == "__main__":
    main()
