"""``prosody-tts demo``: the whole curriculum at tiny scale on the embedded corpus, on a CPU.

1. synthesise the embedded multi-speaker corpus (espeak-ng, exact phoneme timings);
2. prepare it (log-mels + both token streams, once);
3. stage 1 — masked language modelling of both streams;
4. stage 2 — SigLIP contrastive learning against the ECAPA-TDNN tower (mixed-phoneme batches),
   starting from the stage-1 encoder;
5. retrieval on the held-out split (R@1-diff, R@1-sim, R@5, MRR, chance), with the stage-1
   encoder and an untrained audio side as the control;
6. a report (``report.md`` + PNG plots) and two model directories: ``model`` (the contrastive
   model) and ``encoder`` (its text encoder, for downstream TTS through ``encode``), each with the
   processor, loadable with ``AutoModel`` / ``AutoProcessor`` after ``import prosody_tts``.

Defaults fit 10 minutes and 4 GiB on 2 CPU cores (measured in the README); every size is an option.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DemoOptions", "run_demo"]


@dataclass
class DemoOptions:
    """Sizes of the demo (the defaults are what the README's main command runs)."""

    out_dir: str = "prosody_tts_demo"
    speakers: int = 4
    utterances_per_speaker: int = 100
    stage1_steps: int = 200
    stage2_steps: int = 250
    num_candidates: int = 32
    seed: int = 0
    workers: int = 2
    similarity_size: int = 32
    show_progress: bool = True
    phases: dict[str, float] = field(default_factory=dict)


def _peak_memory_gib() -> float:
    """Peak resident memory of this process and of its finished children (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 2**20


def _corpus(options: DemoOptions, corpus_dir: Path) -> dict[str, Any]:
    """Build the corpus, or reuse one built with the same sizes and seed."""
    from .data.sources.embedded import build_embedded_corpus

    summary_file = corpus_dir / "corpus.json"
    wanted = {"speakers": options.speakers, "utterances_per_speaker": options.utterances_per_speaker, "seed": options.seed}
    if summary_file.is_file():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        if {k: summary.get("demo", {}).get(k) for k in wanted} == wanted:
            print(f"reusing the corpus in {corpus_dir}")
            return summary
        shutil.rmtree(corpus_dir)
    summary = build_embedded_corpus(
        corpus_dir,
        utterances_per_speaker=options.utterances_per_speaker,
        speakers=options.speakers,
        seed=options.seed,
        workers=options.workers,
        show_progress=options.show_progress,
    ).to_dict()
    summary["demo"] = wanted
    summary_file.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary


def _export(stage2_dir: Path, out: Path, processor: Any) -> tuple[Path, Path, Any]:
    """``out/model`` (contrastive model + processor) and ``out/encoder`` (text encoder + processor);
    returns both folders and the loaded model."""
    from .modeling.contrastive import ProsodyContrastiveModel

    model_dir, encoder_dir = out / "model", out / "encoder"
    model = ProsodyContrastiveModel.from_pretrained(stage2_dir)
    for target, module in ((model_dir, model), (encoder_dir, model.text_model)):
        if target.exists():
            shutil.rmtree(target)
        module.save_pretrained(target)
        processor.save_pretrained(target)
    return model_dir, encoder_dir, model


def _figures(
    out: Path, results: dict[str, Any], options: DemoOptions, heldout: Any, processor: Any, model: Any
) -> list[str]:
    """Loss curves of both stages, the held-out similarity matrix and per-phoneme R@1 (PNG)."""
    try:
        from .evaluation.plots import (
            plot_loss_curves,
            plot_per_phoneme_recall,
            plot_similarity_matrix,
            similarity_sample,
        )
    except ImportError as error:  # matplotlib missing: the report says so
        print(f"figures skipped: {error}", file=sys.stderr)
        return []
    from .evaluation.retrieval import RetrievalResult, compute_occurrence_embeddings

    names, figures = [], {}
    for variant, stage in (("stage1", "stage 1 (MLM)"), ("stage1+2", "stage 2 (contrastive)")):
        state = Path(results[variant]["model_dir"]) / "trainer_state.json"
        history = json.loads(state.read_text(encoding="utf-8"))["log_history"] if state.is_file() else []
        name = f"curves_{variant.replace('+', '_')}.png"
        try:
            figures[name] = plot_loss_curves(history, out / name, title=f"{stage} training curves")
            names.append(name)
        except ValueError as error:  # nothing logged (a run shorter than its logging interval)
            print(f"no curves for {stage}: {error}", file=sys.stderr)
    joint = results["stage1+2"]["retrieval"]
    result = RetrievalResult(**joint)
    figures["per_phoneme_recall.png"] = plot_per_phoneme_recall(result, out / "per_phoneme_recall.png")
    names.append("per_phoneme_recall.png")
    embeddings = compute_occurrence_embeddings(model, heldout, show_progress=False, processor=processor)
    chosen = similarity_sample(embeddings.identities, options.similarity_size, options.seed)
    figures["similarity_heldout.png"] = plot_similarity_matrix(
        embeddings.text[chosen],
        embeddings.audio[chosen],
        [embeddings.identities[i] for i in chosen],
        out / "similarity_heldout.png",
        title="held-out: text anchors vs audio segments (one per phoneme)",
    )
    names.append("similarity_heldout.png")
    if _has_tensorboard():
        from .evaluation.plots import log_figures_to_tensorboard

        log_figures_to_tensorboard(out / "runs" / "figures", {name.removesuffix(".png"): f for name, f in figures.items()})
    return names


def _report(out: Path, options: DemoOptions, corpus: dict, table: str, results: dict, figures: list[str], wall: float) -> str:
    from .evaluation.retrieval import RetrievalResult

    joint = RetrievalResult(**results["stage1+2"]["retrieval"])
    lines = [
        "# prosody-tts demo report",
        "",
        f"Tiny curriculum on the embedded corpus: {options.speakers} speakers × {options.utterances_per_speaker} "
        f"utterances ({corpus['counts']['train']} train / {corpus['counts']['heldout']} held-out, "
        f"{corpus['hours']['train'] + corpus['hours']['heldout']:.2f} h), stage 1 {options.stage1_steps} steps, "
        f"stage 2 {options.stage2_steps} steps, seed {options.seed}.",
        "",
        "## Held-out retrieval",
        "",
        table,
        "",
        "`stage1` is the control: the stage-1 encoder with an untrained audio tower and projections.",
        "",
        "## Per phoneme (stage 1+2)",
        "",
        joint.per_phoneme_markdown(),
        "",
        "## Time and memory",
        "",
        "| phase | seconds |",
        "|---|---|",
        *[f"| {phase} | {seconds:.1f} |" for phase, seconds in options.phases.items()],
        f"| total | {wall:.1f} |",
        "",
        f"Peak resident memory: {_peak_memory_gib():.2f} GiB.",
        "",
        "## Figures",
        "",
        *[f"![{name}]({name})\n" for name in figures],
        "## Outputs",
        "",
        "- `model/`: `ProsodyContrastiveModel` + processor (`AutoModel` / `AutoProcessor.from_pretrained`)",
        "- `encoder/`: its `DualStreamModel` text encoder + processor, for `prosody_tts.encode(texts, 'encoder', 'encoder')`",
        "- `runs/`: the stage directories with `trainer_state.json` and TensorBoard logs (`runs/*/runs/`,"
        " the figures in `runs/figures/`): `tensorboard --logdir " + str(out / "runs") + "`",
        "",
        "Settings: " + json.dumps({k: v for k, v in asdict(options).items() if k != "phases"}),
        "",
    ]
    text = "\n".join(lines)
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


def run_demo(options: DemoOptions | None = None) -> dict[str, Any]:
    """Run the demo and return ``{"results", "table", "out_dir", "wall_seconds", "peak_memory_gib"}``."""
    from .data.prepared import prepare_corpus
    from .data.sources.embedded import load_embedded_corpus
    from .processing.processing_dual_stream import DualStreamProcessor
    from .trainers.curriculum import CurriculumSchedule, run_curriculum, variants_table

    options = options or DemoOptions()
    started = time.perf_counter()
    out = Path(options.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def phase(name: str, since: float) -> float:
        now = time.perf_counter()
        options.phases[name] = now - since
        return now

    print(f"[1/5] embedded corpus: {options.speakers} speakers × {options.utterances_per_speaker} utterances")
    mark = time.perf_counter()
    corpus = _corpus(options, out / "corpus")
    mark = phase("corpus", mark)
    print("[2/5] stage 1 (MLM) and stage 2 (contrastive), tiny models, then held-out retrieval")
    processor = DualStreamProcessor.from_defaults()
    schedule = CurriculumSchedule(
        stage1_steps=options.stage1_steps,
        stage2_steps=options.stage2_steps,
        num_candidates=options.num_candidates,
        seed=options.seed,
        report_to=["tensorboard"] if _has_tensorboard() else [],
    )
    results = run_curriculum(
        out / "corpus", out / "runs", schedule, variants=("stage1+2", "stage1"), processor=processor,
        show_progress=options.show_progress,
    )
    mark = phase("stages 1 + 2 and retrieval", mark)
    table = variants_table(results)
    print("[3/5] held-out retrieval\n")
    print(table)
    print()
    print("[4/5] model directories")
    model_dir, encoder_dir, model = _export(Path(results["stage1+2"]["model_dir"]), out, processor)
    print(f"  {model_dir} (ProsodyContrastiveModel), {encoder_dir} (DualStreamModel encoder)")
    mark = phase("export", mark)
    print("[5/5] report and figures")
    heldout = prepare_corpus(
        load_embedded_corpus(out / "corpus", "heldout"), processor, cache_dir=out / "runs" / "prepared" / "heldout",
        show_progress=False,
    )
    figures = _figures(out, results, options, heldout, processor, model)
    phase("report", mark)
    wall = time.perf_counter() - started
    _report(out, options, corpus, table, results, figures, wall)
    peak = _peak_memory_gib()
    print(f"\nreport: {out / 'report.md'} ({len(figures)} figures); wall time {wall:.0f} s; peak memory {peak:.2f} GiB")
    return {"results": results, "table": table, "out_dir": str(out), "wall_seconds": wall, "peak_memory_gib": peak}


def _has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True
