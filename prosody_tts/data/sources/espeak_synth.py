"""espeak-ng synthesis through ctypes, with phoneme events, and exact timings for OUR phonemes.

:class:`EspeakSynthesizer` drives the espeak-ng shared library shipped in the ``espeakng-loader``
wheel (an optional, GPL-3 dependency: ``pip install "prosody-tts[espeak]"``). espeak-ng keeps
global state and is not thread-safe: create **one synthesiser per process** (the corpus builder
gives each worker process its own) and never call it from two threads.

Timings
-------
:func:`to_espeak_phonemes` converts the front-end's phoneme sequence (inventory symbols, ``#``
and punctuation) into espeak's phoneme-input notation: each word becomes ``[[...]]`` with every
phoneme's mnemonic separated by ``|`` (so that ``t`` + ``s`` are not read as the affricate ``ts``,
or ``j`` + ``u`` as espeak's ``ju`` unit), unstressed vowels prefixed with ``%``, stressed ones with
``'``; punctuation is written as text between the words so espeak makes its clause pauses and
intonation there. The audio then pronounces our phonemes, and :func:`align_events` maps espeak's
phoneme events back onto our symbols one by one (see its docstring for the tolerated, counted
differences) or raises :class:`AlignmentError` when the correspondence breaks.
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ...text.inventory import PUNCTUATION, WORD_BOUNDARY, is_phoneme

SAMPLING_RATE = 22_050
_INSTALL_HINT = 'pip install "prosody-tts[espeak]"'

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES = 0x100
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_RATE, _PITCH, _RANGE = 1, 3, 4


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h (40 bytes on 64-bit Linux, checked at load)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class PhonemeEvent:
    """One espeak phoneme event: its mnemonic, start sample (22,050 Hz) and 1-based word char position."""

    mnemonic: str
    start_sample: int
    word_position: int


class EspeakError(RuntimeError):
    """espeak-ng failed (initialisation, unknown voice, synthesis error)."""


class EspeakSynthesizer:
    """ctypes wrapper of espeak-ng: text or ``[[phonemes]]`` → int16 waveform + phoneme events.

    espeak-ng is a process-global, thread-unsafe library: use one instance per process.
    """

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                f"EspeakSynthesizer needs the optional espeak-ng library (espeakng-loader); install it with: {_INSTALL_HINT}"
            ) from error
        self.library_path = espeakng_loader.get_library_path()
        self._lib = ctypes.CDLL(self.library_path)
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        rate = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), _INITIALIZE_PHONEME_EVENTS
        )
        if rate != SAMPLING_RATE:
            raise EspeakError(f"espeak_Initialize returned {rate}, expected {SAMPLING_RATE} Hz")
        self._chunks: list[bytes] = []
        self._events: list[PhonemeEvent] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: the library holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    @property
    def version(self) -> str:
        """espeak-ng's version string (e.g. ``1.52.0``)."""
        self._lib.espeak_Info.restype = ctypes.c_char_p
        return self._lib.espeak_Info(None).decode()

    def _on_audio(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(ctypes.string_at(wav, num_samples * 2))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                name = event.id.string.decode("utf-8", errors="replace")
                self._events.append(PhonemeEvent(name, int(event.sample), int(event.text_position)))
            index += 1
        return 0

    def synthesize(
        self,
        text_or_phonemes: str,
        voice: str = "ru",
        rate: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
    ) -> tuple[np.ndarray, list[PhonemeEvent]]:
        """Synthesise text (``[[...]]`` groups are read as espeak phoneme mnemonics).

        Args:
            voice: espeak voice name with optional variant (``"ru+f1"``).
            rate: words per minute (80-450); pitch, pitch_range: 0-100.

        Returns:
            ``(waveform, events)``: int16 mono at 22,050 Hz and the phoneme events in order.
        """
        if voice != self._voice:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"espeak-ng does not know the voice {voice!r}")
            self._voice = voice
        for parameter, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range)):
            self._lib.espeak_SetParameter(parameter, int(value), 0)
        self._chunks, self._events = [], []
        data = text_or_phonemes.encode("utf-8") + b"\0"
        status = self._lib.espeak_Synth(
            data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _PHONEMES, None, None
        )
        if status != 0:
            raise EspeakError(f"espeak_Synth failed with status {status} for {text_or_phonemes[:80]!r}")
        self._lib.espeak_Synchronize()
        waveform = np.frombuffer(b"".join(self._chunks), dtype=np.int16).copy()
        return waveform, list(self._events)


# --------------------------------------------------------------------------- our symbols → espeak
#: Inventory vowel (stress removed) → espeak mnemonic. ʊ has no espeak-ru phoneme: u.
VOWEL_MNEMONICS: dict[str, str] = {
    "a": "A", "o": "o", "u": "u", "i": "i", "ɨ": "y", "e": "e",
    "ɐ": "V", "ə": "@", "ɪ": "I", "ʊ": "u",
}  # fmt: skip
#: Inventory consonant base (no ʲ, no ː) → espeak mnemonic; soft consonants add ``;``.
CONSONANT_MNEMONICS: dict[str, str] = {
    "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "g": "g", "f": "f", "v": "v", "s": "s",
    "z": "z", "x": "x", "ɣ": "Q", "m": "m", "n": "n", "l": "l", "r": "r",
    "ʂ": "S", "ʐ": "Z", "ts": "ts", "tɕ": "tS;", "ɕ": "S;", "j": "j", "dʐ": "dZ", "dz": "d|z",
}  # fmt: skip
#: espeak splits these into several events (dz is not an espeak-ru phoneme).
_SPLIT_ATOMS = {"dz": ["d", "z"]}


def symbol_mnemonics(symbol: str) -> str:
    """espeak mnemonic(s) of one inventory phoneme, ``|``-separated (``nʲː`` → ``n;|n;``)."""
    if symbol.startswith("ˈ"):
        return "'" + VOWEL_MNEMONICS[symbol[1:]]
    if symbol in VOWEL_MNEMONICS:
        return "%" + VOWEL_MNEMONICS[symbol]
    long = symbol.endswith("ː")
    base = symbol.removesuffix("ː")
    soft = base.endswith("ʲ")
    base = base.removesuffix("ʲ")
    if base == "ɕ":  # щ: espeak's one S; phoneme is already long
        return "S;"
    mnemonic = CONSONANT_MNEMONICS[base] + (";" if soft else "")
    return f"{mnemonic}|{mnemonic}" if long else mnemonic


def to_espeak_phonemes(phonemes: Sequence[str]) -> str:
    """The espeak input that pronounces ``phonemes``: ``[[...]]`` per word, punctuation as text."""
    parts: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            parts.append("[[" + "|".join(word) + "]]")
            word.clear()

    for symbol in phonemes:
        if is_phoneme(symbol):
            word.append(symbol_mnemonics(symbol))
        elif symbol == WORD_BOUNDARY:
            flush()
            parts.append(" ")
        elif symbol in PUNCTUATION:
            flush()
            parts.append(symbol)
        else:
            raise ValueError(f"symbol {symbol!r} is not in the inventory")
    flush()
    return "".join(parts).strip()


# --------------------------------------------------------------------------- events → our symbols
_VOICING = {
    "p": "b", "t": "d", "k": "g", "f": "v", "s": "z", "S": "Z", "x": "Q", "tS": "dZ", "ts": "dz",
}  # fmt: skip
_VOICING.update({voiced: voiceless for voiceless, voiced in list(_VOICING.items())})
_VOWEL_START = set("aAoOuiyeEV@I8")
_PAUSES = ("_", "_:", "_!", "_^_")


class AlignmentError(ValueError):
    """espeak's events do not correspond to our phonemes (the utterance is left out)."""


@dataclass
class Alignment:
    """Per-symbol start samples and what was tolerated on the way."""

    starts: list[int]
    end: int
    voicing_substitutions: int = 0
    vowel_substitutions: int = 0
    softness_differences: int = 0
    epenthetic: int = 0
    notes: list[str] = field(default_factory=list)


def _parse(name: str) -> tuple[str, bool, bool]:
    """(base, soft, is_vowel) of an espeak event mnemonic."""
    base = name.lstrip("',%=")
    soft = base.endswith(";")
    base = base.rstrip(";")
    is_vowel = bool(base) and base[0] in _VOWEL_START and base != "@-"
    return base.rstrip('#"^23'), soft, is_vowel


def _atoms(symbol: str) -> tuple[list[str], bool, bool]:
    """Expected event bases for one phoneme, its softness and whether it is a vowel."""
    plain = symbol.removeprefix("ˈ")
    if plain in VOWEL_MNEMONICS:
        return [VOWEL_MNEMONICS[plain]], False, True
    long = plain.endswith("ː")
    base = plain.removesuffix("ː")
    soft = base.endswith("ʲ") or base in ("ɕ", "tɕ")
    base = base.removesuffix("ʲ")
    if base == "ɕ":
        return ["S"], True, False
    atoms = _SPLIT_ATOMS.get(base, [CONSONANT_MNEMONICS[base].rstrip(";")])
    return (atoms * 2 if long else atoms), soft, False


def align_events(phonemes: Sequence[str], events: Sequence[PhonemeEvent], num_samples: int) -> Alignment:
    """Map espeak's phoneme events onto our symbols; return each symbol's start sample.

    The events of a ``to_espeak_phonemes`` synthesis come, per phoneme, as:

    * one event per espeak atom (two for a long consonant, ``d`` + ``z`` for dz), where a soft
      consonant may arrive as ``C;`` or as ``C`` followed by a separate ``;`` event (merged);
    * espeak's epenthetic ``@-`` (a short vocalic onset it inserts before ``r``, as in ``p @- r``
      or after a pause) is merged into the following consonant;
    * espeak's own phonology may change a segment without moving its boundaries; these are
      tolerated and **counted**: voicing (espeak's regressive assimilation across a word boundary,
      ``в том`` → ``f t``), a vowel allophone (``V`` → ``a`` after ``j``), a consonant's softness.

    Pause events (``_:``, ``_``) may only occur between words: their extent goes to the first
    punctuation token there (to ``#`` when there is none); other non-sound tokens get 0 samples.
    Anything else (a consonant for a vowel, a different consonant, a language switch, missing or
    extra events) raises :class:`AlignmentError`. ``end`` is where the last token ends: the end of
    the audio, or the start of a trailing pause when the text ends with a sound.

    Why one long function: it is a single two-pointer walk over our symbols and espeak's grouped
    events whose cases share the cursor state; split into pieces, each would need all of it.
    """
    # group events into units: (kind, base, soft, is_vowel, start)
    units: list[list] = []
    alignment = Alignment(starts=[], end=num_samples)
    epenthetic_start: int | None = None
    for event in events:
        name = event.mnemonic.strip()
        if name in _PAUSES:
            units.append(["pause", name, False, False, event.start_sample])
        elif name == ";":
            if not units or units[-1][0] != "phone" or units[-1][3]:
                raise AlignmentError(f"';' event at sample {event.start_sample} not after a consonant")
            units[-1][2] = True
        elif name == "@-":
            alignment.epenthetic += 1
            epenthetic_start = event.start_sample if epenthetic_start is None else epenthetic_start
        elif name.startswith("("):
            raise AlignmentError(f"espeak switched language ({name}) at sample {event.start_sample}")
        else:
            base, soft, is_vowel = _parse(name)
            start = event.start_sample if epenthetic_start is None else epenthetic_start
            if epenthetic_start is not None and is_vowel:
                raise AlignmentError(f"'@-' event at sample {epenthetic_start} before a vowel")
            epenthetic_start = None
            units.append(["phone", base, soft, is_vowel, start])
    if epenthetic_start is not None:
        raise AlignmentError("'@-' event at the end of the utterance")

    starts: list[int | None] = []
    position = 0
    pending: list[int] = []  # indices of the non-sound tokens of the current gap
    for index, symbol in enumerate(phonemes):
        if not is_phoneme(symbol):
            pending.append(index)
            starts.append(None)
            continue
        _close_gap(phonemes, pending, units, position, starts)
        while position < len(units) and units[position][0] == "pause":
            if not pending:
                raise AlignmentError(f"pause inside a word before symbol {index} ({symbol!r})")
            position += 1
        pending = []
        atoms, soft, is_vowel = _atoms(symbol)
        for atom_index, atom in enumerate(atoms):
            if position >= len(units):
                raise AlignmentError(f"events end before symbol {index} ({symbol!r})")
            kind, base, event_soft, event_vowel, start = units[position]
            if kind != "phone":
                raise AlignmentError(f"pause inside a word at symbol {index} ({symbol!r})")
            if is_vowel != event_vowel:
                raise AlignmentError(
                    f"symbol {index} {symbol!r} met espeak {base!r} (vowel/consonant mismatch)"
                )
            if is_vowel:
                if base != atom:
                    alignment.vowel_substitutions += 1
            else:
                if base != atom:
                    if _VOICING.get(atom) == base or {atom, base} <= {"x", "h", "Q"}:
                        alignment.voicing_substitutions += 1
                    else:
                        raise AlignmentError(f"symbol {index} {symbol!r} met espeak {base!r}")
                if event_soft != soft and atom_index == len(atoms) - 1:
                    alignment.softness_differences += 1
            if atom_index == 0:
                starts.append(start)
            position += 1
    # trailing gap: pauses after the last sound
    if pending:
        _close_gap(phonemes, pending, units, position, starts)
    elif position < len(units):
        alignment.end = units[position][4]
    while position < len(units):
        if units[position][0] != "pause":
            raise AlignmentError(f"{len(units) - position} espeak event(s) left after the last phoneme")
        position += 1
    # zero-length tokens start where the next token starts
    following = alignment.end
    for index in range(len(starts) - 1, -1, -1):
        if starts[index] is None:
            starts[index] = following
        following = starts[index]
    if any(later < earlier for earlier, later in itertools.pairwise(starts)):
        raise AlignmentError("event samples are not monotonic")
    alignment.starts = [int(s) for s in starts]
    return alignment


def _close_gap(phonemes, pending, units, position, starts) -> None:
    """Give the pause (if any) at ``position`` to the gap's first punctuation token (else ``#``)."""
    if not pending or position >= len(units) or units[position][0] != "pause":
        return
    punctuation = [i for i in pending if phonemes[i] in PUNCTUATION]
    target = punctuation[0] if punctuation else pending[0]
    starts[target] = units[position][4]


def frame_durations(starts: Sequence[int], end: int, hop_length: int) -> tuple[int, int, list[int]]:
    """Cut the audio to ``[starts[0], end)`` and turn symbol boundaries into frame durations.

    Boundaries (not durations) are rounded to the nearest frame, the last one set to the frame
    count ``(end - starts[0]) // hop_length``, so the durations sum exactly to it; the final
    partial frame's remainder (< hop samples) is dropped from the count like the feature extractor.

    Returns ``(trim_start, trim_end, durations)`` in samples / frames.
    """
    origin = starts[0]
    frames = (end - origin) // hop_length
    bounds = [min(frames, (start - origin + hop_length // 2) // hop_length) for start in starts] + [frames]
    return origin, end, [bounds[i + 1] - bounds[i] for i in range(len(starts))]
