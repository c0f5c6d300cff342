"""One function per curriculum stage, driven by a JSON/YAML recipe (``HfArgumentParser``).

A recipe file holds the fields of :class:`ModelArguments`, :class:`DataArguments`,
:class:`StageArguments` and ``transformers.TrainingArguments`` side by side::

    accelerate launch recipes/train.py recipes/paper/stage2.json     # GPUs
    python recipes/train.py recipes/tiny/stage2.json                 # one CPU process
    torchrun --nproc_per_node 2 recipes/train.py recipes/tiny/stage2.json   # 2 CPU processes

Stage 1 (``stage="mlm"``) trains ``DualStreamForMaskedLM``; stage 2 (``stage="contrastive"``,
``batch_sampler="mixed"``) builds ``ProsodyContrastiveModel``, copies the stage-1 encoder into its
text tower (``init_from``) and trains everything jointly; stage 3 is stage 2 with
``batch_sampler="same"`` starting from a stage-2 model directory. Every stage leaves a model
directory (``output_dir``) that ``AutoModel``/``AutoProcessor.from_pretrained`` load.
``stage="tts"`` trains Grad-TTS (:mod:`.tts_stage`), ``stage="vocoder"`` HiFi-GAN (:mod:`.vocoder_stage`),
``stage="recognizer"`` the CTC phoneme recogniser of the evaluation (:mod:`.recognizer_stage`),
``stage="aligner"`` the phoneme aligner that gives any transcribed corpus durations (:mod:`.aligner_stage`),
``stage="mel_vae"`` the Mel-VAE (:mod:`.mel_vae_stage`) and ``stage="latent_tts"`` the latent-diffusion
head over it (:mod:`.latent_tts_stage`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser, TrainingArguments, set_seed

from ..constants import SPEAKER_MAP_FILE, TRAINER_STATE_FILE

logger = logging.getLogger(__name__)

__all__ = ["DataArguments", "ModelArguments", "StageArguments", "StageResult", "parse_recipe", "run_recipe", "run_stage"]

STAGES = ("mlm", "contrastive", "tts", "vocoder", "recognizer", "aligner", "mel_vae", "latent_tts")
VOCODER_FEATURES = ("ground_truth", "tts")
TTS_PRESETS = ("tiny", "paper")
CORPORA = ("embedded", "festvox_ru", "manifest")
SIZES = ("tiny", "base")
AUDIO_PRESETS = ("tiny", "small", "default")
VAE_PRESETS = ("tiny", "base")


@dataclass
class ModelArguments:
    """Which model a stage builds or continues from."""

    model_size: str = field(default="tiny", metadata={"help": f"text encoder preset, one of {SIZES}"})
    audio_preset: str = field(default="tiny", metadata={"help": f"ECAPA-TDNN preset, one of {AUDIO_PRESETS}"})
    init_from: str | None = field(
        default=None,
        metadata={
            "help": "stage 2: a stage-1 (MLM) model dir whose encoder is copied into the text tower; "
            "stage 3: a stage-2 (contrastive) model dir to continue from; None: from scratch"
        },
    )
    speaker_source: str = field(default="audio", metadata={"help": "contrastive: 'audio', 'ids' or 'none'"})
    projection_dim: int | None = field(default=None, metadata={"help": "contrastive embedding size (preset default)"})
    text_overrides: str | None = field(default=None, metadata={"help": "JSON dict of DualStreamConfig fields"})
    audio_overrides: str | None = field(default=None, metadata={"help": "JSON dict of EcapaTdnnConfig fields"})
    tts_text_encoder: str = field(
        default="dual_stream", metadata={"help": "tts: 'dual_stream' (ours, init_from any stage) or 'grad_tts' (faithful)"}
    )
    tts_preset: str = field(
        default="tiny", metadata={"help": f"tts / latent_tts: the head's sizes (decoder, predictor, DiT), one of {TTS_PRESETS}"}
    )
    freeze_encoder: bool = field(default=False, metadata={"help": "tts: keep the dual-stream encoder fixed"})
    tts_overrides: str | None = field(default=None, metadata={"help": "JSON dict of GradTTSConfig fields"})
    vocoder_preset: str = field(
        default="tiny", metadata={"help": "vocoder: HiFi-GAN size, 'tiny', 'v1', 'v2' or 'v3' (init_from: a generator or a vocoder training dir)"}
    )
    vocoder_overrides: str | None = field(default=None, metadata={"help": "JSON dict of HifiGanConfig fields"})
    recognizer_preset: str = field(default="small", metadata={"help": "recognizer: 'tiny', 'small' or 'base'"})
    recognizer_overrides: str | None = field(default=None, metadata={"help": "JSON dict of PhonemeRecognizerConfig fields"})
    aligner_preset: str = field(default="small", metadata={"help": "aligner: 'tiny', 'small' or 'base'"})
    aligner_overrides: str | None = field(default=None, metadata={"help": "JSON dict of PhonemeAlignerConfig fields"})
    vae_model: str | None = field(default=None, metadata={"help": "latent_tts: the trained Mel-VAE directory (stage mel_vae)"})
    vae_preset: str = field(default="tiny", metadata={"help": f"mel_vae: the Mel-VAE size, one of {VAE_PRESETS}"})
    vae_overrides: str | None = field(default=None, metadata={"help": "JSON dict of MelVaeConfig fields"})
    latent_overrides: str | None = field(default=None, metadata={"help": "JSON dict of LatentDiffusionTTSConfig fields"})


@dataclass
class DataArguments:
    """Where the training data comes from."""

    corpus: str = field(
        default="embedded",
        metadata={"help": "'embedded' (corpus_dir: a folder with train.jsonl / heldout.jsonl, from prosody-tts corpus build "
                  "or prosody-tts align), 'festvox_ru' (corpus_dir: its voice folder or default) or 'manifest' "
                  "(corpus_dir: one .jsonl/.csv/.parquet manifest; every 10th row held out)"},
    )
    corpus_dir: str | None = field(
        default=None, metadata={"help": "an embedded corpus directory (prosody-tts corpus build --out DIR)"}
    )
    train_split: str = field(default="train", metadata={"help": "split of corpus_dir to train on"})
    eval_split: str = field(default="heldout", metadata={"help": "split evaluated by retrieval after training"})
    prepared_dir: str | None = field(
        default=None, metadata={"help": "cache of prepared rows (mels + tokens); default <output_dir>/../prepared"}
    )
    text_file: str | None = field(
        default=None, metadata={"help": "stage 1 only: a UTF-8 file, one text per line, instead of the corpus"}
    )
    text_corpus: str | None = field(
        default=None,
        metadata={"help": "stage 1 only: stream a registered text corpus (wikipedia_ru, fineweb2_ru) instead"},
    )
    text_data_files: str | None = field(
        default=None, metadata={"help": "local files (comma-separated) in text_corpus' layout instead of the Hub"}
    )
    shuffle_buffer: int = field(default=10_000, metadata={"help": "streamed texts/corpora: shuffle buffer before sharding"})
    stream_corpus: str | None = field(
        default=None,
        metadata={"help": "stages 2/3: stream a registered speech corpus (golos_crowd, common_voice_ru, ...) or "
                  "'manifest' instead of corpus_dir's train split (needs max_steps)"},
    )
    stream_data_files: str | None = field(
        default=None, metadata={"help": "local files (comma-separated) in stream_corpus' layout instead of the Hub"}
    )
    aligner: str | None = field(
        default=None, metadata={"help": "stages 2/3: an aligner dir that gives streamed examples durations on the fly"}
    )
    stream_buffer_size: int = field(default=256, metadata={"help": "streamed occurrence batches: utterances buffered"})


@dataclass
class StageArguments:
    """What the stage does."""

    stage: str = field(default="mlm", metadata={"help": f"one of {STAGES}"})
    batch_sampler: str = field(default="mixed", metadata={"help": "contrastive: 'mixed' (stage 2) or 'same' (stage 3)"})
    max_per_phoneme: int = field(default=1, metadata={"help": "mixed sampler: occurrences per identity per batch"})
    max_per_utterance: int | None = field(default=None, metadata={"help": "mixed sampler: occurrences per utterance"})
    min_segment_frames: int = field(default=1, metadata={"help": "skip occurrences shorter than this many frames"})
    whole_word: bool = field(default=False, metadata={"help": "MLM: mask whole words"})
    evaluate_retrieval: bool = field(default=True, metadata={"help": "contrastive: R@1 on eval_split after training"})
    num_candidates: int = field(default=32, metadata={"help": "retrieval candidates per anchor (N)"})
    retrieval_seed: int = field(default=0, metadata={"help": "seed of the retrieval distractors"})
    show_progress: bool = field(default=True, metadata={"help": "progress bars for preparation and evaluation"})
    max_frames: int = field(default=4000, metadata={"help": "tts: padded mel frames per batch on each rank"})
    sample_every_steps: int = field(default=0, metadata={"help": "tts: log a held-out synthesis to TensorBoard (0 = never)"})
    evaluate_spectrograms: bool = field(default=True, metadata={"help": "tts: held-out mel L1 and duration error after training"})
    eval_timesteps: int = field(default=10, metadata={"help": "tts: reverse steps of the held-out evaluation"})
    segment_size: int = field(default=8192, metadata={"help": "vocoder: samples per training window (a multiple of the hop)"})
    vocoder_features: str = field(
        default="ground_truth",
        metadata={"help": f"vocoder: train on {VOCODER_FEATURES[0]!r} mels or on 'tts' mels of tts_model (teacher-forced)"},
    )
    tts_model: str | None = field(default=None, metadata={"help": "vocoder: the Grad-TTS dir whose mels to train on"})
    lr_decay: float = field(default=0.999, metadata={"help": "vocoder: both rates × lr_decay every lr_decay_steps"})
    lr_decay_steps: int = field(default=1000, metadata={"help": "vocoder: steps between two decays (the original: an epoch)"})
    evaluate_copy_synthesis: bool = field(
        default=True, metadata={"help": "vocoder: held-out copy-synthesis mel L1 / MCD, against Griffin-Lim"}
    )
    evaluate_recognizer: bool = field(default=True, metadata={"help": "recognizer: PER on the eval split's ground truth"})
    evaluate_alignment: bool = field(default=True, metadata={"help": "aligner: boundary errors on the eval split's timings"})
    latent_stats_rows: int = field(default=256, metadata={"help": "mel_vae / latent_tts: training rows the mel / latent statistics are measured on"})


@dataclass
class StageResult:
    """What a stage produced."""

    output_dir: str
    train_metrics: dict[str, Any]
    retrieval: dict[str, Any] | None = None
    log_history: list[dict[str, Any]] = field(default_factory=list)
    #: the rank that ran it (only rank 0 prints or writes summaries)
    process_index: int = 0
    #: tts: held-out spectrogram errors (``evaluation.spectrograms.SpectrogramErrors.to_dict()``)
    spectrogram_errors: dict[str, Any] | None = None
    #: vocoder: held-out copy-synthesis scores per vocoder (``CopySynthesisScores.to_dict()``)
    copy_synthesis: dict[str, Any] | None = None
    #: recognizer: phoneme error rate on held-out ground truth (``evaluation.recognition``)
    phoneme_error_rate: dict[str, Any] | None = None
    #: aligner: boundary errors on the eval split (``evaluation.alignment_accuracy``)
    alignment_accuracy: dict[str, Any] | None = None


def parse_recipe(
    path_or_args: str | list[str] | None = None,
) -> tuple[ModelArguments, DataArguments, StageArguments, TrainingArguments]:
    """(ModelArguments, DataArguments, StageArguments, TrainingArguments) from a .json/.yaml file or argv."""
    parser = HfArgumentParser((ModelArguments, DataArguments, StageArguments, TrainingArguments))
    if isinstance(path_or_args, list) and path_or_args and path_or_args[0].endswith((".json", ".yaml", ".yml")):
        # a recipe file, then --field value overrides: the file's fields become flags the overrides follow
        return parser.parse_args_into_dataclasses(args=[*_recipe_flags(path_or_args[0]), *path_or_args[1:]])
    if isinstance(path_or_args, str) and path_or_args.endswith(".json"):
        return parser.parse_json_file(path_or_args)
    if isinstance(path_or_args, str) and path_or_args.endswith((".yaml", ".yml")):
        return parser.parse_yaml_file(path_or_args)
    return parser.parse_args_into_dataclasses(args=path_or_args)


def _recipe_flags(path: str) -> list[str]:
    """A recipe file's fields as ``--field value`` flags (lists as several values, nulls left out)."""
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".json"):
        values = json.loads(text)
    else:
        import yaml

        values = yaml.safe_load(text)
    flags: list[str] = []
    for name, value in values.items():
        if value is None or value == []:
            continue
        items = value if isinstance(value, list) else [value]
        flags += [f"--{name}", *(str(item).lower() if isinstance(item, bool) else str(item) for item in items)]
    return flags


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _text_config(model_args: ModelArguments, processor: Any) -> Any:
    from ..configuration.dual_stream import DualStreamConfig

    overrides = json.loads(model_args.text_overrides) if model_args.text_overrides else {}
    overrides.setdefault("phoneme_vocab_size", len(processor.tokenizer))
    overrides.setdefault("bpe_vocab_size", len(processor.bpe_tokenizer))
    return DualStreamConfig.tiny(**overrides) if model_args.model_size == "tiny" else DualStreamConfig(**overrides)


def _audio_config(model_args: ModelArguments, processor: Any) -> Any:
    from ..configuration.ecapa_tdnn import EcapaTdnnConfig

    overrides = json.loads(model_args.audio_overrides) if model_args.audio_overrides else {}
    overrides.setdefault("num_mel_bins", int(processor.feature_extractor.feature_size))
    preset = {"tiny": EcapaTdnnConfig.tiny, "small": EcapaTdnnConfig.small, "default": EcapaTdnnConfig}
    return preset[model_args.audio_preset](**overrides)


def _prepared(
    data_args: DataArguments,
    training_args: TrainingArguments,
    processor: Any,
    split: str,
    show: bool,
    all_ranks: bool = True,
    require_durations: bool = True,
) -> Any:
    """The prepared split (cached). ``all_ranks``: every rank calls this (the main one prepares, the
    others wait at a barrier and read the cache); ``False`` when only the main process calls it.
    ``require_durations=False`` keeps examples without phoneme timings (Grad-TTS aligns by itself)."""
    from contextlib import nullcontext

    from ..data.prepared import prepare_corpus

    source = _source(data_args, split)
    root = Path(data_args.prepared_dir or Path(training_args.output_dir).parent / "prepared")
    order = training_args.main_process_first(desc=f"prepare {split}") if all_ranks else nullcontext()
    with order:
        return prepare_corpus(
            source,
            processor,
            cache_dir=root / split,
            show_progress=show and training_args.process_index == 0,
            desc=f"preparing {split}",
            require_durations=require_durations,
        )


def _source(data_args: DataArguments, split: str) -> Any:
    """The canonical examples of ``split`` of the recipe's corpus (audio undecoded)."""
    _check_choice("corpus", data_args.corpus, CORPORA)
    if data_args.corpus == "festvox_ru":
        from ..data.sources.festvox import festvox_split, load_festvox_ru

        return festvox_split(load_festvox_ru(data_args.corpus_dir), split)
    if data_args.corpus == "manifest":
        from ..data.sources.local import manifest_split

        if data_args.corpus_dir is None:
            raise ValueError("corpus='manifest' needs corpus_dir: the manifest file")
        return manifest_split(data_args.corpus_dir, split)
    from ..data.sources.embedded import load_embedded_corpus

    if data_args.corpus_dir is None:
        raise ValueError("DataArguments.corpus_dir is required (an embedded corpus: prosody-tts corpus build)")
    return load_embedded_corpus(data_args.corpus_dir, split)


def _transcribed_train_rows(
    model_args: ModelArguments, data_args: DataArguments, stage_args: StageArguments, training_args: TrainingArguments,
    processor: Any,
) -> tuple[Any, Any]:
    """``(processor, prepared train rows)`` for a stage that needs transcripts, not durations
    (the recogniser, the aligner, the TTS heads, the Mel-VAE); seeded first, since the model is built before the Trainer."""
    processor = processor or _processor(model_args)
    set_seed(training_args.seed)
    train = _prepared(data_args, training_args, processor, data_args.train_split, stage_args.show_progress, require_durations=False)
    return processor, train


def _text_stream(data_args: DataArguments, training_args: TrainingArguments, processor: Any) -> Any:
    """A registered text corpus, streamed, shuffled and sharded per rank, tokenised on the fly."""
    from ..data.sharding import shard_for_rank
    from ..data.sources.adapters import load_corpus
    from ..data.text_stream import TextTokenStream

    if training_args.max_steps <= 0:
        raise ValueError("a streamed text corpus has no length: set max_steps")
    files = data_args.text_data_files.split(",") if data_args.text_data_files else None
    source = load_corpus(data_args.text_corpus, split=data_args.train_split, streaming=True, data_files=files)
    sharded = shard_for_rank(
        source, training_args.process_index, training_args.world_size, training_args.seed, data_args.shuffle_buffer
    )
    return TextTokenStream(sharded, processor)


def _processor(model_args: ModelArguments) -> Any:
    from ..processing.processing_dual_stream import DualStreamProcessor

    if model_args.init_from and (Path(model_args.init_from) / "processor_config.json").is_file():
        return DualStreamProcessor.from_pretrained(model_args.init_from)
    return DualStreamProcessor.from_defaults()


def _train_and_save(trainer: Any, training_args: TrainingArguments, processor: Any) -> Any:
    """Train (resuming when asked), then save the model, and on the main process the processor and
    the Trainer's log (``trainer_state.json``: the loss curves) beside it."""
    output = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model()
    if trainer.is_world_process_zero():
        processor.save_pretrained(training_args.output_dir)
        trainer.state.save_to_json(str(Path(training_args.output_dir) / TRAINER_STATE_FILE))
    return output


def run_mlm_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Stage 1: ``DualStreamForMaskedLM`` on the corpus' texts (or ``text_file``)."""
    from datasets import Dataset

    from ..data.text_stream import encode_text
    from ..modeling.dual_stream import DualStreamForMaskedLM
    from .mlm import MaskedLMTrainer

    processor = processor or _processor(model_args)
    set_seed(training_args.seed)  # the model is built before the Trainer, which seeds only then
    if model_args.init_from:
        model = DualStreamForMaskedLM.from_pretrained(model_args.init_from)
    else:
        model = DualStreamForMaskedLM(_text_config(model_args, processor))
    if data_args.text_corpus:
        train = _text_stream(data_args, training_args, processor)
    elif data_args.text_file:
        texts = [line.strip() for line in Path(data_args.text_file).read_text(encoding="utf-8").splitlines()]
        rows = [encode_text(processor, text) for text in texts if text]
        train = Dataset.from_list(rows)
    else:
        train = _prepared(data_args, training_args, processor, data_args.train_split, stage_args.show_progress)
    trainer = MaskedLMTrainer(
        model=model, args=training_args, train_dataset=train, processor=processor, whole_word=stage_args.whole_word
    )
    output = _train_and_save(trainer, training_args, processor)
    return StageResult(training_args.output_dir, output.metrics, None, trainer.state.log_history)


def build_contrastive_model(model_args: ModelArguments, processor: Any) -> tuple[Any, str]:
    """A new ``ProsodyContrastiveModel`` (stage-1 encoder copied in) or a stage-2 one to continue."""
    from ..configuration.contrastive import ProsodyContrastiveConfig
    from ..modeling.contrastive import ProsodyContrastiveModel, load_stage1_weights

    _check_choice("speaker_source", model_args.speaker_source, ("audio", "ids", "none"))
    init = Path(model_args.init_from) if model_args.init_from else None
    if init is not None and json.loads((init / "config.json").read_text())["model_type"] == ProsodyContrastiveConfig.model_type:
        return ProsodyContrastiveModel.from_pretrained(init), "continued from a contrastive model"
    text_config = _text_config(model_args, processor)
    if init is not None:  # the stage-1 encoder decides the text sizes
        from ..configuration.dual_stream import DualStreamConfig

        text_config = DualStreamConfig.from_pretrained(init)
    audio_config = _audio_config(model_args, processor)
    text_config.external_speaker_dim = audio_config.embedding_dim if model_args.speaker_source == "audio" else 0
    values: dict[str, Any] = dict(text_config=text_config, audio_config=audio_config, speaker_source=model_args.speaker_source)
    if model_args.projection_dim is not None:
        values["projection_dim"] = model_args.projection_dim
    elif model_args.model_size == "tiny":
        values["projection_dim"] = ProsodyContrastiveConfig.tiny().projection_dim
    model = ProsodyContrastiveModel(ProsodyContrastiveConfig(**values))
    if init is None:
        return model, "from scratch"
    loaded = load_stage1_weights(model, init)
    if loaded.unexpected_keys:
        raise ValueError(f"stage-1 checkpoint has keys the text tower lacks: {loaded.unexpected_keys[:5]}")
    return model, f"text tower from stage 1 ({len(loaded.loaded_keys)} tensors; new: {len(loaded.missing_keys)})"


def run_contrastive_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Stage 2 (mixed batches) or 3 (same-phoneme batches), then retrieval on ``eval_split``."""
    from ..data.occurrences import OccurrenceDataset, occurrence_index
    from .contrastive import ContrastiveTrainer

    processor = processor or _processor(model_args)
    set_seed(training_args.seed)  # the model is built before the Trainer, which seeds only then
    model, origin = build_contrastive_model(model_args, processor)
    logger.info("contrastive model: %s", origin)
    callbacks = []
    if data_args.stream_corpus:
        from ..data.stream_state import OccurrenceStreamStateCallback
        from .contrastive_stream import restore_for_resume, streamed_occurrence_batches

        if model.config.speaker_source == "ids":
            raise ValueError("a streamed corpus has no fixed speaker list: use speaker_source 'audio' or 'none'")
        dataset, _ = streamed_occurrence_batches(data_args, stage_args, training_args, processor)
        restore_for_resume(dataset, training_args)
        callbacks.append(OccurrenceStreamStateCallback(dataset))
        speaker_to_id: dict[str, int] = {}
    else:
        train = _prepared(data_args, training_args, processor, data_args.train_split, stage_args.show_progress)
        dataset = OccurrenceDataset(train, occurrence_index(train, min_frames=stage_args.min_segment_frames))
        speaker_to_id = {speaker: i for i, speaker in enumerate(train.speakers)}
    if model.config.speaker_source == "ids" and model.config.text_config.num_speakers < len(speaker_to_id):
        raise ValueError(
            f"text_config.num_speakers = {model.config.text_config.num_speakers} < {len(speaker_to_id)} speakers in the corpus"
        )
    trainer = ContrastiveTrainer(
        model=model,
        args=training_args,
        callbacks=callbacks,
        train_dataset=dataset,
        processor=processor,
        batch_sampler=stage_args.batch_sampler,
        max_per_phoneme=stage_args.max_per_phoneme,
        max_per_utterance=stage_args.max_per_utterance,
        speaker_to_id=speaker_to_id if model.config.speaker_source == "ids" else None,
    )
    output = _train_and_save(trainer, training_args, processor)
    retrieval = None
    if trainer.is_world_process_zero():
        if speaker_to_id and model.config.speaker_source == "ids":
            Path(training_args.output_dir, SPEAKER_MAP_FILE).write_text(json.dumps(speaker_to_id, indent=2), encoding="utf-8")
        if stage_args.evaluate_retrieval and data_args.stream_corpus and data_args.corpus_dir is None \
                and data_args.corpus != "festvox_ru":  # fmt: skip
            logger.info("retrieval skipped: a streamed corpus has no held-out split here (set corpus_dir)")
        elif stage_args.evaluate_retrieval:
            from ..evaluation.retrieval import evaluate_retrieval

            heldout = _prepared(
                data_args, training_args, processor, data_args.eval_split, stage_args.show_progress, all_ranks=False
            )
            result = evaluate_retrieval(
                trainer.model,
                heldout,
                num_candidates=stage_args.num_candidates,
                seed=stage_args.retrieval_seed,
                show_progress=stage_args.show_progress,
                speaker_to_id=speaker_to_id if model.config.speaker_source == "ids" else None,
            )
            retrieval = result.to_dict()
            Path(training_args.output_dir, "retrieval.json").write_text(json.dumps(retrieval, indent=2), encoding="utf-8")
    return StageResult(training_args.output_dir, output.metrics, retrieval, trainer.state.log_history)


def run_stage(
    model_args: ModelArguments,
    data_args: DataArguments,
    stage_args: StageArguments,
    training_args: TrainingArguments,
    processor: Any = None,
) -> StageResult:
    """Run the stage a recipe names."""
    _check_choice("stage", stage_args.stage, STAGES)
    _check_choice("model_size", model_args.model_size, SIZES)
    _check_choice("audio_preset", model_args.audio_preset, AUDIO_PRESETS)
    if stage_args.stage == "tts":
        from .tts_stage import run_tts_stage

        run = run_tts_stage
    elif stage_args.stage == "vocoder":
        from .vocoder_stage import run_vocoder_stage

        run = run_vocoder_stage
    elif stage_args.stage == "recognizer":
        from .recognizer_stage import run_recognizer_stage

        run = run_recognizer_stage
    elif stage_args.stage == "aligner":
        from .aligner_stage import run_aligner_stage

        run = run_aligner_stage
    elif stage_args.stage == "mel_vae":
        from .mel_vae_stage import run_mel_vae_stage

        run = run_mel_vae_stage
    elif stage_args.stage == "latent_tts":
        from .latent_tts_stage import run_latent_tts_stage

        run = run_latent_tts_stage
    else:
        run = run_mlm_stage if stage_args.stage == "mlm" else run_contrastive_stage
    result = run(model_args, data_args, stage_args, training_args, processor)
    result.process_index = training_args.process_index
    return result


def run_recipe(argv: str | list[str]) -> StageResult:
    """A recipe file (``.json`` / ``.yaml``), optionally followed by ``--flag value`` overrides, or
    ``--flag value`` arguments alone → one trained stage."""
    args = [argv] if isinstance(argv, str) else list(argv)
    recipe = args[0] if len(args) == 1 and args[0].endswith((".json", ".yaml", ".yml")) else args
    return run_stage(*parse_recipe(recipe))
