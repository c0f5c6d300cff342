"""A tiny training run in its own process, for the resume (SIGKILL) and the 2-process tests.

Usage: python _train_worker.py SPEC.json   (or under torchrun). SPEC keys:
  stage ("mlm" | "contrastive" | "tts" | "latent_tts" | "vocoder"), prepared_dir, output_dir, record (jsonl path per rank: {rank}),
  max_steps, save_steps, kill_at_step (optional: SIGKILL itself after that step),
  resume (bool), batch_size (tts: max_frames), seed, use_cpu; vocoder: corpus_dir (the embedded corpus).
Every logged loss and every collated batch's content is appended to the record file, flushed.
"""

import json
import os
import signal
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import torch
from transformers import TrainerCallback, TrainingArguments

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.data.occurrences import OccurrenceDataset, occurrence_index
from prosody_tts.data.prepared import prepare_corpus
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel
from prosody_tts.modeling.dual_stream import DualStreamForMaskedLM
from prosody_tts.modeling.grad_tts import GradTTSModel
from prosody_tts.processing.processing_dual_stream import DualStreamProcessor
from prosody_tts.trainers import ContrastiveTrainer, MaskedLMTrainer
from prosody_tts.trainers.tts import TextToSpeechTrainer


class Recorder(TrainerCallback):
    def __init__(self, path):
        self.path = path

    def write(self, record):
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.write({"kind": "log", "step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, (int, float))}})


class KillAt(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def recording_collator(collator, recorder, stage):
    def collate(items):
        batch = collator(items)
        if stage == "mlm":
            content = {"ids": batch["phoneme_input_ids"].tolist(), "labels": batch["phoneme_labels"].tolist()}
        elif stage in ("tts", "latent_tts"):
            content = {"rows": [str(row["id"]) for row in items], "frames": batch["spectrogram_lengths"].tolist()}
        elif stage == "vocoder":
            content = {"rows": [str(item["id"]) for item in items], "audio_sum": float(batch["waveform"].double().sum())}
        else:
            content = {"occurrences": [[it["occurrence"].utterance_id, it["occurrence"].position] for it in items]}
        recorder.write({"kind": "batch", **content})
        return batch

    return collate


def main(spec_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    rank = int(os.environ.get("RANK", "0"))
    record = spec["record"].format(rank=rank)
    recorder = Recorder(record)
    processor = DualStreamProcessor.from_defaults()
    corpus = prepare_corpus([], processor, cache_dir=spec["prepared_dir"], show_progress=False)  # reuses the cache
    torch.manual_seed(spec["seed"])
    args = TrainingArguments(
        output_dir=spec["output_dir"],
        max_steps=spec["max_steps"],
        per_device_train_batch_size=spec["batch_size"],
        learning_rate=spec.get("learning_rate", 1e-3),
        logging_steps=1,
        save_steps=spec["save_steps"],
        save_strategy="steps",
        report_to=[],
        seed=spec["seed"],
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        ddp_find_unused_parameters=spec["stage"] in ("vocoder", "latent_tts"),
    )
    callbacks = [recorder] + ([KillAt(spec["kill_at_step"])] if spec.get("kill_at_step") else [])
    if spec["stage"] == "mlm":
        text = DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
        model = DualStreamForMaskedLM(text)
        trainer = MaskedLMTrainer(model=model, args=args, train_dataset=corpus, processor=processor, callbacks=callbacks)
    elif spec["stage"] == "tts":
        speakers = corpus.speakers
        blank = len(processor.tokenizer)
        config = GradTTSConfig.tiny(vocab_size=blank + 1, blank_id=blank, num_speakers=len(speakers), speaker_names=speakers)
        trainer = TextToSpeechTrainer(
            model=GradTTSModel(config), args=args, train_dataset=corpus, processor=processor, callbacks=callbacks,
            speaker_to_id={name: i for i, name in enumerate(speakers)}, max_frames=spec["batch_size"],
        )
    elif spec["stage"] == "latent_tts":
        from prosody_tts.configuration.latent_diffusion import LatentDiffusionTTSConfig
        from prosody_tts.modeling.latent_diffusion import LatentDiffusionTTSModel

        speakers = corpus.speakers
        text = DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
        config = LatentDiffusionTTSConfig.tiny(text_config=text, num_speakers=len(speakers), speaker_names=speakers,
                                               hidden_size=32, num_layers=2)  # fmt: skip
        trainer = TextToSpeechTrainer(
            model=LatentDiffusionTTSModel(config), args=args, train_dataset=corpus, processor=processor, callbacks=callbacks,
            speaker_to_id={name: i for i, name in enumerate(speakers)}, max_frames=spec["batch_size"],
        )
    elif spec["stage"] == "vocoder":
        from prosody_tts.configuration.hifigan_training import HifiGanTrainingConfig
        from prosody_tts.data.sources.embedded import load_embedded_corpus
        from prosody_tts.data.vocoder import VocoderSegmentDataset, load_vocoder_utterances
        from prosody_tts.modeling.hifigan_training import HifiGanTrainingModel
        from prosody_tts.trainers.vocoder import VocoderTrainer

        extractor = processor.feature_extractor
        rows, _ = load_vocoder_utterances(load_embedded_corpus(spec["corpus_dir"], "train"), extractor, show_progress=False)
        dataset = VocoderSegmentDataset(rows, 8, extractor.hop_length, float(extractor.padding_value), seed=spec["seed"])
        trainer = VocoderTrainer(
            model=HifiGanTrainingModel(HifiGanTrainingConfig.tiny()), args=args, train_dataset=dataset,
            callbacks=callbacks, lr_decay=0.9, lr_decay_steps=2,
        )
    else:
        model = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny())
        dataset = OccurrenceDataset(corpus, occurrence_index(corpus))
        trainer = ContrastiveTrainer(
            model=model, args=args, train_dataset=dataset, processor=processor, callbacks=callbacks,
            batch_sampler=spec.get("batch_sampler", "mixed"),
        )
    trainer.data_collator = recording_collator(trainer.data_collator, recorder, spec["stage"])
    trainer.train(resume_from_checkpoint=spec.get("resume") or None)
    params = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    recorder.write({"kind": "final", "param_sum": float(params.double().sum()), "param_norm": float(params.double().norm()),
                    "world_size": args.world_size, "rank": args.process_index})


if __name__ == "__main__":
    main(sys.argv[1])
