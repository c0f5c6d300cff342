"""``prosody-tts convert grad-tts CKPT --out DIR`` and ``prosody-tts convert hifigan CKPT --config JSON --out DIR``:
published checkpoints → loadable model directories."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``convert`` (with ``convert grad-tts``) to the ``prosody-tts`` sub-commands."""
    convert = subparsers.add_parser("convert", help="convert published checkpoints")
    kinds = convert.add_subparsers(title="checkpoint kinds")
    grad = kinds.add_parser("grad-tts", help="an official Grad-TTS state dict (grad-tts.pt, grad-tts-old.pt, LibriTTS)")
    grad.add_argument("checkpoint", type=Path)
    grad.add_argument("--out", type=Path, required=True, help="output directory (save_pretrained)")
    grad.add_argument("--pe-scale", type=float, default=1000.0, help="1000 (default) or 1 for grad-tts-old.pt")
    grad.add_argument("--n-speakers", type=int, default=None, help="check the speaker count (247 for LibriTTS)")
    grad.add_argument("--encoder-heads", type=int, default=2, help="encoder attention heads (not stored in the weights)")
    grad.add_argument("--decoder-attention-heads", type=int, default=4, help="U-Net attention heads (not stored)")
    grad.set_defaults(handler=_cmd_grad_tts)
    hifi = kinds.add_parser("hifigan", help="an original HiFi-GAN generator checkpoint (g_*) and its config.json")
    hifi.add_argument("checkpoint", type=Path)
    hifi.add_argument("--config", type=Path, required=True, help="the checkpoint's original config.json")
    hifi.add_argument("--out", type=Path, required=True, help="output directory (save_pretrained)")
    hifi.add_argument("--tts-model", type=Path, default=None,
                      help="a TTS model directory: refuse the vocoder if its mel settings differ from the model's "
                      "processor, else also save it as the model's vocoder/ sub-folder")  # fmt: skip
    hifi.add_argument("--discriminators", type=Path, default=None,
                      help="the matching do_* file: also save generator + discriminators to OUT/training "
                      "(init_from of a vocoder recipe, to fine-tune with the published discriminators)")  # fmt: skip
    hifi.set_defaults(handler=_cmd_hifigan)
    convert.set_defaults(handler=lambda args: (convert.print_help(), 2)[1])
    return convert


def _cmd_grad_tts(args: argparse.Namespace) -> int:
    from ..modeling.convert_grad_tts import convert_grad_tts_checkpoint

    if not args.checkpoint.is_file():
        raise SystemExit(f"prosody-tts convert grad-tts: no such file: {args.checkpoint}")
    model = convert_grad_tts_checkpoint(
        args.checkpoint, args.out, pe_scale=args.pe_scale, n_speakers=args.n_speakers, encoder_heads=args.encoder_heads,
        decoder_attention_heads=args.decoder_attention_heads,
    )
    count = sum(p.numel() for p in model.parameters())
    config = model.config
    print(f"saved {args.out}: GradTTSModel, {count:,} parameters, vocab {config.vocab_size}, "
          f"{config.num_speakers} speaker(s), pe_scale {config.pe_scale:g}")  # fmt: skip
    return 0


def _cmd_hifigan(args: argparse.Namespace) -> int:
    from ..constants import VOCODER_SUBFOLDER, VOCODER_TRAINING_SUBFOLDER
    from ..modeling.convert_hifigan import convert_hifigan_checkpoint, convert_hifigan_discriminators

    for path in (args.checkpoint, args.config, *([args.discriminators] if args.discriminators else [])):
        if not path.is_file():
            raise SystemExit(f"prosody-tts convert hifigan: no such file: {path}")
    model = convert_hifigan_checkpoint(args.checkpoint, args.config)
    if args.tts_model is not None:
        from ..processing.processing_dual_stream import DualStreamProcessor

        model.config.check_compatible(DualStreamProcessor.from_pretrained(args.tts_model).feature_extractor)
    model.save_pretrained(args.out)
    config = model.config
    count = sum(p.numel() for p in model.parameters())
    print(f"saved {args.out}: HifiGanVocoder, {count:,} parameters, resblock {config.resblock}, "
          f"upsample {list(config.upsample_rates)}, {config.sampling_rate} Hz")  # fmt: skip
    if args.discriminators is not None:
        from ..modeling.hifigan_training import HifiGanTrainingModel

        discriminator = convert_hifigan_discriminators(args.discriminators)
        training = HifiGanTrainingModel.from_generator(model, discriminator)
        training.save_pretrained(args.out / VOCODER_TRAINING_SUBFOLDER)
        print(f"saved {args.out / VOCODER_TRAINING_SUBFOLDER}: generator + discriminators, "
              f"{discriminator.num_parameters():,} discriminator parameters")  # fmt: skip
    if args.tts_model is not None:
        model.save_pretrained(args.tts_model / VOCODER_SUBFOLDER)
        print(f"saved {args.tts_model / VOCODER_SUBFOLDER}: the model's vocoder")
    return 0
