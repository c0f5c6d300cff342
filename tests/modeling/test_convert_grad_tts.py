"""Converting official Grad-TTS checkpoints: sizes read off the tensors, strict keys, same outputs, the CLI.

The checkpoints are written by the test in the official key layout (a plain state dict, optionally
under DDP's ``module.`` prefix); the released files cannot ship with the project.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from prosody_tts.cli import main
from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.modeling.convert_grad_tts import config_from_state_dict, convert_grad_tts_checkpoint
from prosody_tts.modeling.grad_tts import GradTTSModel

#: A few keys exactly as the official GradTTS module names them.
OFFICIAL_KEYS = (
    "encoder.emb.weight",
    "encoder.prenet.conv_layers.0.weight",
    "encoder.prenet.norm_layers.2.gamma",
    "encoder.prenet.proj.bias",
    "encoder.encoder.attn_layers.0.emb_rel_k",
    "encoder.encoder.attn_layers.5.conv_o.weight",
    "encoder.encoder.norm_layers_1.0.beta",
    "encoder.encoder.ffn_layers.3.conv_2.weight",
    "encoder.proj_m.weight",
    "encoder.proj_w.norm_2.gamma",
    "decoder.estimator.mlp.2.weight",
    "decoder.estimator.downs.0.0.mlp.1.weight",
    "decoder.estimator.downs.1.2.fn.g",
    "decoder.estimator.downs.1.2.fn.fn.to_qkv.weight",
    "decoder.estimator.downs.0.3.conv.weight",
    "decoder.estimator.mid_attn.fn.fn.to_out.bias",
    "decoder.estimator.ups.0.0.res_conv.weight",
    "decoder.estimator.ups.1.3.conv.weight",
    "decoder.estimator.final_block.block.1.weight",
    "decoder.estimator.final_conv.weight",
)


def official_checkpoint(config: GradTTSConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    model = GradTTSModel(config)
    with torch.no_grad():  # trained-looking: no zero gates or projections left
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    return {key: value.clone() for key, value in model.state_dict().items()}


OFFICIAL_LAYOUT = Path(__file__).with_name("data") / "grad_tts_official_keys.tsv"


def test_every_official_key_and_shape_is_ours():
    """The key list of the official module code (LJSpeech config, 307 tensors), key for key and shape for shape."""
    official = {}
    for line in OFFICIAL_LAYOUT.read_text().splitlines():
        if line and not line.startswith("#"):
            key, shape = line.split("\t")
            official[key] = tuple(int(n) for n in shape.strip("(,)").split(",") if n)
    ours = {key: tuple(value.shape) for key, value in GradTTSModel(GradTTSConfig()).state_dict().items()}
    assert len(official) == 307 and ours == official
    # the 247-speaker LibriTTS model: 312 tensors, 14,888,680 parameters (the official code's counts)
    multi = GradTTSModel(GradTTSConfig(num_speakers=247))
    assert len(multi.state_dict()) == 312 and sum(p.numel() for p in multi.parameters()) == 14_888_680
    assert tuple(multi.state_dict()["decoder.estimator.downs.0.0.block1.block.0.weight"].shape) == (64, 3, 3, 3)


def test_the_official_key_layout_is_ours():
    keys = set(GradTTSModel(GradTTSConfig()).state_dict())
    assert set(OFFICIAL_KEYS) <= keys
    multi = set(GradTTSModel(GradTTSConfig(num_speakers=247)).state_dict())
    assert {"spk_emb.weight", "decoder.estimator.spk_mlp.0.weight", "decoder.estimator.spk_mlp.2.bias"} <= multi


@pytest.mark.parametrize(
    "overrides",
    [{}, {"pe_scale": 1.0}, {"num_speakers": 247}],
    ids=["ljspeech", "ljspeech-old", "libritts"],
)
def test_sizes_come_from_the_tensors(overrides):
    config = GradTTSConfig(**overrides)
    state = official_checkpoint(config)
    inferred = config_from_state_dict(state, pe_scale=config.pe_scale)
    drop = lambda c: {k: v for k, v in c.to_dict().items() if k not in ("_name_or_path", "transformers_version")}  # noqa: E731
    assert drop(inferred) == drop(config)


def test_a_converted_checkpoint_reproduces_the_source_model(tmp_path):
    config = GradTTSConfig.tiny(num_speakers=3, encoder_dropout=0.0, prenet_dropout=0.0, pe_scale=1.0)
    state = official_checkpoint(config, seed=3)
    source = GradTTSModel(config).eval()
    source.load_state_dict(state)
    path = tmp_path / "grad-tts.pt"
    torch.save({f"module.{k}": v for k, v in state.items()}, path)  # as saved under DDP
    converted = convert_grad_tts_checkpoint(
        path, tmp_path / "converted", pe_scale=1.0, n_speakers=3, decoder_attention_heads=2
    )
    loaded = GradTTSModel.from_pretrained(tmp_path / "converted").eval()
    ids, speaker = torch.tensor([[5, 148, 9, 148, 11, 148, 2]]), torch.tensor([1])
    outputs = [
        m.synthesize(ids, speaker_ids=speaker, n_timesteps=4, generator=torch.Generator().manual_seed(7))
        for m in (source, converted, loaded)
    ]
    assert torch.equal(outputs[1].durations, outputs[0].durations)
    assert torch.equal(outputs[1].spectrogram, outputs[0].spectrogram)  # converted: bit for bit
    # through safetensors and from_pretrained: same weights (checked), float noise from memory layout
    assert torch.equal(outputs[2].durations, outputs[0].durations)
    torch.testing.assert_close(outputs[2].spectrogram, outputs[0].spectrogram, rtol=1e-5, atol=1e-4)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), converted.state_dict().values(), strict=True))


def test_a_foreign_or_damaged_checkpoint_is_refused_by_name(tmp_path):
    config = GradTTSConfig.tiny(decoder_attention_heads=4, decoder_attention_head_dim=4)
    state = official_checkpoint(config)
    extra = {**state, "encoder.unknown.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"unexpected \['encoder.unknown.weight'\]"):
        convert_grad_tts_checkpoint(extra)
    missing = {k: v for k, v in state.items() if k != "encoder.proj_w.proj.bias"}
    with pytest.raises(ValueError, match=r"missing \['encoder.proj_w.proj.bias'\]"):
        convert_grad_tts_checkpoint(missing)
    with pytest.raises(KeyError, match="not an official Grad-TTS state dict"):
        convert_grad_tts_checkpoint({"weight": torch.zeros(2)})
    with pytest.raises(ValueError, match="holds 1 speaker"):
        convert_grad_tts_checkpoint(state, n_speakers=247)
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        convert_grad_tts_checkpoint(tmp_path / "missing.pt")


def test_the_convert_command(tmp_path, capsys):
    config = GradTTSConfig.tiny(decoder_attention_heads=4, decoder_attention_head_dim=4)
    torch.save(official_checkpoint(config), tmp_path / "ckpt.pt")
    assert main(["convert", "grad-tts", str(tmp_path / "ckpt.pt"), "--out", str(tmp_path / "out")]) == 0
    assert "GradTTSModel" in capsys.readouterr().out and (tmp_path / "out" / "config.json").is_file()
    with pytest.raises(SystemExit, match="no such file"):
        main(["convert", "grad-tts", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "x")])
