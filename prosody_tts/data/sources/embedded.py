"""An offline, deterministic, multi-speaker Russian corpus synthesised by espeak-ng, with exact timings.

:func:`build_embedded_corpus` reads the packaged sentences (:func:`~.sentences.load_sentences`)
with several espeak-ng voices. espeak pronounces **our** front-end's phonemes (fed as phoneme
input, :func:`~.espeak_synth.to_espeak_phonemes`), so the stored ``phonemes`` are exactly
``RussianFrontend()(text).phonemes`` and ``phoneme_durations`` come from espeak's own phoneme
events (:func:`~.espeak_synth.align_events`). It is a corpus for demos, tests and pipeline checks:
espeak's voice is robotic, and nothing trained on it says anything about speech quality.

Layout of ``out_dir``: ``wavs/<id>.wav`` (int16, 22,050 Hz), ``train.jsonl`` and ``heldout.jsonl``
(canonical examples, audio paths relative to the manifest) and ``corpus.json`` (summary).
See ``docs/embedded_corpus.md``.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..schema import FIELDS, make_example, validate_example
from . import espeak_synth
from .sentences import HELDOUT_PERCENT, load_sentences

#: espeak-ng's output rate, at which the wavs are written.
SAMPLING_RATE = espeak_synth.SAMPLING_RATE
SPLITS = ("train", "heldout")
#: Per-utterance variation around a speaker's settings (prosodic variety).
RATE_JITTER = 0.08
PITCH_JITTER = 6
RANGE_JITTER = 10
#: Utterances per synthesis shard. Each shard runs, in plan order, in a freshly forked process
#: (see :func:`_synthesize_shard`), so its bytes depend on the plan alone, not on scheduling.
SHARD_SIZE = 20


@dataclass(frozen=True)
class SpeakerVoice:
    """One corpus speaker: an espeak voice variant with its base rate (wpm), pitch and range (0-100)."""

    speaker: str
    voice: str
    pitch: int
    pitch_range: int
    rate: int


#: Speakers in the order they are taken (``speakers=K`` takes the first K). The first five are
#: acoustically distinct espeak variants; the last three reuse a variant with another pitch/rate.
SPEAKERS: tuple[SpeakerVoice, ...] = (
    SpeakerVoice("espeak_f1", "ru+f1", pitch=55, pitch_range=60, rate=165),
    SpeakerVoice("espeak_m7", "ru+m7", pitch=40, pitch_range=50, rate=160),
    SpeakerVoice("espeak_klatt4", "ru+klatt4", pitch=50, pitch_range=55, rate=170),
    SpeakerVoice("espeak_annie", "ru+Annie", pitch=50, pitch_range=50, rate=165),
    SpeakerVoice("espeak_whisper", "ru+whisper", pitch=50, pitch_range=50, rate=150),
    SpeakerVoice("espeak_f1_high", "ru+f1", pitch=75, pitch_range=70, rate=185),
    SpeakerVoice("espeak_m7_low", "ru+m7", pitch=25, pitch_range=40, rate=145),
    SpeakerVoice("espeak_klatt4_slow", "ru+klatt4", pitch=35, pitch_range=65, rate=135),
)


@dataclass
class CorpusSummary:
    """What :func:`build_embedded_corpus` wrote (also saved as ``corpus.json``)."""

    out_dir: str
    seed: int
    counts: dict[str, int]
    hours: dict[str, float]
    speakers: list[dict[str, Any]]
    alignment_paths: dict[str, int]
    tolerated: dict[str, int]
    skipped: list[dict[str, str]]
    build_seconds: float
    size_bytes: int
    versions: dict[str, str]
    content_sha256: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def frame_hop_length() -> int:
    """The mel hop (samples) the durations are counted in: the default feature extractor's.

    Its sampling rate must be espeak's (the wavs are written at that rate, so a frame count at
    another rate would not match the mels the feature extractor computes).
    """
    from ...processing.feature_extraction import MelFeatureExtractor

    extractor = MelFeatureExtractor()
    if int(extractor.sampling_rate) != SAMPLING_RATE:
        raise ValueError(
            f"the feature extractor runs at {extractor.sampling_rate} Hz but espeak writes {SAMPLING_RATE} Hz: "
            "the durations would not match its frames"
        )
    return int(extractor.hop_length)


# --------------------------------------------------------------------------- planning
def _count_heldout(utterances: int) -> int:
    if utterances < 2:
        return 0
    return max(1, round(utterances * HELDOUT_PERCENT / 100))


def _sample(rng: random.Random, pool: list[str], n: int) -> list[str]:
    """``n`` texts without repeats while the pool lasts, then further shuffled passes."""
    texts: list[str] = []
    while len(texts) < n:
        texts.extend(rng.sample(pool, min(len(pool), n - len(texts))))
    return texts


def plan_corpus(utterances_per_speaker: int, speakers: int, seed: int) -> list[dict[str, Any]]:
    """The seeded list of utterances to synthesise (id, split, speaker, voice settings, text)."""
    pools = {split: load_sentences(split) for split in SPLITS}
    jobs = []
    for speaker in SPEAKERS[:speakers]:
        rng = random.Random(f"embedded:{seed}:{speaker.speaker}")
        n_heldout = _count_heldout(utterances_per_speaker)
        for split, n in (("train", utterances_per_speaker - n_heldout), ("heldout", n_heldout)):
            for index, text in enumerate(_sample(rng, pools[split], n)):
                jobs.append(
                    {
                        "id": f"{split}_{speaker.speaker}_{index:04d}",
                        "split": split,
                        "speaker": speaker.speaker,
                        "voice": speaker.voice,
                        "rate": round(speaker.rate * rng.uniform(1 - RATE_JITTER, 1 + RATE_JITTER)),
                        "pitch": min(99, max(0, speaker.pitch + rng.randint(-PITCH_JITTER, PITCH_JITTER))),
                        "pitch_range": min(
                            99, max(0, speaker.pitch_range + rng.randint(-RANGE_JITTER, RANGE_JITTER))
                        ),
                        "text": text,
                    }
                )
    return jobs


def plan_shards(jobs: list[dict[str, Any]], shard_size: int = SHARD_SIZE) -> list[list[dict[str, Any]]]:
    """Cut the jobs into synthesis shards: runs of ``shard_size`` within one speaker's split, in plan order.

    The shards are a function of the plan only, so which worker takes which shard (the process
    scheduling) cannot change what any shard synthesises.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    shards: list[list[dict[str, Any]]] = []
    previous = None
    for job in jobs:
        key = (job["speaker"], job["split"])
        if key != previous or len(shards[-1]) == shard_size:
            shards.append([])
            previous = key
        shards[-1].append(job)
    return shards


# --------------------------------------------------------------------------- worker side
_SYNTHESIZER: espeak_synth.EspeakSynthesizer | None = None


def _synthesize_shard(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Synthesise one shard (a speaker's split, in plan order) in a forked child with a pristine espeak.

    espeak-ng keeps static synthesis state (pitch flutter, wave phase, noise) across utterances that
    neither ``espeak_Terminate`` nor re-initialisation resets, so an utterance's samples depend on
    what the process synthesised before. A fresh fork per shard makes that history a function of
    the plan alone, hence the same bytes whatever the number of workers or the scheduling.
    """
    if not hasattr(os, "fork"):  # pragma: no cover - Windows: deterministic only with workers=1
        return [_synthesize_job(job) for job in jobs]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        status = 0
        try:
            payload = pickle.dumps([_synthesize_job(job) for job in jobs])
            with os.fdopen(write_end, "wb") as handle:
                handle.write(payload)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        payload = handle.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return [
            {"id": job["id"], "split": job["split"], "error": f"synthesis process failed ({status})"}
            for job in jobs
        ]
    return pickle.loads(payload)


def _synthesize_job(job: dict[str, Any]) -> dict[str, Any]:
    """Synthesise one planned utterance, align it and write its wav; report a failure, never raise."""
    import soundfile as sf

    try:
        global _SYNTHESIZER
        if _SYNTHESIZER is None:
            _SYNTHESIZER = espeak_synth.EspeakSynthesizer()
        phonemes = job["phonemes"]
        waveform, events = _SYNTHESIZER.synthesize(
            espeak_synth.to_espeak_phonemes(phonemes),
            job["voice"],
            job["rate"],
            job["pitch"],
            job["pitch_range"],
        )
        alignment = espeak_synth.align_events(phonemes, events, len(waveform))
        hop_length = job["hop_length"]
        start, end, durations = espeak_synth.frame_durations(alignment.starts, alignment.end, hop_length)
        audio = waveform[start:end]
        num_frames = len(audio) // hop_length
        if num_frames == 0 or sum(durations) != num_frames:
            raise espeak_synth.AlignmentError(f"durations sum {sum(durations)} != {num_frames} frames")
        relative = f"wavs/{job['id']}.wav"
        sf.write(os.path.join(job["out_dir"], relative), audio, SAMPLING_RATE, subtype="PCM_16", format="WAV")
        example = make_example(
            job["id"], relative, job["text"], job["speaker"],
            stressed_text=job["stressed"], phonemes=list(phonemes), phoneme_durations=durations, source="embedded",
        )  # fmt: skip
        validate_example(example, num_frames=num_frames)
        tolerated = {
            name: getattr(alignment, name)
            for name in ("voicing_substitutions", "vowel_substitutions", "softness_differences", "epenthetic")
        }
        return {
            "id": job["id"],
            "split": job["split"],
            "example": example,
            "samples": len(audio),
            "tolerated": tolerated,
        }
    except Exception as error:  # reported in corpus.json, never swallowed
        return {"id": job["id"], "split": job["split"], "error": f"{type(error).__name__}: {error}"}


# --------------------------------------------------------------------------- build
def build_embedded_corpus(
    out_dir: str | os.PathLike,
    utterances_per_speaker: int = 300,
    speakers: int = 8,
    seed: int = 0,
    workers: int = 2,
    show_progress: bool = True,
) -> CorpusSummary:
    """Synthesise the embedded corpus into ``out_dir`` and return its summary.

    Deterministic for a seed: a rebuild writes the same wav and manifest bytes (``corpus.json``
    differs only in ``build_seconds``). Utterances that fail (front-end, espeak or alignment) are
    left out and listed in ``skipped`` with their reason.

    Args:
        utterances_per_speaker: per speaker, about ``HELDOUT_PERCENT`` % go to the held-out split.
        speakers: how many of :data:`SPEAKERS` to use (1-8).
        workers: synthesis processes (spawned; each forks a fresh child per shard of
            :data:`SHARD_SIZE` utterances, so the bytes do not depend on ``workers``).
    """
    if not 1 <= speakers <= len(SPEAKERS):
        raise ValueError(f"speakers must be between 1 and {len(SPEAKERS)}, got {speakers}")
    if utterances_per_speaker < 1:
        raise ValueError(f"utterances_per_speaker must be >= 1, got {utterances_per_speaker}")
    started = time.perf_counter()
    out = Path(out_dir)
    (out / "wavs").mkdir(parents=True, exist_ok=True)
    jobs = plan_corpus(utterances_per_speaker, speakers, seed)

    hop_length = frame_hop_length()
    results = _synthesize_all(jobs, out, hop_length, workers, show_progress)
    manifests, samples, tolerated, skipped, digest = _write_manifests(out, results)

    summary = CorpusSummary(
        out_dir=str(out.resolve()),
        seed=seed,
        counts={split: len(examples) for split, examples in manifests.items()},
        hours={split: round(samples[split] / SAMPLING_RATE / 3600, 4) for split in SPLITS},
        speakers=[asdict(speaker) for speaker in SPEAKERS[:speakers]],
        alignment_paths={"phoneme_input": sum(len(e) for e in manifests.values()), "skipped": len(skipped)},
        tolerated=dict(sorted(tolerated.items())),
        skipped=skipped,
        build_seconds=round(time.perf_counter() - started, 2),
        size_bytes=0,
        versions=_versions(),
        content_sha256=digest.hexdigest(),
        notes=[
            "phonemes are RussianFrontend()(text).phonemes; espeak pronounced them from phoneme input",
            f"durations: frames at hop {hop_length} (the feature extractor's) from espeak phoneme events; "
            "'#' 0 frames unless espeak paused there",
        ],
    )
    summary.size_bytes = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    (out / "corpus.json").write_text(
        json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    return summary


def _synthesize_all(
    jobs: list[dict[str, Any]], out: Path, hop_length: int, workers: int, show_progress: bool
) -> list[dict[str, Any]]:
    """Phonemise the planned texts, then synthesise every shard in the worker pool; one result per job."""
    from tqdm.auto import tqdm

    # start the workers first: their imports (~10 s) overlap the front-end below
    pool = multiprocessing.get_context("spawn").Pool(max(1, workers))
    try:
        phonemized, frontend_errors = _phonemize(sorted({job["text"] for job in jobs}), show_progress)
        results: list[dict[str, Any]] = []
        runnable = []
        for job in jobs:
            if job["text"] in frontend_errors:
                results.append(
                    {"id": job["id"], "split": job["split"], "error": frontend_errors[job["text"]]}
                )
                continue
            phonemes, stressed = phonemized[job["text"]]
            runnable.append(
                {**job, "phonemes": phonemes, "stressed": stressed, "out_dir": str(out), "hop_length": hop_length}
            )
        with tqdm(total=len(runnable), disable=not show_progress, desc="synthesise", unit="utt") as bar:
            for shard_results in pool.imap(_synthesize_shard, plan_shards(runnable)):
                results.extend(shard_results)
                bar.update(len(shard_results))
    finally:
        pool.close()
        pool.join()
    return results


def _write_manifests(
    out: Path, results: list[dict[str, Any]]
) -> tuple[dict[str, list[dict[str, Any]]], Counter[str], Counter[str], list[dict[str, str]], Any]:
    """Write ``train.jsonl`` / ``heldout.jsonl`` in id order; returns the manifests, samples per
    split, tolerated differences, the skipped utterances and the content digest (manifests + wavs)."""
    manifests: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    samples: Counter[str] = Counter()
    tolerated: Counter[str] = Counter()
    skipped = []
    for result in sorted(results, key=lambda item: item["id"]):
        if "error" in result:
            skipped.append({"id": result["id"], "reason": result["error"]})
            continue
        manifests[result["split"]].append(result["example"])
        samples[result["split"]] += result["samples"]
        tolerated.update(result["tolerated"])
    digest = hashlib.sha256()
    for split, examples in manifests.items():
        path = out / f"{split}.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            for example in examples:
                handle.write(json.dumps(example, ensure_ascii=False) + "\n")
        digest.update(path.read_bytes())
        for example in examples:
            digest.update((out / example["audio"]).read_bytes())
    return manifests, samples, tolerated, skipped, digest


def _phonemize(
    texts: list[str], show_progress: bool
) -> tuple[dict[str, tuple[list[str], str]], dict[str, str]]:
    """Front-end output (phonemes, stressed text) per unique text, and the texts it failed on."""
    from ...text.frontend import RussianFrontend

    frontend = RussianFrontend()
    try:
        outputs = dict(zip(texts, frontend.batch(texts, show_progress=show_progress), strict=True))
    except Exception:  # find the culprits one by one
        outputs = {}
        for text in texts:
            try:
                outputs[text] = frontend(text)
            except Exception as error:
                outputs[text] = f"front-end {type(error).__name__}: {error}"
    phonemized = {t: (o.phonemes, o.stressed) for t, o in outputs.items() if not isinstance(o, str)}
    errors = {t: o for t, o in outputs.items() if isinstance(o, str)}
    return phonemized, errors


def _versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for package in ("prosody-tts", "espeakng-loader"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    try:
        versions["espeak-ng"] = espeak_synth.EspeakSynthesizer().version
    except Exception as error:  # pragma: no cover - the build itself needed espeak
        versions["espeak-ng"] = f"unavailable ({error})"
    return versions


# --------------------------------------------------------------------------- load
def _read_manifest(corpus_dir: str | os.PathLike, split: str) -> Iterator[dict[str, Any]]:
    base = Path(corpus_dir).resolve()
    path = base / f"{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest {path}; build the corpus with build_embedded_corpus")
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                example = json.loads(line)
                example["audio"] = {"path": str(base / example["audio"]), "bytes": None}
                yield {name: example.get(name) for name in FIELDS}


def load_embedded_corpus(
    corpus_dir: str | os.PathLike, split: Literal["train", "heldout"] = "train", streaming: bool = False
):
    """The split as a 🤗 ``Dataset`` (``IterableDataset`` with ``streaming``) of canonical examples.

    Audio stays undecoded (``Audio(decode=False)``; with ``streaming`` the same
    ``{"bytes": None, "path": ...}`` values in a plain struct column, since datasets' streaming cast
    needs torchcodec): absolute wav paths; decode with :func:`~prosody_tts.data.schema.decode_example_audio`.
    """
    from datasets import Dataset, IterableDataset

    from ..schema import canonical_features

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    # datasets' Audio *encoder* needs torchcodec: build with a plain struct, then cast (no encoding)
    plain = canonical_features(audio="struct")
    if streaming:
        # streaming casts encode per example, so the audio column keeps the plain {bytes, path} struct
        return IterableDataset.from_generator(
            _read_manifest, features=plain, gen_kwargs={"corpus_dir": str(corpus_dir), "split": split}
        )
    return Dataset.from_list(list(_read_manifest(corpus_dir, split)), features=plain).cast(canonical_features())
