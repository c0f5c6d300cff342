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
   processor, loadable with ``AutoModel`` / ``AutoProcessor`` after ``import prosody_tts``;
7. a tiny Grad-TTS over the stage-1+2 encoder, trained on the same corpus, its held-out mel L1
   (ground-truth durations) and duration error, and ``tts/``: a text-to-waveform model (Grad-TTS
   + Griffin-Lim) for ``pipeline("text-to-speech", model="tts")`` and ``prosody-tts synthesize``,
   with ``tts/sample.wav`` (a held-out sentence) and ``tts_mels.png`` (generated vs ground truth).

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
    tts_steps: int = 600
    tts_max_frames: int = 4000
    tts_learning_rate: float = 1e-3
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


def _tts(out: Path, options: DemoOptions, encoder_dir: Path, processor: Any) -> dict[str, Any]:
    """Train the tiny Grad-TTS (``runs/grad_tts``), export ``tts/`` (text-to-waveform + processor),
    speak one held-out sentence to ``tts/sample.wav`` and draw ``tts_mels.png``."""
    from transformers import TrainingArguments

    from .configuration.vocoder import GriffinLimConfig
    from .data.prepared import prepare_corpus
    from .data.sources.embedded import load_embedded_corpus
    from .modeling.griffin_lim import GriffinLimVocoder
    from .modeling.text_to_waveform import TextToWaveformModel
    from .trainers.recipe import DataArguments, ModelArguments, StageArguments
    from .trainers.tts_stage import run_tts_stage

    runs = out / "runs"
    training = TrainingArguments(
        output_dir=str(runs / "grad_tts"), max_steps=options.tts_steps, learning_rate=options.tts_learning_rate,
        warmup_steps=max(1, options.tts_steps // 30), lr_scheduler_type="cosine", max_grad_norm=1.0,
        logging_steps=max(1, min(10, options.tts_steps // 5)), save_strategy="no", seed=options.seed, use_cpu=True,
        report_to=["tensorboard"] if _has_tensorboard() else [], dataloader_num_workers=0,
        disable_tqdm=not options.show_progress,
    )  # fmt: skip
    stage = run_tts_stage(
        ModelArguments(init_from=str(encoder_dir), tts_text_encoder="dual_stream", tts_preset="tiny"),
        DataArguments(corpus_dir=str(out / "corpus"), prepared_dir=str(runs / "prepared")),
        StageArguments(stage="tts", max_frames=options.tts_max_frames, show_progress=options.show_progress,
                       sample_every_steps=options.tts_steps if _has_tensorboard() else 0),
        training, processor,
    )  # fmt: skip
    tts_dir = out / "tts"
    if tts_dir.exists():
        shutil.rmtree(tts_dir)
    vocoder = GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(processor.feature_extractor))
    model = TextToWaveformModel.from_parts(stage.output_dir, vocoder).eval()
    model.save_pretrained(tts_dir)
    processor.save_pretrained(tts_dir)
    heldout = prepare_corpus(
        load_embedded_corpus(out / "corpus", "heldout"), processor, cache_dir=runs / "prepared" / "heldout", show_progress=False
    )  # the evaluation's cache
    example = next(ex for ex in load_embedded_corpus(out / "corpus", "heldout") if ex["id"] == heldout[0]["id"])
    truth = heldout[0]["input_features"]
    sample = _speak(model, processor, example, truth, tts_dir / "sample.wav", out / "tts_mels.png")
    return {"errors": stage.spectrogram_errors, "dir": str(tts_dir), "train": stage.train_metrics,
            "log_dir": stage.output_dir, **sample}  # fmt: skip


def _speak(model: Any, processor: Any, example: dict, truth: Any, wav: Path, figure: Path) -> dict[str, Any]:
    """One held-out sentence through the composite model to ``wav``; its mels beside the truth in ``figure``."""
    import numpy as np
    import soundfile
    import torch

    inputs = processor(text=example.get("stressed_text") or example["text"], return_tensors="pt")
    with torch.no_grad():
        speech = model(**inputs, speaker=example["speaker"])
    samples = int(speech.waveform_lengths[0])
    soundfile.write(wav, speech.waveform[0, :samples].numpy(), model.config.sampling_rate, subtype="FLOAT")
    drawn = []
    try:
        from .evaluation.plots import plot_spectrograms

        frames = int(speech.spectrogram_lengths[0])
        plot_spectrograms(
            {"generated (predicted durations)": speech.spectrogram[0, :frames], "ground truth (espeak)": np.asarray(truth)},
            figure, title=f"held-out {example['id']}: {example['text']}", hop_seconds=model.config.vocoder_config.hop_length / model.config.sampling_rate,
        )  # fmt: skip
        drawn.append(figure.name)
    except ImportError as error:
        print(f"figure skipped: {error}", file=sys.stderr)
    return {"sample": str(wav), "sample_text": example["text"], "sample_seconds": samples / model.config.sampling_rate,
            "figures": drawn}  # fmt: skip


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


def _tts_lines(tts: dict[str, Any], options: DemoOptions) -> list[str]:
    errors = tts["errors"] or {}
    return [
        "## Grad-TTS (stage-1+2 encoder, tiny decoder)",
        "",
        f"{options.tts_steps} steps, ≤ {options.tts_max_frames} padded frames per batch. Held-out, "
        f"{errors.get('n_timesteps')} reverse steps, temperature {errors.get('temperature')}:",
        "",
        "| mel L1, ground-truth durations | prior μ mel L1 | duration error (frames / phoneme) | length error |",
        "|---|---|---|---|",
        f"| {errors.get('mel_l1', float('nan')):.3f} | {errors.get('prior_mel_l1', float('nan')):.3f} | "
        f"{errors.get('duration_mae_frames', float('nan')):.2f} | {errors.get('length_error', float('nan')):.1%} |",
        "",
        f"Sample: `tts/sample.wav` ({tts['sample_seconds']:.2f} s, Griffin-Lim): “{tts['sample_text']}”.",
        "",
    ]


def _report(
    out: Path, options: DemoOptions, corpus: dict, table: str, results: dict, figures: list[str], wall: float, tts: dict
) -> str:
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
        *_tts_lines(tts, options),
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
        "- `tts/`: `TextToWaveformModel` (Grad-TTS + Griffin-Lim) + processor: `pipeline('text-to-speech', model='tts')`,"
        " `prosody-tts synthesize TEXT --model tts --speaker NAME`",
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
    """Run the demo and return ``{"results", "table", "tts", "out_dir", "wall_seconds", "peak_memory_gib"}``."""
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

    print(f"[1/6] embedded corpus: {options.speakers} speakers × {options.utterances_per_speaker} utterances")
    mark = time.perf_counter()
    corpus = _corpus(options, out / "corpus")
    mark = phase("corpus", mark)
    print("[2/6] stage 1 (MLM) and stage 2 (contrastive), tiny models, then held-out retrieval")
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
    print("[3/6] held-out retrieval\n")
    print(table)
    print()
    print("[4/6] model directories")
    model_dir, encoder_dir, model = _export(Path(results["stage1+2"]["model_dir"]), out, processor)
    print(f"  {model_dir} (ProsodyContrastiveModel), {encoder_dir} (DualStreamModel encoder)")
    mark = phase("export", mark)
    print("[5/6] Grad-TTS over the stage-1+2 encoder")
    tts = _tts(out, options, Path(results["stage1+2"]["model_dir"]), processor)
    errors = tts["errors"] or {}
    print(
        f"  held-out mel L1 {errors.get('mel_l1', float('nan')):.3f} (ground-truth durations; prior μ "
        f"{errors.get('prior_mel_l1', float('nan')):.3f}), duration error {errors.get('duration_mae_frames', float('nan')):.2f} "
        f"frames/phoneme; {tts['dir']} speaks: {tts['sample']}"
    )
    mark = phase("Grad-TTS", mark)
    print("[6/6] report and figures")
    heldout = prepare_corpus(
        load_embedded_corpus(out / "corpus", "heldout"), processor, cache_dir=out / "runs" / "prepared" / "heldout",
        show_progress=False,
    )
    figures = _figures(out, results, options, heldout, processor, model) + tts["figures"]
    phase("report", mark)
    wall = time.perf_counter() - started
    _report(out, options, corpus, table, results, figures, wall, tts)
    peak = _peak_memory_gib()
    print(f"\nreport: {out / 'report.md'} ({len(figures)} figures); wall time {wall:.0f} s; peak memory {peak:.2f} GiB")
    return {"results": results, "table": table, "tts": tts, "out_dir": str(out), "wall_seconds": wall, "peak_memory_gib": peak}


def _has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True
