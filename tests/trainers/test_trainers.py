"""Stage Trainers: a training step, sub-metric logging, exact resume after SIGKILL, 2 processes."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import TrainingArguments

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.data.occurrences import OccurrenceDataset, occurrence_index
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel
from prosody_tts.modeling.dual_stream import DualStreamForMaskedLM
from prosody_tts.trainers import ContrastiveTrainer, MaskedLMTrainer, SeededMLMCollator

WORKER = Path(__file__).with_name("_train_worker.py")


def _args(tmp_path, **overrides) -> TrainingArguments:
    values = dict(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    values.update(overrides)
    return TrainingArguments(**values)


def _mlm_model(processor) -> DualStreamForMaskedLM:
    return DualStreamForMaskedLM(
        DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
    )


def test_mlm_trainer_logs_both_streams_and_updates_every_encoder_part(tmp_path, processor, prepared_tiny):
    model = _mlm_model(processor)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = MaskedLMTrainer(model=model, args=_args(tmp_path), train_dataset=prepared_tiny["train"], processor=processor)
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2
    for entry in logs:
        for key in ("loss", "phoneme_loss", "bpe_loss", "phoneme_accuracy", "bpe_accuracy"):
            assert math.isfinite(entry[key]), key
        assert 0.0 <= entry["phoneme_accuracy"] <= 1.0
    changed = {name for name, p in model.named_parameters() if not torch.equal(p.detach(), before[name])}
    for prefix in ("dual_stream.phoneme_embeddings", "dual_stream.bpe_embeddings", "phoneme_head", "bpe_head"):
        assert any(name.startswith(prefix) for name in changed), prefix


def test_seeded_mlm_collator_masks_depend_on_the_batch_key_only(processor, prepared_tiny):
    from prosody_tts.data.mlm import DualStreamMLMCollator

    collator = SeededMLMCollator(DualStreamMLMCollator.from_processor(processor), seed=3)
    rows = [dict(prepared_tiny["train"][i]) for i in range(4)]
    keyed = [{**row, "_batch_key": (0, 7)} for row in rows]
    torch.manual_seed(0)
    first = collator(keyed)
    torch.manual_seed(123)  # the global RNG must not matter
    second = collator(keyed)
    other = collator([{**row, "_batch_key": (1, 7)} for row in rows])
    assert torch.equal(first["phoneme_labels"], second["phoneme_labels"])
    assert torch.equal(first["bpe_input_ids"], second["bpe_input_ids"])
    assert not torch.equal(first["phoneme_labels"], other["phoneme_labels"])


@pytest.mark.parametrize("sampler", ["mixed", "same"])
def test_contrastive_trainer_step_logs_metrics_and_trains_both_towers(tmp_path, processor, prepared_tiny, sampler):
    corpus = prepared_tiny["train"]
    model = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny())
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = ContrastiveTrainer(
        model=model,
        args=_args(tmp_path, per_device_train_batch_size=8),
        train_dataset=OccurrenceDataset(corpus, occurrence_index(corpus)),
        processor=processor,
        batch_sampler=sampler,
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2
    for entry in logs:
        assert math.isfinite(entry["loss"]) and entry["loss"] > 0
        assert entry["negatives"] == 7  # one process: the other 7 pairs of the batch
        assert 0.0 <= entry["batch_r1"] <= 1.0
    changed = {name.split(".")[0] for name, p in model.named_parameters() if not torch.equal(p.detach(), before[name])}
    assert {"text_model", "audio_model", "text_projection", "audio_projection", "logit_scale", "logit_bias"} <= changed


def test_contrastive_trainer_rejects_a_plain_dataset(tmp_path, processor, prepared_tiny):
    trainer = ContrastiveTrainer(
        model=ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny()),
        args=_args(tmp_path),
        train_dataset=[1, 2, 3],
        processor=processor,
    )
    with pytest.raises(TypeError, match="OccurrenceDataset"):
        trainer.get_train_dataloader()


def test_unknown_batch_sampler_is_refused(tmp_path, processor):
    with pytest.raises(ValueError, match="batch_sampler"):
        ContrastiveTrainer(
            model=ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny()), args=_args(tmp_path), processor=processor,
            batch_sampler="random",
        )


# ------------------------------------------------------------------------------ subprocess runs
#: padded mel frames per TTS batch in the subprocess runs (a few utterances of the tiny corpus)
TTS_MAX_FRAMES = 1500
#: stages whose batches come from the frame-budget sampler
FRAME_BUDGET_STAGES = ("tts", "latent_tts")

def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    return env


def _run(spec: dict, path: Path, torchrun: int | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    spec_file = path / f"spec-{spec['name']}.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    if torchrun:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={torchrun}",
                   "--master_addr=127.0.0.1", f"--master_port={port}", str(WORKER), str(spec_file)]
    else:
        command = [sys.executable, str(WORKER), str(spec_file)]
    return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=timeout)


def _records(path: Path, kind: str) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


@pytest.fixture(scope="module")
def prepared_dir(prepared_tiny, tmp_path_factory):
    rows = prepared_tiny["train"].rows
    return str(Path(rows.cache_files[0]["filename"]).parent)


@pytest.mark.parametrize("stage", ["mlm", "contrastive", "tts", "latent_tts", "vocoder"])
def test_sigkilled_run_resumes_with_the_same_data_and_losses(tmp_path, prepared_dir, tiny_corpus_dir, stage):
    size = TTS_MAX_FRAMES if stage in FRAME_BUDGET_STAGES else 8
    base = dict(stage=stage, prepared_dir=prepared_dir, max_steps=6, save_steps=2, batch_size=size, seed=0,
                corpus_dir=str(tiny_corpus_dir))
    full = _run({**base, "name": "full", "output_dir": str(tmp_path / "full"), "record": str(tmp_path / "full.jsonl")}, tmp_path)
    assert full.returncode == 0, full.stderr[-3000:]
    killed_spec = {**base, "name": "killed", "output_dir": str(tmp_path / "run"), "record": str(tmp_path / "killed.jsonl"),
                   "kill_at_step": 5}
    killed = _run(killed_spec, tmp_path)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-3000:])  # SIGKILL, no cleanup
    checkpoints = sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-2", "checkpoint-4"]
    resumed = _run({**killed_spec, "name": "resumed", "kill_at_step": None, "record": str(tmp_path / "resumed.jsonl"),
                    "resume": str(tmp_path / "run" / "checkpoint-4")}, tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    full_logs = {r["step"]: r for r in _records(tmp_path / "full.jsonl", "log")}
    killed_logs = {r["step"]: r for r in _records(tmp_path / "killed.jsonl", "log")}
    resumed_logs = {r["step"]: r for r in _records(tmp_path / "resumed.jsonl", "log")}
    assert sorted(full_logs) == [1, 2, 3, 4, 5, 6]
    assert sorted(killed_logs) == [1, 2, 3, 4]
    assert sorted(resumed_logs) == [5, 6]
    for step in (1, 2, 3, 4):
        assert killed_logs[step]["loss"] == full_logs[step]["loss"]
    for step in (5, 6):
        assert abs(resumed_logs[step]["loss"] - full_logs[step]["loss"]) <= 1e-6, (step, resumed_logs[step], full_logs[step])
        if stage == "vocoder":  # the discriminators' optimiser and schedule were restored too
            for part in ("discriminator_loss", "learning_rate"):
                assert resumed_logs[step][part] == pytest.approx(full_logs[step][part], rel=1e-6, abs=1e-9), part
    # the same batches, in the same order
    full_batches = _records(tmp_path / "full.jsonl", "batch")
    resumed_batches = _records(tmp_path / "resumed.jsonl", "batch")
    assert resumed_batches == full_batches[4:6]
    full_final = _records(tmp_path / "full.jsonl", "final")[0]
    resumed_final = _records(tmp_path / "resumed.jsonl", "final")[0]
    assert resumed_final["param_norm"] == pytest.approx(full_final["param_norm"], rel=1e-6)


@pytest.mark.parametrize("stage", ["mlm", "contrastive", "tts", "latent_tts", "vocoder"])
def test_two_cpu_processes_train_on_disjoint_data_with_all_negatives(tmp_path, prepared_dir, tiny_corpus_dir, stage):
    size = TTS_MAX_FRAMES if stage in FRAME_BUDGET_STAGES else 4
    spec = dict(name=f"ddp-{stage}", stage=stage, prepared_dir=prepared_dir, max_steps=3, save_steps=100, batch_size=size,
                seed=0, output_dir=str(tmp_path / "ddp"), record=str(tmp_path / "rank{rank}.jsonl"),
                corpus_dir=str(tiny_corpus_dir))
    run = _run(spec, tmp_path, torchrun=2)
    assert run.returncode == 0, run.stderr[-4000:]
    finals = [_records(tmp_path / f"rank{r}.jsonl", "final")[0] for r in (0, 1)]
    assert [f["world_size"] for f in finals] == [2, 2]
    assert {f["rank"] for f in finals} == {0, 1}
    assert finals[0]["param_sum"] == finals[1]["param_sum"]  # DDP kept the replicas identical
    batches = [_records(tmp_path / f"rank{r}.jsonl", "batch") for r in (0, 1)]
    assert len(batches[0]) == len(batches[1]) == 3
    if stage == "contrastive":
        for step in range(3):
            left = {tuple(o) for o in batches[0][step]["occurrences"]}
            right = {tuple(o) for o in batches[1][step]["occurrences"]}
            assert len(left) == len(right) == 4 and not left & right
        logs = _records(tmp_path / "rank0.jsonl", "log")
        assert logs and all(entry["negatives"] == 2 * 4 - 1 for entry in logs)  # both ranks' segments scored
    elif stage in FRAME_BUDGET_STAGES:
        for step in range(3):
            left, right = set(batches[0][step]["rows"]), set(batches[1][step]["rows"])
            assert left and right and not left & right  # frame-budget batches: disjoint rows per rank
            assert all(len(b[step]["rows"]) * max(b[step]["frames"]) <= TTS_MAX_FRAMES for b in batches)
        logs = _records(tmp_path / "rank0.jsonl", "log")
        parts = ("duration_loss", "prior_loss", "diffusion_loss") if stage == "tts" else ("diffusion_loss", "length_loss")
        assert logs and all(all(part in entry for part in parts) for entry in logs)
    elif stage == "vocoder":
        for step in range(3):
            left, right = set(batches[0][step]["rows"]), set(batches[1][step]["rows"])
            assert len(left) == len(right) == 4 and not left & right  # each rank its own windows
        logs = _records(tmp_path / "rank0.jsonl", "log")
        assert logs and all(all(part in entry for part in ("discriminator_loss", "mel_loss")) for entry in logs)
    else:
        assert batches[0] != batches[1]  # each rank masked and read its own rows


# ------------------------------------------------------------------------------ streamed data
def test_text_token_stream_skips_bad_texts_counts_them_and_resumes(processor):
    from prosody_tts.data.text_stream import TextTokenStream

    texts = ["Мама мыла раму.", "", "Он пришёл домой.", {"text": "Кот спит."}, 42, "Да."]
    stream = TextTokenStream(texts, processor, min_phonemes=4)
    items = list(stream)
    assert [item["id"] for item in items] == ["0", "2", "3"]
    assert stream.skipped == {"no_text": 2, "too_short": 1}
    assert all(item["phoneme_input_ids"][0] == processor.tokenizer.bos_token_id for item in items)
    resumed = TextTokenStream(texts, processor, min_phonemes=4)
    resumed.load_state_dict({"consumed": 3, "skipped": {"no_text": 1}})
    assert [item["id"] for item in resumed] == ["3"]


def test_mlm_trainer_trains_on_a_text_stream(tmp_path, processor):
    from prosody_tts.data.text_stream import TextTokenStream

    texts = ["Мама мыла раму.", "Он пришёл домой поздно вечером.", "Старинный замок стоял на холме."] * 4
    trainer = MaskedLMTrainer(
        model=_mlm_model(processor),
        args=_args(tmp_path, per_device_train_batch_size=3),
        train_dataset=TextTokenStream(texts, processor),
        processor=processor,
    )
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)


def test_contrastive_trainer_trains_on_streamed_occurrence_batches(tmp_path, processor, prepared_tiny):
    from prosody_tts.data.occurrence_stream import StreamingOccurrenceBatches
    from prosody_tts.data.occurrences import _row_occurrences

    corpus = prepared_tiny["train"]
    rows = [{**corpus[i], "occurrences": _row_occurrences(corpus[i], 1)} for i in range(len(corpus))]
    stream = StreamingOccurrenceBatches(rows, 8, mode="mixed", buffer_size=8, seed=0)
    trainer = ContrastiveTrainer(
        model=ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny()),
        args=_args(tmp_path, per_device_train_batch_size=8, max_steps=3),
        train_dataset=stream,
        processor=processor,
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 3 and all(entry["negatives"] == 7 and math.isfinite(entry["loss"]) for entry in logs)
    assert stream.max_buffered <= 8
