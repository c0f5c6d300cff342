"""The paper's downstream table at our scale: Grad-TTS with each text encoder, scored by the synthesis metrics.

    python recipes/downstream_ablation.py --corpus runs/corpus --work runs/ablation              # tiny, CPU
    python recipes/downstream_ablation.py --corpus runs/corpus --work runs/ablation \\
        --seeds 0 1 2 --tts-steps 600 --limit 40                                                 # the defaults

Encoders (same data, steps and seeds): ``grad_tts`` (the faithful Grad-TTS encoder, the
baseline), ``scratch`` (our dual-stream encoder, untrained), and the curriculum's ``stage1``,
``stage2``, ``stage1+2``, ``stage1+2+3`` encoders (``prosody_tts.trainers.curriculum``, trained
once, with their retrieval). For every (encoder, seed): a tiny Grad-TTS trained on the corpus's
train split (``WORK/tts/<encoder>/seed<k>``), the held-out split synthesised with Griffin-Lim and
evaluated against the recordings (``WORK/eval/<encoder>/seed<k>``: MCD, F0, voicing, durations,
SIM-o, DNSMOS proxy, and the PER of a phoneme recogniser trained on the corpus, beside its PER on
the ground truth). A run whose ``summary.json`` exists is not redone, so an interrupted ablation
resumes where it stopped.

``--head latent --vae DIR`` runs the same protocol with the latent-diffusion head (``WORK/latent_tts``,
``WORK/latent_eval``, ``WORK/ablation_latent.{json,md}``; no ``grad_tts`` encoder).

Writes ``WORK/ablation.json`` and ``WORK/ablation.md``: per encoder, the mean ± sd over seeds of
each run's held-out mean, beside R@1-diff / R@1-sim of the same encoder, and the paper's two
findings checked against these numbers: (1) 1+2 is best downstream; (2) stage 3 raises R@1-sim
but lowers synthesis quality. A finding is called reproduced, not reproduced, or unclear (when
the seeds' spread covers the difference).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ENCODERS = ("grad_tts", "scratch", "stage1", "stage2", "stage1+2", "stage1+2+3")
#: (summary key, column, True when higher is better)
METRICS = (
    ("mcd_db", "MCD dB", False),
    ("f0_rmse_cents", "F0 RMSE ¢", False),
    ("f0_correlation", "F0 r", True),
    ("voicing_decision_error", "VDE", False),
    ("duration_error_frames", "dur. err.", False),
    ("sim_o", "SIM-o", True),
    ("p808_mos_proxy", "DNSMOS P.808 (proxy)", True),
    ("per", "PER (proxy)", False),
)
#: the metrics a "synthesis quality" verdict pools (rank-averaged), as the paper's MOS / WER / SIM-o
QUALITY = ("mcd_db", "sim_o", "p808_mos_proxy", "per")


def _encoders(args: argparse.Namespace, processor: Any) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Encoder directory per name (None: the head trains its own) and the curriculum's retrieval results."""
    from prosody_tts.trainers.curriculum import VARIANTS, CurriculumSchedule, run_curriculum

    work = args.work / "curriculum"
    saved = work / "curriculum.json"
    if saved.is_file():
        results = json.loads(saved.read_text(encoding="utf-8"))["variants"]
    else:
        schedule = CurriculumSchedule(seed=args.curriculum_seed, stage1_steps=args.stage1_steps,
                                      stage2_steps=args.stage2_steps, stage3_steps=args.stage3_steps, use_cpu=not args.gpu,
                                      stage2_batch_size=args.contrastive_batch_size, stage3_batch_size=args.contrastive_batch_size)  # fmt: skip
        results = run_curriculum(args.corpus, work, schedule, variants=VARIANTS, processor=processor)
    dirs: dict[str, str | None] = {"grad_tts": None, "scratch": None}
    dirs.update({name: results[name]["model_dir"] for name in VARIANTS})
    return dirs, results


def _train_tts(encoder: str, init_from: str | None, seed: int, args: argparse.Namespace, processor: Any) -> Path:
    """A tiny Grad-TTS with ``encoder``, composed with Griffin-Lim into ``.../tts`` (reused when present)."""
    from prosody_tts.trainers.recipe import DataArguments, ModelArguments, StageArguments
    from prosody_tts.trainers.tts_stage import run_tts_stage

    run = args.work / _prefix(args, "tts") / encoder / f"seed{seed}"
    composite = run / "tts"
    if (composite / "config.json").is_file():
        return composite
    if args.head == "latent":
        return _train_latent(init_from, seed, args, processor, run)
    training = _training_args(args, run / "grad_tts", seed)
    stage = run_tts_stage(
        ModelArguments(init_from=init_from, tts_text_encoder="grad_tts" if encoder == "grad_tts" else "dual_stream",
                       tts_preset="tiny"),
        DataArguments(corpus_dir=str(args.corpus), prepared_dir=str(args.work / "prepared")),
        StageArguments(stage="tts", max_frames=args.tts_max_frames, show_progress=False, evaluate_spectrograms=False),
        training, processor,
    )  # fmt: skip
    return _compose(stage.output_dir, composite, processor)


def _compose(head_dir: str, out: Path, processor: Any) -> Path:
    """The trained head and Griffin-Lim as one text-to-waveform directory (with the processor) at ``out``."""
    from prosody_tts.configuration.vocoder import GriffinLimConfig
    from prosody_tts.modeling.griffin_lim import GriffinLimVocoder
    from prosody_tts.modeling.text_to_waveform import TextToWaveformModel

    vocoder = GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(processor.feature_extractor))
    TextToWaveformModel.from_parts(head_dir, vocoder).save_pretrained(out)
    processor.save_pretrained(out)
    return out


def _training_args(args: argparse.Namespace, output_dir: Path, seed: int) -> Any:
    """The TrainingArguments of one head's run (the same schedule for both heads)."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(output_dir), max_steps=args.tts_steps, learning_rate=args.tts_learning_rate,
        warmup_steps=max(1, args.tts_steps // 30), lr_scheduler_type="cosine", max_grad_norm=1.0,
        logging_steps=max(1, min(10, args.tts_steps // 5)), save_strategy="no", seed=seed, use_cpu=not args.gpu,
        report_to=[], dataloader_num_workers=0, disable_tqdm=True,
    )  # fmt: skip


def _prefix(args: argparse.Namespace, name: str) -> str:
    """Grad-TTS runs keep their folders (``tts``, ``eval``); the latent head's get ``latent_`` before them."""
    return name if args.head == "grad_tts" else f"latent_{name}"


def _train_latent(init_from: str | None, seed: int, args: argparse.Namespace, processor: Any, run: Path) -> Path:
    """A tiny latent-diffusion head over ``init_from`` and ``--vae``, composed with Griffin-Lim into ``run/tts``."""
    from prosody_tts.trainers.latent_tts_stage import run_latent_tts_stage
    from prosody_tts.trainers.recipe import DataArguments, ModelArguments, StageArguments

    training = _training_args(args, run / "latent_tts", seed)
    stage = run_latent_tts_stage(
        ModelArguments(init_from=init_from, vae_model=str(args.vae), tts_preset="tiny"),
        DataArguments(corpus_dir=str(args.corpus), prepared_dir=str(args.work / "prepared")),
        StageArguments(stage="latent_tts", max_frames=args.tts_max_frames, show_progress=False),
        training, processor,
    )  # fmt: skip
    return _compose(stage.output_dir, run / "tts", processor)


def _recognizer(args: argparse.Namespace) -> str:
    """The phoneme recogniser of the PER proxy: ``--recognizer``, else trained once on the corpus."""
    from prosody_tts.trainers.recipe import run_recipe

    if args.recognizer:
        return str(args.recognizer)
    out = args.work / "recognizer"
    if not (out / "config.json").is_file():
        recipe = Path(__file__).resolve().parent / "tiny" / "recognizer.json"
        run_recipe([str(recipe), "--corpus_dir", str(args.corpus), "--output_dir", str(out), "--report_to", "none",
                    "--prepared_dir", str(args.work / "prepared"), "--save_strategy", "no", "--use_cpu", str(not args.gpu).lower(),
                    "--max_steps", str(args.recognizer_steps)])  # fmt: skip
    return str(out)


def _evaluate(model_dir: Path, out: Path, rows: list[dict], args: argparse.Namespace, recognizer: str) -> dict[str, Any]:
    """Synthesise the held-out rows with ``model_dir`` and evaluate them (``out/summary.json``; reused)."""
    from prosody_tts.evaluation.synthesis import PairProblem, SynthesisEvaluationOptions, evaluate_pairs
    from prosody_tts.evaluation.synthesis_report import write_synthesis_report
    from prosody_tts.pipelines.corpus_synthesis import synthesize_corpus
    from prosody_tts.pipelines.text_to_speech import load_text_to_speech

    if (out / "summary.json").is_file():
        return json.loads((out / "summary.json").read_text(encoding="utf-8"))
    model, processor = load_text_to_speech(str(model_dir))
    entries, failed = synthesize_corpus(model, processor, rows, out / "synthesized", n_timesteps=args.tts_timesteps,
                                        show_progress=False)  # fmt: skip
    texts = {e["id"]: {k: e[k] for k in ("text", "phonemes", "reference_durations", "synthesized_durations") if e.get(k) is not None}
             for e in entries}  # fmt: skip
    options = SynthesisEvaluationOptions(recognizer=recognizer, mos_proxy=not args.no_mos_proxy)
    evaluation, tracks = evaluate_pairs([(e["id"], e["reference"], e["synthesized"]) for e in entries], options,
                                        texts=texts, problems=[PairProblem(k, r) for k, r in failed], show_progress=False)  # fmt: skip
    write_synthesis_report(evaluation, out, tracks, title=f"{model_dir}")
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _aggregate(summaries: dict[str, list[dict]]) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Per encoder and metric: (mean, sd, seeds) of the runs' held-out means (undefined runs left out)."""
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    for encoder, runs in summaries.items():
        row = {}
        for key, _, _ in (*METRICS, ("per_ground_truth", "", False)):
            values = [s["summary"][key]["mean"] for s in runs if key in s["summary"] and s["summary"][key]["mean"] is not None]
            row[key] = (float(np.mean(values)), float(np.std(values)), len(values)) if values else (float("nan"), float("nan"), 0)
        table[encoder] = row
    return table


def _table(aggregate: dict, retrieval: dict[str, Any]) -> str:
    header = "| encoder | " + " | ".join(label for _, label, _ in METRICS) + " | R@1-diff | R@1-sim |"
    lines = [header, "|" + "---|" * (len(METRICS) + 3)]
    for encoder, row in aggregate.items():
        cells = [f"{row[k][0]:.3f} ± {row[k][1]:.3f}" if row[k][2] else "n/a" for k, _, _ in METRICS]
        r = retrieval.get(encoder, {}).get("retrieval")
        r1 = [_cell(r, "r1_diff"), _cell(r, "r1_sim")]
        lines.append(f"| {encoder} | " + " | ".join(cells) + f" | {r1[0]} | {r1[1]} |")
    return "\n".join(lines)


def _cell(retrieval: dict[str, Any] | None, key: str) -> str:
    value = (retrieval or {}).get(key)
    return "—" if value is None else f"{value:.3f}"


def _quality_rank(aggregate: dict) -> dict[str, float]:
    """Mean rank (1 = best) of each encoder over the QUALITY metrics."""
    ranks: dict[str, list[float]] = {e: [] for e in aggregate}
    for key, _, higher in METRICS:
        if key not in QUALITY:
            continue
        scored = [(e, row[key][0]) for e, row in aggregate.items() if row[key][2]]
        for position, (encoder, _) in enumerate(sorted(scored, key=lambda x: -x[1] if higher else x[1]), start=1):
            ranks[encoder].append(position)
    return {e: float(np.mean(r)) if r else float("nan") for e, r in ranks.items()}


def _separated(a: tuple[float, float, int], b: tuple[float, float, int]) -> bool:
    """Means further apart than the sum of the seeds' sds."""
    return abs(a[0] - b[0]) > a[1] + b[1]


def _findings(aggregate: dict, retrieval: dict[str, Any]) -> list[str]:
    ranks = _quality_rank(aggregate)
    best = min(ranks, key=lambda e: ranks[e])
    lines = [f"Synthesis-quality rank (mean over {', '.join(QUALITY)}; 1 = best): "
             + ", ".join(f"{e} {r:.2f}" for e, r in sorted(ranks.items(), key=lambda x: x[1]))]  # fmt: skip
    if best == "stage1+2":
        clear = all(_separated(aggregate["stage1+2"][k], aggregate[e][k]) for k in QUALITY for e in aggregate
                    if e != "stage1+2" and aggregate[e][k][2] and aggregate["stage1+2"][k][2])  # fmt: skip
        lines.append(f"(1) 1+2 is best downstream: {'reproduced' if clear else 'unclear (best by rank, within the seeds spread)'}.")
    else:
        lines.append(f"(1) 1+2 is best downstream: not reproduced (best by rank: {best}).")
    r12, r123 = retrieval.get("stage1+2", {}).get("retrieval"), retrieval.get("stage1+2+3", {}).get("retrieval")
    if r12 and r123 and r12.get("r1_sim") is not None and r123.get("r1_sim") is not None:
        raised = r123["r1_sim"] > r12["r1_sim"]
        worse = ranks.get("stage1+2+3", 0) > ranks.get("stage1+2", 0)
        spread = any(_separated(aggregate["stage1+2"][k], aggregate["stage1+2+3"][k]) for k in QUALITY
                     if aggregate["stage1+2"][k][2] and aggregate["stage1+2+3"][k][2])  # fmt: skip
        verdict = "reproduced" if raised and worse and spread else "unclear" if raised and worse else "not reproduced"
        lines.append(f"(2) stage 3 raises R@1-sim ({r12['r1_sim']:.3f} → {r123['r1_sim']:.3f}) but lowers synthesis "
                     f"quality (rank {ranks.get('stage1+2', float('nan')):.2f} → {ranks.get('stage1+2+3', float('nan')):.2f}): {verdict}.")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="embedded-corpus directory (built if missing)")
    parser.add_argument("--work", type=Path, required=True, help="where every run and the table go")
    parser.add_argument("--speakers", type=int, default=8, help="when building the corpus")
    parser.add_argument("--utterances", type=int, default=100, help="per speaker, when building the corpus")
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS), choices=ENCODERS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="TTS training seeds")
    parser.add_argument("--curriculum-seed", type=int, default=0, help="seed of the encoders' curriculum")
    parser.add_argument("--stage1-steps", type=int, default=300, help="curriculum (as recipes/curriculum_variants.py)")
    parser.add_argument("--stage2-steps", type=int, default=300)
    parser.add_argument("--stage3-steps", type=int, default=100)
    parser.add_argument("--contrastive-batch-size", type=int, default=32, help="stages 2 and 3")
    parser.add_argument("--recognizer-steps", type=int, default=800, help="when the recogniser is trained here")
    parser.add_argument("--tts-steps", type=int, default=600)
    parser.add_argument("--tts-learning-rate", type=float, default=1e-3)
    parser.add_argument("--tts-max-frames", type=int, default=4000, help="frames per TTS batch")
    parser.add_argument("--tts-timesteps", type=int, default=10, help="reverse diffusion steps when synthesising")
    parser.add_argument("--limit", type=int, default=40, help="held-out utterances per run (every k-th: all speakers)")
    parser.add_argument("--recognizer", type=Path, default=None, help="a trained phoneme recogniser (default: train one)")
    parser.add_argument("--no-mos-proxy", action="store_true", help="skip DNSMOS")
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (default: CPU)")
    parser.add_argument("--head", choices=("grad_tts", "latent"), default="grad_tts",
                        help="the TTS head: Grad-TTS, or the latent-diffusion head over --vae")  # fmt: skip
    parser.add_argument("--vae", type=Path, default=None, help="--head latent: a trained Mel-VAE directory (stage mel_vae)")
    args = parser.parse_args()
    if args.head == "latent" and (args.vae is None or "grad_tts" in args.encoders):
        parser.error("--head latent needs --vae DIR and --encoders without grad_tts (the faithful encoder is Grad-TTS')")

    from prosody_tts.cli.evaluate_synthesis import corpus_rows
    from prosody_tts.processing.processing_dual_stream import DualStreamProcessor

    started = time.perf_counter()
    if not (args.corpus / "train.jsonl").is_file():
        from prosody_tts.data.sources.embedded import build_embedded_corpus

        build_embedded_corpus(args.corpus, utterances_per_speaker=args.utterances, speakers=args.speakers)
    processor = DualStreamProcessor.from_defaults()
    dirs, retrieval = _encoders(args, processor)
    recognizer = _recognizer(args)
    rows = corpus_rows(str(args.corpus), "heldout")
    rows = rows[:: max(1, len(rows) // args.limit)][: args.limit]  # spread over the speakers, the same for every run
    summaries: dict[str, list[dict]] = {}
    for encoder in args.encoders:
        for seed in args.seeds:
            print(f"[{time.perf_counter() - started:7.0f} s] {encoder}, seed {seed}", flush=True)
            model_dir = _train_tts(encoder, dirs[encoder], seed, args, processor)
            summary = _evaluate(model_dir, args.work / _prefix(args, "eval") / encoder / f"seed{seed}", rows, args, recognizer)
            summaries.setdefault(encoder, []).append(summary)
    aggregate = _aggregate(summaries)
    table = _table(aggregate, retrieval)
    findings = _findings(aggregate, retrieval)
    per_truth = aggregate[next(iter(aggregate))]["per_ground_truth"][0]
    wall = time.perf_counter() - started
    text = "\n".join([
        f"# Downstream ablation, {'Grad-TTS' if args.head == 'grad_tts' else 'latent-diffusion'} head "
        f"({len(args.seeds)} seeds, {args.tts_steps} TTS steps, {args.limit} held-out utterances)", "",
        "Mean ± sd over seeds of each run's held-out mean. DNSMOS and PER are proxies; the recogniser's PER on the "
        f"ground truth of the same utterances is {per_truth:.3f}.", "", table, "", *findings, "",
        f"Wall time {wall:.0f} s (this invocation; finished runs are reused).",
    ])  # fmt: skip
    name = "ablation" if args.head == "grad_tts" else "ablation_latent"
    (args.work / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    payload = {"aggregate": aggregate, "findings": findings, "wall_seconds": wall, "args": {k: str(v) for k, v in vars(args).items()}}
    (args.work / f"{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
