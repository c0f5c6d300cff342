"""festvox-ru: 620 real recordings of one male Russian speaker with phone labels.

The Debian package ``festvox-ru`` (``apt-get install festvox-ru``) ships the Festival voice
``msu_ru_nsh_clunits`` (BSD-like licence, © 2005 Nickolay V. Shmyrev) built from real speech:

* ``wav/ru_NNNN.wav`` — 16 kHz mono 16-bit PCM;
* ``etc/txt.done.data`` — ``( ru_NNNN "transcript" )`` lines; the transcripts mark the speaker's
  phrasing with extra commas and put ``+`` before the stressed vowel of *some* words (homographs);
* ``lab/ru_NNNN.lab`` — xwaves label files: a ``#`` header, then ``<end time> <colour> <phone>``
  per line; each phone starts where the previous one ended (the first at 0).

The package is optional: :func:`find_festvox_ru` raises :class:`FestvoxNotInstalled` with the
install command when it is absent.

Canonical mapping
-----------------
``id`` = ``ru_NNNN``, ``audio`` = absolute wav path, ``text`` = the transcript as written (``+``
kept), ``speaker`` = ``"festvox_msu_ru_nsh"``, ``source`` = ``"festvox_ru"``. ``stressed_text`` is
left None (only a few words are marked, so it is not a stressed transcript), and so are
``phonemes``/``phoneme_durations``: festvox's ``msu_ru`` phone set does not map cleanly onto our
inventory (two reduction levels ``a``/``ae``/``ay`` vs our ``ɐ``/``ə``/``ɪ``, no geminates, no word
boundaries or punctuation tokens, ``pau`` segments), so the labels are kept aside:
:attr:`FestvoxCorpus.labels` (``festvox_phones`` / ``festvox_durations_sec`` /
``festvox_starts_sec`` per id) and :func:`festvox_label_segments` (``(phone, start_s, end_s)``
from an example). :data:`FESTVOX_TO_IPA` is an *approximate* per-phone table for statistics only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..schema import make_example
from .local import path_features

__all__ = [
    "DEFAULT_VOICE_DIRS",
    "FESTVOX_SOURCE",
    "FESTVOX_SPEAKER",
    "FESTVOX_TO_IPA",
    "FestvoxCorpus",
    "FestvoxNotInstalled",
    "festvox_label_segments",
    "find_festvox_ru",
    "load_festvox_ru",
    "read_lab",
    "read_txt_done_data",
]

FESTVOX_SPEAKER = "festvox_msu_ru_nsh"
FESTVOX_SOURCE = "festvox_ru"
VOICE_NAME = "msu_ru_nsh_clunits"
#: Where Debian/Ubuntu put the voice (``dpkg -L festvox-ru``); ``$FESTVOX_RU_DIR`` is tried first.
DEFAULT_VOICE_DIRS: tuple[str, ...] = (
    "/usr/share/festival/voices/russian/msu_ru_nsh_clunits",
    "/usr/local/share/festival/voices/russian/msu_ru_nsh_clunits",
)
INSTALL_HINT = "festvox-ru is not installed: apt-get install festvox-ru"

#: Approximate festvox ``msu_ru`` phone → IPA-style inventory symbol. Reduction levels are folded
#: (first level after hard consonants → ɐ, second → ə, after soft → ɪ); ``pau`` → None. For
#: duration statistics only: it is NOT used to fill the canonical ``phonemes`` field.
FESTVOX_TO_IPA: dict[str, str | None] = {
    "pau": None,
    "aa": "ˈa", "oo": "ˈo", "uu": "ˈu", "ii": "ˈi", "yy": "ˈɨ", "ee": "ˈe",
    "a": "ɐ", "e": "ɪ", "i": "ɪ", "y": "ɨ", "u": "ʊ", "ae": "ə", "ay": "ɪ", "ur": "ʊ",
    "p": "p", "pp": "pʲ", "b": "b", "bb": "bʲ", "t": "t", "tt": "tʲ", "d": "d", "dd": "dʲ",
    "k": "k", "kk": "kʲ", "g": "g", "gg": "gʲ", "f": "f", "ff": "fʲ", "v": "v", "vv": "vʲ",
    "s": "s", "ss": "sʲ", "z": "z", "zz": "zʲ", "h": "x", "hh": "xʲ", "m": "m", "mm": "mʲ",
    "n": "n", "nn": "nʲ", "l": "l", "ll": "lʲ", "r": "r", "rr": "rʲ",
    "c": "ts", "ch": "tɕ", "sh": "ʂ", "zh": "ʐ", "sch": "ɕː", "j": "j",
}  # fmt: skip

_TXT_LINE = re.compile(r'^\(\s*(\S+)\s+"(.*)"\s*\)\s*$')


class FestvoxNotInstalled(FileNotFoundError):
    """The festvox-ru voice folder was not found."""


def find_festvox_ru(voice_dir: str | os.PathLike | None = None) -> Path:
    """The ``msu_ru_nsh_clunits`` folder: ``voice_dir``, ``$FESTVOX_RU_DIR`` or a Debian location.

    Raises:
        FestvoxNotInstalled: none of them holds ``etc/txt.done.data``, ``wav/`` and ``lab/``.
    """
    candidates = (
        [voice_dir] if voice_dir is not None else [os.environ.get("FESTVOX_RU_DIR"), *DEFAULT_VOICE_DIRS]
    )
    for candidate in candidates:
        if candidate and _is_voice_dir(Path(candidate)):
            return Path(candidate)
    where = os.fspath(voice_dir) if voice_dir is not None else ", ".join(DEFAULT_VOICE_DIRS)
    raise FestvoxNotInstalled(f"{INSTALL_HINT} (no {VOICE_NAME} voice in {where})")


def _is_voice_dir(path: Path) -> bool:
    return (path / "etc" / "txt.done.data").is_file() and (path / "wav").is_dir() and (path / "lab").is_dir()


def read_txt_done_data(path: str | os.PathLike) -> dict[str, str]:
    """``{utterance id: transcript}`` from a festvox ``txt.done.data`` (text as written, ``+`` kept)."""
    transcripts: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = _TXT_LINE.match(line.strip())
        if match is None:
            raise ValueError(f"{path}:{number}: not a '( id \"text\" )' line: {line!r}")
        transcripts[match.group(1)] = " ".join(match.group(2).split())
    return transcripts


def read_lab(path: str | os.PathLike) -> list[tuple[str, float, float]]:
    """``[(phone, start_s, end_s), …]`` from an xwaves ``.lab`` file (end times; first start 0)."""
    segments: list[tuple[str, float, float]] = []
    start = 0.0
    in_body = False
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not in_body:
            in_body = line.strip() == "#"
            continue
        if not fields:
            continue
        if len(fields) < 3:
            raise ValueError(f"{path}:{number}: expected '<end> <colour> <phone>', got {line!r}")
        end = float(fields[0])
        segments.append((fields[2], start, end))
        start = end
    if not in_body:
        raise ValueError(f"{path}: no '#' header line")
    return segments


@dataclass
class FestvoxCorpus:
    """The festvox-ru examples (canonical) and their phone labels kept aside.

    Attributes:
        voice_dir: the voice folder read.
        examples: canonical examples, in utterance order.
        labels: id → ``{"festvox_phones", "festvox_starts_sec", "festvox_durations_sec"}``.
    """

    voice_dir: Path
    examples: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.examples)

    def segments(self, utterance_id: str) -> list[tuple[str, float, float]]:
        """``[(phone, start_s, end_s), …]`` of one utterance."""
        label = self.labels[utterance_id]
        return [
            (phone, start, start + duration)
            for phone, start, duration in zip(
                label["festvox_phones"],
                label["festvox_starts_sec"],
                label["festvox_durations_sec"],
                strict=True,
            )
        ]

    def to_dataset(self):
        """A 🤗 ``Dataset`` of the canonical examples (audio as path strings)."""
        from datasets import Dataset

        return Dataset.from_list(self.examples, features=path_features())


def load_festvox_ru(voice_dir: str | os.PathLike | None = None, strict: bool = True) -> FestvoxCorpus:
    """Read festvox-ru into canonical examples plus side labels.

    Args:
        voice_dir: the ``msu_ru_nsh_clunits`` folder (default: found by :func:`find_festvox_ru`).
        strict: raise when a transcript has no wav or no lab file (else the utterance is skipped).

    Raises:
        FestvoxNotInstalled: the voice is not installed ("apt-get install festvox-ru").
    """
    root = find_festvox_ru(voice_dir)
    transcripts = read_txt_done_data(root / "etc" / "txt.done.data")
    corpus = FestvoxCorpus(voice_dir=root)
    missing = []
    for utterance_id, text in transcripts.items():
        wav, lab = root / "wav" / f"{utterance_id}.wav", root / "lab" / f"{utterance_id}.lab"
        if not wav.is_file() or not lab.is_file():
            missing.append(utterance_id)
            continue
        corpus.examples.append(
            make_example(
                id=utterance_id, audio=str(wav), text=text, speaker=FESTVOX_SPEAKER, source=FESTVOX_SOURCE
            )
        )
        segments = read_lab(lab)
        corpus.labels[utterance_id] = {
            "festvox_phones": [phone for phone, _, _ in segments],
            "festvox_starts_sec": [start for _, start, _ in segments],
            "festvox_durations_sec": [end - start for _, start, end in segments],
        }
    if missing and strict:
        raise FileNotFoundError(f"{root}: no wav or lab file for {len(missing)} utterance(s): {missing[:10]}")
    return corpus


#: Every how many utterances (in txt.done.data order) one goes to the held-out split.
HELDOUT_EVERY = 10


def festvox_split(corpus: FestvoxCorpus, split: str, every: int = HELDOUT_EVERY) -> list[dict[str, Any]]:
    """A fixed train / held-out split of festvox-ru: utterance ``i`` is held out when ``i % every == every - 1``."""
    if split not in ("train", "heldout"):
        raise ValueError(f"festvox-ru has the splits 'train' and 'heldout', got {split!r}")
    if every < 2:
        raise ValueError(f"every must be >= 2, got {every}")
    held = [i % every == every - 1 for i in range(len(corpus.examples))]
    return [ex for ex, h in zip(corpus.examples, held, strict=True) if h == (split == "heldout")]


def festvox_label_segments(example: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """``[(festvox phone, start_s, end_s), …]`` for a festvox-ru example, read from its ``.lab`` file.

    The label file is found next to the example's audio (``<voice>/wav/x.wav`` →
    ``<voice>/lab/x.lab``). Phones are festvox ``msu_ru`` names (``pau``, ``aa``, ``ll``…), not
    inventory symbols; see :data:`FESTVOX_TO_IPA` for an approximate mapping.
    """
    audio = example.get("audio")
    path = audio.get("path") if isinstance(audio, Mapping) else audio
    if not isinstance(path, str) or not path:
        raise ValueError(f"example {example.get('id')!r}: festvox label lookup needs the audio path")
    wav = Path(path)
    lab = wav.parent.parent / "lab" / f"{wav.stem}.lab"
    if not lab.is_file():
        raise FileNotFoundError(f"no festvox label file for {example.get('id')!r}: {lab}")
    return read_lab(lab)
