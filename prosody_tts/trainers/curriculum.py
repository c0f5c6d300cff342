"""The curriculum variants of the paper, at any scale, and their retrieval table.

=================== ====================================================================
variant             stages run
=================== ====================================================================
``stage1``          MLM only; evaluated through a contrastive model whose text tower is the
                    stage-1 encoder and whose audio tower and projections are untrained (control)
``stage2``          contrastive (mixed-phoneme batches) from scratch
``stage1+2``        MLM, then contrastive from the MLM encoder
``stage1+2+3``      the above, then same-phoneme batches (stage 3)
=================== ====================================================================

Runs that variants share are trained once: stage 1 feeds ``stage1``, ``stage1+2`` and
``stage1+2+3``; the ``stage1+2`` model is where stage 3 starts.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainingArguments

from .recipe import (
    DataArguments,
    ModelArguments,
    StageArguments,
    build_contrastive_model,
    run_stage,
)

__all__ = ["VARIANTS", "CurriculumSchedule", "run_curriculum", "variants_table"]

VARIANTS: tuple[str, ...] = ("stage2", "stage1+2", "stage1+2+3", "stage1")


@dataclass
class CurriculumSchedule:
    """Steps, batch sizes and learning rates of each stage (defaults: the tiny CPU scale)."""

    model_size: str = "tiny"
    audio_preset: str = "tiny"
    stage1_steps: int = 300
    stage2_steps: int = 300
    stage3_steps: int = 100
    stage1_batch_size: int = 16
    stage2_batch_size: int = 32
    stage3_batch_size: int = 32
    stage1_learning_rate: float = 1e-3
    stage2_learning_rate: float = 1e-3
    stage3_learning_rate: float = 2e-4
    max_per_phoneme: int = 1
    warmup_ratio: float = 0.05
    num_candidates: int = 32
    retrieval_seed: int = 0
    seed: int = 0
    use_cpu: bool = True
    bf16: bool = False
    logging_steps: int = 10
    report_to: list[str] = field(default_factory=list)


def _training_args(schedule: CurriculumSchedule, output_dir: Path, stage: str) -> TrainingArguments:
    steps = getattr(schedule, f"{stage}_steps")
    return TrainingArguments(
        output_dir=str(output_dir),
        max_steps=steps,
        per_device_train_batch_size=getattr(schedule, f"{stage}_batch_size"),
        learning_rate=getattr(schedule, f"{stage}_learning_rate"),
        warmup_steps=max(1, round(schedule.warmup_ratio * steps)),
        lr_scheduler_type="cosine",
        weight_decay=0.01,
        logging_steps=max(1, min(schedule.logging_steps, steps // 5)),  # short runs still log a curve
        save_strategy="no",
        report_to=schedule.report_to,
        seed=schedule.seed,
        use_cpu=schedule.use_cpu,
        bf16=schedule.bf16,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


def _stage(
    schedule: CurriculumSchedule,
    work_dir: Path,
    data: DataArguments,
    processor: Any,
    name: str,
    stage: str,
    init_from: Path | None,
    evaluate: bool,
    batch_sampler: str = "mixed",
    show_progress: bool = True,
) -> Any:
    model_args = ModelArguments(
        model_size=schedule.model_size,
        audio_preset=schedule.audio_preset,
        init_from=str(init_from) if init_from else None,
    )
    stage_args = StageArguments(
        stage="mlm" if stage == "stage1" else "contrastive",
        batch_sampler=batch_sampler,
        max_per_phoneme=schedule.max_per_phoneme,
        evaluate_retrieval=evaluate,
        num_candidates=schedule.num_candidates,
        retrieval_seed=schedule.retrieval_seed,
        show_progress=show_progress,
    )
    started = time.perf_counter()
    result = run_stage(model_args, data, stage_args, _training_args(schedule, work_dir / name, stage), processor)
    result.train_metrics["wall_seconds"] = time.perf_counter() - started
    return result


def evaluate_stage1_control(stage1_dir: Path, schedule: CurriculumSchedule, heldout: Any, processor: Any) -> dict:
    """R@1 of a contrastive model holding the stage-1 encoder and untrained audio side (the control)."""
    import torch

    from ..evaluation.retrieval import evaluate_retrieval

    torch.manual_seed(schedule.seed)
    model, _ = build_contrastive_model(
        ModelArguments(model_size=schedule.model_size, audio_preset=schedule.audio_preset, init_from=str(stage1_dir)),
        processor,
    )
    return evaluate_retrieval(
        model, heldout, num_candidates=schedule.num_candidates, seed=schedule.retrieval_seed, processor=processor
    ).to_dict()


def run_curriculum(
    corpus_dir: str | Path,
    work_dir: str | Path,
    schedule: CurriculumSchedule | None = None,
    variants: tuple[str, ...] = VARIANTS,
    processor: Any = None,
    show_progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Train every stage the ``variants`` need and evaluate each on the held-out split.

    Returns ``{variant: {"retrieval": RetrievalResult.to_dict(), "model_dir": ..., "train": metrics}}``
    and writes it to ``work_dir/curriculum.json``.
    """
    from ..data.prepared import prepare_corpus
    from ..processing.processing_dual_stream import DualStreamProcessor

    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {VARIANTS}")
    schedule = schedule or CurriculumSchedule()
    work = Path(work_dir)
    processor = processor or DualStreamProcessor.from_defaults()
    data = DataArguments(corpus_dir=str(corpus_dir), prepared_dir=str(work / "prepared"))
    results: dict[str, dict[str, Any]] = {}
    needs_stage1 = any(v.startswith("stage1") for v in variants)
    stage1 = None
    if needs_stage1:
        stage1 = _stage(schedule, work, data, processor, "stage1", "stage1", None, False, show_progress=show_progress)
    if "stage1" in variants:
        from ..data.sources.embedded import load_embedded_corpus

        heldout = prepare_corpus(
            load_embedded_corpus(corpus_dir, "heldout"), processor, cache_dir=work / "prepared" / "heldout",
            show_progress=show_progress,
        )
        results["stage1"] = {
            "retrieval": evaluate_stage1_control(Path(stage1.output_dir), schedule, heldout, processor),
            "model_dir": stage1.output_dir,
            "train": stage1.train_metrics,
        }
    if "stage2" in variants:
        alone = _stage(schedule, work, data, processor, "stage2", "stage2", None, True, show_progress=show_progress)
        results["stage2"] = {"retrieval": alone.retrieval, "model_dir": alone.output_dir, "train": alone.train_metrics}
    if "stage1+2" in variants or "stage1+2+3" in variants:
        assert stage1 is not None
        joint = _stage(
            schedule, work, data, processor, "stage1+2", "stage2", Path(stage1.output_dir), True, show_progress=show_progress
        )
        results["stage1+2"] = {"retrieval": joint.retrieval, "model_dir": joint.output_dir, "train": joint.train_metrics}
        if "stage1+2+3" in variants:
            third = _stage(
                schedule, work, data, processor, "stage1+2+3", "stage3", Path(joint.output_dir), True,
                batch_sampler="same", show_progress=show_progress,
            )
            results["stage1+2+3"] = {"retrieval": third.retrieval, "model_dir": third.output_dir, "train": third.train_metrics}
    results = {v: results[v] for v in variants if v in results}
    payload = {"schedule": asdict(schedule), "variants": results}
    (work / "curriculum.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return results


def variants_table(results: dict[str, dict[str, Any]]) -> str:
    """The paper-style table: variant × R@1-diff × R@1-sim (with R@5, MRR, chance and N)."""

    def cell(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    first = next(iter(results.values()))["retrieval"]
    lines = [
        f"N = {first['num_candidates']} candidates per anchor, distractor seed {first['seed']}; "
        f"chance: R@1 {first['chance_r1']:.3f}, R@5 {first['chance_r5']:.3f}, MRR {first['chance_mrr']:.3f}",
        "",
        "| variant | R@1-diff | R@1-sim | R@5-diff | R@5-sim | MRR-diff | MRR-sim | anchors diff / sim |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, entry in results.items():
        r = entry["retrieval"]
        lines.append(
            f"| {variant} | {cell(r['r1_diff'])} | {cell(r['r1_sim'])} | {cell(r['r5_diff'])} | {cell(r['r5_sim'])} | "
            f"{cell(r['mrr_diff'])} | {cell(r['mrr_sim'])} | {r['num_anchors_diff']} / {r['num_anchors_sim']} |"
        )
    lines.append(
        f"| chance | {cell(first['chance_r1'])} | {cell(first['chance_r1'])} | {cell(first['chance_r5'])} | "
        f"{cell(first['chance_r5'])} | {cell(first['chance_mrr'])} | {cell(first['chance_mrr'])} | |"
    )
    return "\n".join(lines)
