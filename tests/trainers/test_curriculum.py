"""Recipes parse, the curriculum variants run end to end, the demo leaves loadable model directories."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from prosody_tts.trainers.curriculum import VARIANTS, CurriculumSchedule, run_curriculum, variants_table
from prosody_tts.trainers.recipe import parse_recipe

RECIPES = sorted((Path(__file__).parents[2] / "recipes").glob("*/stage*.json"))


def test_every_recipe_file_parses_into_the_four_argument_groups(tmp_path):
    assert {p.parent.name for p in RECIPES} == {"tiny", "paper"}
    for path in RECIPES:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("bf16"):  # TrainingArguments refuses bf16 without a capable device: parse as fp32 here
            data["bf16"] = False
            data["use_cpu"] = True
        copy = tmp_path / f"{path.parent.name}-{path.name}"
        copy.write_text(json.dumps(data), encoding="utf-8")
        model, data_args, stage, training = parse_recipe(str(copy))
        assert data_args.corpus_dir or data_args.stream_corpus, path
        if data_args.stream_corpus:  # a streamed corpus has no length; its durations come from an aligner
            assert data_args.aligner and training.dataloader_num_workers == 0, path
        assert stage.stage in ("mlm", "contrastive"), path
        assert training.max_steps > 0
        if stage.stage == "contrastive":
            assert model.init_from, f"{path}: stage 2/3 must start from the previous stage"
            assert stage.batch_sampler == ("same" if path.stem.startswith("stage3") else "mixed")


def test_paper_recipes_keep_the_paper_step_counts():
    steps = {p.stem: json.loads(p.read_text())["max_steps"] for p in RECIPES if p.parent.name == "paper"}
    assert steps["stage1"] == 75_000 and steps["stage2"] == 20_000


def test_unknown_recipe_values_are_refused(tmp_path):
    from prosody_tts.trainers.recipe import DataArguments, ModelArguments, StageArguments, run_stage

    args = parse_recipe(["--output_dir", str(tmp_path), "--use_cpu", "true"])[3]
    with pytest.raises(ValueError, match="stage"):
        run_stage(ModelArguments(), DataArguments(), StageArguments(stage="pretrain"), args)
    with pytest.raises(ValueError, match="model_size"):
        run_stage(ModelArguments(model_size="huge"), DataArguments(), StageArguments(), args)


def test_all_curriculum_variants_train_and_evaluate(tmp_path, tiny_corpus_dir, processor):
    schedule = CurriculumSchedule(
        stage1_steps=2, stage2_steps=2, stage3_steps=2, stage1_batch_size=4, stage2_batch_size=8,
        stage3_batch_size=4, num_candidates=4, logging_steps=1,
    )
    results = run_curriculum(tiny_corpus_dir, tmp_path, schedule, processor=processor, show_progress=False)
    assert list(results) == list(VARIANTS)
    for variant, entry in results.items():
        retrieval = entry["retrieval"]
        assert retrieval["num_candidates"] == 4
        assert retrieval["num_anchors_diff"] > 0, variant
        assert 0.0 <= retrieval["r1_diff"] <= 1.0 and math.isclose(retrieval["chance_r1"], 0.25)
    # shared stages are trained once: 1+2+3 continues from the 1+2 model, 1+2 from stage 1
    assert (tmp_path / "stage1").is_dir() and (tmp_path / "stage1+2+3").is_dir()
    assert json.loads((tmp_path / "curriculum.json").read_text())["schedule"]["stage3_steps"] == 2
    table = variants_table(results)
    assert table.count("\n| stage") == 4 and "| chance |" in table and "N = 4" in table


def test_two_curriculum_runs_print_the_identical_table(tmp_path, tiny_corpus_dir, processor):
    """What the demo runs (stage 1, stage 1+2, retrieval), twice in one process: identical numbers."""
    schedule = CurriculumSchedule(
        stage1_steps=3, stage2_steps=3, stage1_batch_size=4, stage2_batch_size=8, num_candidates=4, logging_steps=1,
    )  # fmt: skip
    tables, losses = [], []
    for run in ("first", "second"):
        results = run_curriculum(
            tiny_corpus_dir, tmp_path / run, schedule, variants=("stage1+2", "stage1"), processor=processor,
            show_progress=False,
        )  # fmt: skip
        tables.append(variants_table(results))
        losses.append([entry["retrieval"] for entry in results.values()])
    assert tables[0] == tables[1]
    assert losses[0] == losses[1]
    first = json.loads((tmp_path / "first" / "stage1+2" / "trainer_state.json").read_text())["log_history"]
    second = json.loads((tmp_path / "second" / "stage1+2" / "trainer_state.json").read_text())["log_history"]
    assert [e.get("loss") for e in first] == [e.get("loss") for e in second]


def test_demo_leaves_a_report_and_model_directories_loadable_by_auto_classes(tmp_path, tiny_corpus_dir):
    out = tmp_path / "demo"
    shutil.copytree(tiny_corpus_dir, out / "corpus")
    summary = json.loads((out / "corpus" / "corpus.json").read_text(encoding="utf-8"))
    summary["demo"] = {"speakers": 2, "utterances_per_speaker": 12, "seed": 0}  # what the fixture built
    (out / "corpus" / "corpus.json").write_text(json.dumps(summary), encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    command = [sys.executable, "-m", "prosody_tts.cli", "demo", "--out", str(out), "--speakers", "2", "--utterances", "12",
               "--stage1-steps", "3", "--stage2-steps", "3", "--tts-steps", "3", "--num-candidates", "4"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "reusing the corpus" in run.stdout and "| stage1+2 |" in run.stdout and "| chance |" in run.stdout
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| stage1+2 |" in report and "Peak resident memory" in report
    assert "## Grad-TTS" in report and "held-out mel L1" in run.stdout
    assert json.loads((out / "runs" / "grad_tts" / "spectrogram_errors.json").read_text())["utterances"] > 0
    audio, rate = soundfile.read(out / "tts" / "sample.wav")
    assert rate == 22050 and audio.ndim == 1 and len(audio) > 0
    for figure in ("curves_stage1.png", "curves_stage1_2.png", "per_phoneme_recall.png", "similarity_heldout.png", "tts_mels.png"):
        assert (out / figure).stat().st_size > 1000, figure
    assert list((out / "runs" / "figures").glob("events.out.tfevents*")), "figures not logged to TensorBoard"
    assert list((out / "runs" / "stage1+2").rglob("events.out.tfevents*")), "training scalars not in TensorBoard"
    check = f"""
import sys
import transformers, prosody_tts
from transformers import AutoModel, AutoProcessor
model = AutoModel.from_pretrained({str(out / 'model')!r})
processor = AutoProcessor.from_pretrained({str(out / 'model')!r})
encoder = AutoModel.from_pretrained({str(out / 'encoder')!r})
encoded = prosody_tts.encode(["Мама мыла раму."], encoder, {str(out / 'encoder')!r})
speech = transformers.pipeline("text-to-speech", model={str(out / 'tts')!r})("Мама мыла раму.", forward_params={{"speaker": 0, "n_timesteps": 2}})
print(type(model).__name__, type(processor).__name__, type(encoder).__name__, tuple(encoded.embeddings[0].shape),
      type(AutoModel.from_pretrained({str(out / 'tts')!r})).__name__, speech["sampling_rate"], speech["audio"].ndim)
"""
    evaluated = subprocess.run(
        [sys.executable, "-m", "prosody_tts.cli", "evaluate", "retrieval", "--model", str(out / "model"), "--data",
         str(out / "corpus"), "--num-candidates", "4", "--json"],
        env=env, capture_output=True, text=True, timeout=200,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads(evaluated.stdout)["r1_diff"] == pytest.approx(
        json.loads((out / "runs" / "stage1+2" / "retrieval.json").read_text())["r1_diff"]
    )  # the CLI reproduces the demo's own evaluation of the same model and split
    loaded = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=200)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    names = loaded.stdout.split()
    assert names[:3] == ["ProsodyContrastiveModel", "DualStreamProcessor", "DualStreamModel"]
    assert names[-3:] == ["TextToWaveformModel", "22050", "1"]


def test_stage1_recipe_streams_a_registered_text_corpus_from_local_files(tmp_path, processor):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from prosody_tts.trainers.recipe import DataArguments, ModelArguments, StageArguments, run_stage

    texts = ["Москва — столица России. Город стоит на реке.", "Он писал стихи и прозу. Читатели любили их."]
    table = pa.table({"id": ["1", "2"], "url": ["u1", "u2"], "title": ["a", "b"], "text": texts})
    pq.write_table(table, tmp_path / "train-00000-of-00001.parquet")
    training = parse_recipe(
        ["--output_dir", str(tmp_path / "out"), "--use_cpu", "true", "--max_steps", "2",
         "--per_device_train_batch_size", "2", "--logging_steps", "1", "--report_to", "none", "--save_strategy", "no"]
    )[3]
    data = DataArguments(text_corpus="wikipedia_ru", text_data_files=str(tmp_path / "train-00000-of-00001.parquet"))
    result = run_stage(ModelArguments(), data, StageArguments(stage="mlm", show_progress=False), training, processor)
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    assert (tmp_path / "out" / "config.json").is_file() and (tmp_path / "out" / "trainer_state.json").is_file()


def test_stage2_recipe_under_torchrun_with_two_processes(tmp_path, tiny_corpus_dir):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recipe = Path(__file__).parents[2] / "recipes" / "train.py"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
        f"--master_port={port}", str(recipe), "--stage", "contrastive", "--corpus_dir", str(tiny_corpus_dir),
        "--prepared_dir", str(tmp_path / "prepared"), "--output_dir", str(tmp_path / "stage2"), "--max_steps", "2",
        "--per_device_train_batch_size", "4", "--use_cpu", "true", "--report_to", "none", "--save_strategy", "no",
        "--logging_steps", "1", "--num_candidates", "4", "--show_progress", "false",
        "--ddp_find_unused_parameters", "false",
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    summary = json.loads(run.stdout[run.stdout.index('{\n  "output_dir"') :])  # printed by the main process only
    assert summary["retrieval"]["num_candidates"] == 4 and summary["retrieval"]["num_anchors_diff"] > 0
    state = json.loads((tmp_path / "stage2" / "trainer_state.json").read_text())
    assert [entry["negatives"] for entry in state["log_history"] if "loss" in entry] == [7, 7]  # 2 ranks x 4 - 1
