"""Stages 2/3 on streamed corpora: Golos / Common Voice layouts (local files), durations from an aligner on
the fly or from an aligned manifest, exact resume of the occurrence buffer, same-phoneme identities across ranks."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from stream_fixtures import save_tiny_aligner, write_layout

from prosody_tts.constants import OCCURRENCE_STATE_PATTERN
from prosody_tts.trainers.recipe import run_recipe

WORKER = Path(__file__).with_name("_stream_worker.py")


@pytest.fixture(scope="module")
def stream_inputs(tmp_path_factory, tiny_corpus_dir, processor):
    root = tmp_path_factory.mktemp("streamed")
    return {
        "golos": write_layout(tiny_corpus_dir, root / "golos", "golos"),
        "cv": write_layout(tiny_corpus_dir, root / "cv", "cv"),
        "aligner": save_tiny_aligner(processor, root / "aligner"),
    }


def _run_worker(spec: dict, path: Path, torchrun: int | None = None) -> subprocess.CompletedProcess:
    spec_file = path / f"spec-{spec['name']}.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    command = [sys.executable, str(WORKER), str(spec_file)]
    if torchrun:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={torchrun}",
                   "--master_addr=127.0.0.1", f"--master_port={port}", str(WORKER), str(spec_file)]  # fmt: skip
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _records(path: Path, kind: str) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def _spec(name: str, tmp_path: Path, inputs: dict, **overrides) -> dict:
    spec = {"name": name, "corpus": "golos_crowd", "data_files": inputs["golos"], "aligner": inputs["aligner"],
            "mode": "mixed", "output_dir": str(tmp_path / name), "record": str(tmp_path / f"{name}-{{rank}}.jsonl"),
            "max_steps": 6, "save_steps": 3, "batch_size": 4, "buffer_size": 8, "seed": 0}  # fmt: skip
    return {**spec, **overrides}


def test_streamed_stage2_recipe_with_an_aligner_on_the_fly(tmp_path, stream_inputs):
    out = tmp_path / "stage2"
    result = run_recipe([
        "--stage", "contrastive", "--stream_corpus", "golos_crowd", "--stream_data_files", ",".join(stream_inputs["golos"]),
        "--aligner", stream_inputs["aligner"], "--output_dir", str(out), "--max_steps", "3",
        "--per_device_train_batch_size", "4", "--stream_buffer_size", "8", "--save_steps", "3", "--use_cpu", "true",
        "--report_to", "none", "--logging_steps", "1", "--show_progress", "false", "--shuffle_buffer", "8",
    ])  # fmt: skip
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
    assert result.retrieval is None  # no held-out split for a stream
    assert (out / "checkpoint-3" / (OCCURRENCE_STATE_PATTERN.format(rank=0) + ".json")).is_file()


def test_streamed_stage2_from_an_aligned_manifest(tmp_path, tiny_corpus_dir):
    # the tiny corpus' manifest carries phonemes + durations, like a prosody-tts align output
    result = run_recipe([
        "--stage", "contrastive", "--stream_corpus", "manifest", "--stream_data_files", str(tiny_corpus_dir / "train.jsonl"),
        "--output_dir", str(tmp_path / "m"), "--max_steps", "2", "--per_device_train_batch_size", "4",
        "--stream_buffer_size", "8", "--save_strategy", "no", "--use_cpu", "true", "--report_to", "none",
        "--logging_steps", "1", "--show_progress", "false", "--shuffle_buffer", "8",
    ])  # fmt: skip
    assert len([e for e in result.log_history if "loss" in e]) == 2


def test_streamed_batches_resume_exactly_after_sigkill(tmp_path, stream_inputs):
    full = _run_worker(_spec("full", tmp_path, stream_inputs), tmp_path)
    assert full.returncode == 0, full.stderr[-3000:]
    killed = _run_worker(_spec("killed", tmp_path, stream_inputs, kill_at_step=4), tmp_path)
    assert killed.returncode != 0  # SIGKILL
    checkpoint = tmp_path / "killed" / "checkpoint-3"
    assert (checkpoint / (OCCURRENCE_STATE_PATTERN.format(rank=0) + ".safetensors")).is_file()
    resumed = _run_worker(_spec("resumed", tmp_path, stream_inputs, output_dir=str(tmp_path / "killed"),
                                resume=str(checkpoint)), tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    reference = _records(tmp_path / "full-0.jsonl", "batch")
    after = _records(tmp_path / "resumed-0.jsonl", "batch")
    assert len(reference) >= 6 and len(after) >= 3
    assert [b["occurrences"] for b in after[:3]] == [b["occurrences"] for b in reference[3:6]]
    full_losses = {r["step"]: r["loss"] for r in _records(tmp_path / "full-0.jsonl", "log")}
    resumed_losses = {r["step"]: r["loss"] for r in _records(tmp_path / "resumed-0.jsonl", "log")}
    assert sorted(resumed_losses) == [4, 5, 6]
    assert all(resumed_losses[s] == pytest.approx(full_losses[s], rel=1e-5) for s in (4, 5, 6))


@pytest.mark.parametrize(("corpus", "layout"), [("common_voice_ru", "cv"), ("golos_crowd", "golos")])
def test_same_phoneme_batches_share_one_identity_across_two_ranks(tmp_path, stream_inputs, corpus, layout):
    spec = _spec("ranks", tmp_path, stream_inputs, corpus=corpus, data_files=stream_inputs[layout],
                 mode="same", max_steps=3, save_steps=100, batch_size=2, buffer_size=12)  # fmt: skip
    run = _run_worker(spec, tmp_path, torchrun=2)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [_records(tmp_path / f"ranks-{r}.jsonl", "batch") for r in (0, 1)]
    steps = min(len(ranks[0]), len(ranks[1]))
    assert steps >= 3
    for a, b in zip(ranks[0][:steps], ranks[1][:steps], strict=True):
        assert len(a["identities"]) == 1 and a["identities"] == b["identities"]
    ids = [{o[0] for batch in rank for o in batch["occurrences"]} for rank in ranks]
    assert not ids[0] & ids[1]  # each rank reads its own shard
    finals = [_records(tmp_path / f"ranks-{r}.jsonl", "final")[0] for r in (0, 1)]
    assert [f["world_size"] for f in finals] == [2, 2]
