"""A streamed stage-2/3 run in its own process (the resume and 2-process tests of the streamed path).

Usage: python _stream_worker.py SPEC.json   (or under torchrun). SPEC keys: corpus (a registered name),
data_files (list), aligner (dir), mode ("mixed" | "same"), output_dir, record ({rank} in the path),
max_steps, save_steps, batch_size, buffer_size, seed, kill_at_step (optional), resume (optional checkpoint).
Every collated batch's occurrences and identity, every logged loss, are appended to the record file.
"""

import json
import os
import signal
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from transformers import TrainerCallback, TrainingArguments, set_seed

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.data.stream_state import OccurrenceStreamStateCallback
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel
from prosody_tts.processing.processing_dual_stream import DualStreamProcessor
from prosody_tts.trainers import ContrastiveTrainer
from prosody_tts.trainers.contrastive_stream import restore_for_resume, streamed_occurrence_batches
from prosody_tts.trainers.recipe import DataArguments, StageArguments


def write(path, record):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


class Record(TrainerCallback):
    def __init__(self, path, kill_at):
        self.path, self.kill_at = path, kill_at

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            write(self.path, {"kind": "log", "step": state.global_step, "loss": logs["loss"]})

    def on_step_end(self, args, state, control, **kwargs):
        if self.kill_at and state.global_step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def main(spec_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    rank = int(os.environ.get("RANK", "0"))
    record = spec["record"].format(rank=rank)
    processor = DualStreamProcessor.from_pretrained(spec["aligner"])
    args = TrainingArguments(
        output_dir=spec["output_dir"], max_steps=spec["max_steps"], per_device_train_batch_size=spec["batch_size"],
        learning_rate=1e-3, logging_steps=1, save_steps=spec["save_steps"], save_strategy="steps", report_to=[],
        seed=spec["seed"], use_cpu=True, dataloader_num_workers=0, disable_tqdm=True,
        resume_from_checkpoint=spec.get("resume"),
    )  # fmt: skip
    data = DataArguments(stream_corpus=spec["corpus"], stream_data_files=",".join(spec["data_files"]),
                         aligner=spec["aligner"], stream_buffer_size=spec["buffer_size"], shuffle_buffer=8)  # fmt: skip
    stage = StageArguments(stage="contrastive", batch_sampler=spec["mode"])
    batcher, _ = streamed_occurrence_batches(data, stage, args, processor)
    set_seed(spec["seed"])  # the same initial model in every run
    restore_for_resume(batcher, args)
    trainer = ContrastiveTrainer(
        model=ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny()), args=args, train_dataset=batcher,
        processor=processor, batch_sampler=spec["mode"],
        callbacks=[Record(record, spec.get("kill_at_step")), OccurrenceStreamStateCallback(batcher)],
    )  # fmt: skip
    collate = trainer.data_collator

    def recording(items):
        occurrences = [[it["occurrence"].utterance_id, it["occurrence"].position] for it in items]
        identities = sorted({it["occurrence"].identity() for it in items})
        batch = collate(items)
        checksum = {k: float(v.double().sum()) for k, v in batch.items() if hasattr(v, "double")}
        write(record, {"kind": "batch", "occurrences": occurrences, "identities": identities, "checksum": checksum})
        return batch

    trainer.data_collator = recording
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    write(record, {"kind": "final", "world_size": args.world_size, "stats": dict(batcher.stats)})


if __name__ == "__main__":
    main(sys.argv[1])
