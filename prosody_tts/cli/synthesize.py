"""``prosody-tts synthesize``: Russian text → WAV with a trained TTS directory, offline.

* ``prosody-tts synthesize "Текст." --model DIR --out out.wav`` — one sentence, one file;
* ``--file lines.txt`` or standard input (no sentence, or ``-``): one sentence per line, one WAV
  per line in the folder ``--out`` (``0001.wav``, … by line number), with a progress bar.

``DIR`` is a text-to-waveform directory (the demo's ``tts/``), a Grad-TTS or a latent-diffusion
directory (then ``--vocoder DIR``, default Griffin-Lim). A latent-diffusion head also takes
``--guidance-scale`` and a voice prompt: ``--prompt-audio ref.wav --prompt-text "its transcript"``
(the speech continues the prompt's voice; only the new text's audio is written). ``+`` before a vowel marks its stress, as everywhere in
the front-end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``synthesize`` to the ``prosody-tts`` sub-commands."""
    command = subparsers.add_parser("synthesize", help="speak Russian text with a trained TTS model (WAV files)")
    command.add_argument("text", nargs="*", help="one sentence; none (or '-') reads standard input, one per line")
    command.add_argument("--model", required=True, help="a text-to-waveform, Grad-TTS or latent-diffusion model directory")
    command.add_argument("--vocoder", help="a vocoder directory (default: the model's, or Griffin-Lim)")
    command.add_argument("--out", type=Path, help="the WAV (one sentence; default out.wav) or the folder (--file / stdin; default synthesized)")
    command.add_argument("--file", type=Path, help="sentences, one per line: one WAV each")
    command.add_argument("--speaker", help="a speaker name of the model (or its row number)")
    command.add_argument("--steps", type=int, help="reverse diffusion steps (default: the model's, 10)")
    command.add_argument("--temperature", type=float, help="noise temperature (default 1.5)")
    command.add_argument("--length-scale", type=float, help="> 1 speaks slower (default 1.0)")
    command.add_argument("--seed", type=int, help="seed of the noise (default: the model's, 0)")
    command.add_argument("--guidance-scale", type=float, help="latent diffusion: classifier-free guidance (default: the model's, 5)")
    command.add_argument("--prompt-audio", type=Path, help="latent diffusion: a recording whose voice the speech continues")
    command.add_argument("--prompt-text", help="the transcript of --prompt-audio (required with it)")
    command.add_argument("--keep-going", action="store_true", help="report a bad line and continue")
    command.set_defaults(handler=_cmd_synthesize)
    return command


def _lines(args: argparse.Namespace) -> tuple[list[tuple[int, str]], bool]:
    """(line number, sentence) pairs, and whether ``--out`` is a folder."""
    if args.file is not None:
        if args.text:
            raise SystemExit("prosody-tts synthesize: give a sentence or --file, not both")
        if not args.file.is_file():
            raise SystemExit(f"prosody-tts synthesize: no such file: {args.file}")
        lines = args.file.read_text(encoding="utf-8").splitlines()
    elif args.text and args.text != ["-"]:
        return [(1, " ".join(args.text))], False
    else:
        lines = [line.rstrip("\n") for line in sys.stdin]
    return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()], True


def _speaker(model: Any, speaker: str | None) -> str | int | None:
    if speaker is None:
        return None
    names = model.tts.config.speaker_names or []
    return int(speaker) if speaker.isdigit() and speaker not in names else speaker


def _check_latent_options(args: argparse.Namespace, model: Any) -> None:
    """--guidance-scale / --prompt-audio belong to a latent-diffusion head; the prompt needs its transcript."""
    from ..configuration.latent_diffusion import LatentDiffusionTTSConfig

    latent = isinstance(model.tts.config, LatentDiffusionTTSConfig)
    used = [flag for flag, value in (("--guidance-scale", args.guidance_scale), ("--prompt-audio", args.prompt_audio)) if value is not None]
    if used and not latent:
        raise SystemExit(f"prosody-tts synthesize: {', '.join(used)} need a latent-diffusion model, not {type(model.tts).__name__}")
    if (args.prompt_audio is None) != (args.prompt_text is None):
        raise SystemExit("prosody-tts synthesize: --prompt-audio and --prompt-text go together")
    if args.prompt_audio is not None and not args.prompt_audio.is_file():
        raise SystemExit(f"prosody-tts synthesize: no such file: {args.prompt_audio}")


def _cmd_synthesize(args: argparse.Namespace) -> int:
    import soundfile
    import torch
    from tqdm.auto import tqdm

    from ..pipelines.text_to_speech import load_text_to_speech, voice_prompt_inputs
    from ..text.errors import FrontendError

    lines, many = _lines(args)
    if not lines:
        raise SystemExit("prosody-tts synthesize: no text to speak")
    try:
        model, processor = load_text_to_speech(args.model, args.vocoder)
    except (OSError, TypeError, ValueError) as error:  # a missing dir, not a TTS model, mismatched mels
        raise SystemExit(f"prosody-tts synthesize: {error}") from error
    out = args.out or Path("synthesized" if many else "out.wav")
    if many:
        out.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = dict(n_timesteps=args.steps, temperature=args.temperature, length_scale=args.length_scale, seed=args.seed)
    _check_latent_options(args, model)
    if args.guidance_scale is not None:
        options["guidance_scale"] = args.guidance_scale
    speaker = _speaker(model, args.speaker)
    failures = 0
    progress = tqdm(lines, desc="synthesize", unit="sent", disable=not many, file=sys.stderr)
    for number, line in progress:
        target = out / f"{number:04d}.wav" if many else out
        try:
            if args.prompt_audio is not None:
                inputs = voice_prompt_inputs(processor, line, args.prompt_audio, args.prompt_text)
            else:
                inputs = processor(text=line, return_tensors="pt")
            with torch.no_grad():
                speech = model(**inputs, speaker=speaker, **options)
        except (FrontendError, ValueError) as error:
            failures += 1
            message = f"line {number}: {type(error).__name__}: {error}"
            if not args.keep_going:
                print(f"prosody-tts synthesize: {message}", file=sys.stderr)
                return 1
            progress.write(message, file=sys.stderr)
            continue
        samples = int(speech.waveform_lengths[0])
        audio = speech.waveform[0, :samples].float().cpu().numpy()
        soundfile.write(target, audio, model.config.sampling_rate, subtype="FLOAT")
        progress.write(f"{target}\t{samples / model.config.sampling_rate:.2f} s\t{line}", file=sys.stderr)
    if failures:
        print(f"{failures} line(s) could not be synthesised", file=sys.stderr)
        return 1
    return 0
