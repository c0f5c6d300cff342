"""``prosody-tts convert grad-tts CKPT --out DIR``: official checkpoints → loadable model directories."""

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
