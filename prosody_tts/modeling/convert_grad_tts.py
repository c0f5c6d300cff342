"""Official Grad-TTS checkpoints (``grad-tts.pt``, ``grad-tts-old.pt``, ``grad-tts-libri-tts.pt``) →
:class:`~prosody_tts.modeling.grad_tts.GradTTSModel` directories.

The released files are plain ``state_dict``s of the official ``GradTTS`` module. Our modules keep
the official attribute names, so the keys carry over one to one (``encoder.emb.weight``,
``encoder.encoder.attn_layers.0.emb_rel_k``, ``encoder.encoder.norm_layers_1.0.gamma``,
``encoder.proj_w.conv_1.weight``, ``decoder.estimator.downs.0.2.fn.g``, ``spk_emb.weight`` …); a
``module.`` prefix (DDP) is dropped. The sizes are read off the tensors; what the tensors do not
tell — the attention heads (2 in the encoder, 4 in the U-Net) and ``pe_scale`` (1000, or 1 for ``grad-tts-old.pt``) — comes from the
caller. Any missing, unexpected or mis-shaped key is an error naming it: nothing is dropped.

``prosody-tts convert grad-tts CKPT --out DIR [--pe-scale 1000|1] [--n-speakers N]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import torch

from ..configuration.grad_tts import GradTTSConfig
from .grad_tts import GradTTSModel
from .loading import load_exactly

__all__ = ["config_from_state_dict", "convert_grad_tts_checkpoint", "load_official_state_dict"]


def load_official_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a released checkpoint (tensors only: ``weights_only=True``); drop a ``module.`` prefix."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file {os.fspath(path)!r}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{os.fspath(path)!r} is not a state dict of tensors")
    return {re.sub(r"^module\.", "", key): value for key, value in state.items()}


def config_from_state_dict(
    state: Mapping[str, torch.Tensor],
    *,
    pe_scale: float = 1000.0,
    encoder_heads: int = 2,
    decoder_attention_heads: int = 4,
    **overrides: Any,
) -> GradTTSConfig:
    """The :class:`GradTTSConfig` whose model has exactly these tensors' shapes."""
    def shape(key: str) -> torch.Size:
        if key not in state:
            raise KeyError(f"the checkpoint has no {key!r}: not an official Grad-TTS state dict")
        return state[key].shape

    vocab, channels = shape("encoder.emb.weight")
    n_mels, width = shape("encoder.proj_m.weight")[:2]
    layers = len({m.group(1) for key in state if (m := re.match(r"encoder\.encoder\.attn_layers\.(\d+)\.", key))})
    dim = shape("decoder.estimator.mlp.0.weight")[1]
    levels = len({m.group(1) for key in state if (m := re.match(r"decoder\.estimator\.downs\.(\d+)\.", key))})
    mults = [shape(f"decoder.estimator.downs.{i}.0.block1.block.0.weight")[0] // dim for i in range(levels)]
    speakers = shape("spk_emb.weight")[0] if "spk_emb.weight" in state else 1
    speaker_dim = shape("spk_emb.weight")[1] if speakers > 1 else 64
    values: dict[str, Any] = dict(
        vocab_size=vocab, blank_id=vocab - 1, n_mels=n_mels, encoder_channels=channels,
        encoder_ffn_channels=shape("encoder.encoder.ffn_layers.0.conv_1.weight")[0],
        encoder_kernel_size=shape("encoder.encoder.ffn_layers.0.conv_1.weight")[2],
        encoder_heads=encoder_heads, encoder_layers=layers,
        encoder_window_size=(shape("encoder.encoder.attn_layers.0.emb_rel_k")[1] - 1) // 2,
        prenet_kernel_size=shape("encoder.prenet.conv_layers.0.weight")[2],
        prenet_layers=len({m.group(1) for key in state if (m := re.match(r"encoder\.prenet\.conv_layers\.(\d+)\.", key))}),
        duration_predictor_channels=shape("encoder.proj_w.conv_1.weight")[0],
        num_speakers=speakers, speaker_embedding_dim=speaker_dim,
        encoder_speaker_conditioning=width > channels, decoder_dim=dim, decoder_dim_mults=mults,
        pe_scale=pe_scale, decoder_attention_heads=decoder_attention_heads,
        decoder_attention_head_dim=shape("decoder.estimator.mid_attn.fn.fn.to_qkv.weight")[0] // 3 // decoder_attention_heads,
    )  # fmt: skip
    values.update(overrides)
    return GradTTSConfig(**values)


def convert_grad_tts_checkpoint(
    checkpoint: str | os.PathLike | Mapping[str, torch.Tensor],
    out_dir: str | os.PathLike | None = None,
    *,
    pe_scale: float = 1000.0,
    n_speakers: int | None = None,
    encoder_heads: int = 2,
    decoder_attention_heads: int = 4,
) -> GradTTSModel:
    """Build the model of an official checkpoint (path or state dict), load it strictly, optionally save it."""
    state = load_official_state_dict(checkpoint) if isinstance(checkpoint, (str, os.PathLike)) else dict(checkpoint)
    config = config_from_state_dict(
        state, pe_scale=pe_scale, encoder_heads=encoder_heads, decoder_attention_heads=decoder_attention_heads
    )
    if n_speakers is not None and n_speakers != config.num_speakers:
        raise ValueError(f"--n-speakers {n_speakers} but the checkpoint holds {config.num_speakers} speaker(s)")
    model = GradTTSModel(config)
    load_exactly(model, state, "the checkpoint")
    model.eval()
    if out_dir is not None:
        model.save_pretrained(out_dir)
    return model
