"""Grad-TTS over our dual-stream encoder: the shared model checks, speaker routing, freezing, stage loading."""

from __future__ import annotations

import pytest
import torch
from model_tester import ModelTesterMixin, tiny_text_batch

from prosody_tts.configuration import DualStreamConfig
from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.modeling import DualStreamModel
from prosody_tts.modeling.grad_tts import GradTTSModel


def dual_config(**overrides) -> GradTTSConfig:
    text = DualStreamConfig.tiny(bpe_vocab_size=120, hidden_dropout=0.0, external_speaker_dim=16)
    values = dict(num_speakers=3, encoder_dropout=0.0, duration_predictor_channels=32, decoder_dim=16,
                  decoder_dim_mults=[1, 2], decoder_attention_heads=2, decoder_attention_head_dim=8, segment_frames=32)  # fmt: skip
    values.update(overrides)
    return GradTTSConfig.with_text_encoder(text, **values)


def dual_batch(config: GradTTSConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    text = config.text_config
    generator = torch.Generator().manual_seed(seed)
    return {
        **tiny_text_batch(text.phoneme_vocab_size, text.bpe_vocab_size, seed),
        "spectrogram": torch.randn(2, 50, config.n_mels, generator=generator) - 4,
        "spectrogram_lengths": torch.tensor([50, 37]),
        "speaker_ids": torch.tensor([2, 0]),
    }


class TestGradTTSDualStream(ModelTesterMixin):
    model_class = GradTTSModel
    zero_init = {
        r"\.g$": "Rezero gates of the U-Net attention: each attention starts switched off",
        r"\.modulation\.": "AdaLN-Zero modulations of the dual-stream encoder",
        r"fusion\.projection\.": "the dual-stream word fusion adds nothing at first",
    }
    gradient_exceptions = {
        r"speaker\.null_embedding$": "the learned null speaker is used only when no speaker is given",
    }

    def get_config(self) -> GradTTSConfig:
        return dual_config()

    def get_inputs(self, config: GradTTSConfig, seed: int = 0) -> dict:
        return dual_batch(config, seed)


def test_speaker_reaches_the_encoder_through_its_adaln():
    model = GradTTSModel(dual_config()).eval()
    assert model.encoder.takes_speaker
    for module in model.modules():  # make the AdaLN-Zero blocks live
        if "modulation" in type(module).__name__.lower():
            for p in module.parameters():
                torch.nn.init.normal_(p, std=0.05)
    batch = {k: v for k, v in dual_batch(model.config).items() if not k.startswith("spectrogram")}
    text = {k: v for k, v in batch.items() if k != "speaker_ids"}
    a = model.synthesize(**text, speaker_ids=torch.tensor([0, 0]), n_timesteps=1, generator=torch.Generator().manual_seed(0))
    b = model.synthesize(**text, speaker_ids=torch.tensor([1, 1]), n_timesteps=1, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(a.encoder_spectrogram[0], b.encoder_spectrogram[0])


def test_a_frozen_encoder_gets_no_gradient_and_stays_in_eval_mode():
    model = GradTTSModel(dual_config(freeze_text_encoder=True)).train()
    assert not model.encoder.text_model.training
    loss = model(**dual_batch(model.config)).loss
    loss.backward()
    assert all(p.grad is None for p in model.encoder.text_model.parameters())
    assert model.encoder.proj_m.weight.grad is not None and model.encoder.proj_w.proj.weight.grad is not None


def test_the_encoder_of_a_saved_stage_loads_into_grad_tts(tmp_path):
    encoder = DualStreamModel(DualStreamConfig.tiny(bpe_vocab_size=120, external_speaker_dim=16))
    encoder.save_pretrained(tmp_path / "stage")
    model = GradTTSModel.from_text_encoder(tmp_path / "stage", num_speakers=3, speaker_names=["a", "b", "c"])
    for name, tensor in encoder.state_dict().items():
        assert torch.equal(model.encoder.text_model.state_dict()[name], tensor), name
    assert model.config.speaker_embedding_dim == 16 and model.speaker_id("c") == 2
    with pytest.raises(ValueError, match="unknown speaker"):
        model.speaker_id("d")


def test_dual_stream_config_errors_name_the_fix():
    with pytest.raises(ValueError, match="needs text_config"):
        GradTTSConfig(encoder_type="dual_stream")
    with pytest.raises(ValueError, match="make them equal"):
        GradTTSConfig(encoder_type="dual_stream", text_config=DualStreamConfig.tiny(), num_speakers=2, speaker_embedding_dim=8)
    with pytest.raises(ValueError, match="encoder_type must be"):
        GradTTSConfig(encoder_type="glow")
    with pytest.raises(ValueError, match="not input_ids"):
        GradTTSModel(dual_config(num_speakers=1)).synthesize(torch.tensor([[1, 2]]))


def test_a_stage_one_mlm_directory_gives_its_encoder_and_fusion_starts_as_the_identity(tmp_path):
    from prosody_tts.modeling import DualStreamForMaskedLM

    mlm = DualStreamForMaskedLM(DualStreamConfig.tiny(bpe_vocab_size=120))
    mlm.save_pretrained(tmp_path / "stage1")
    model = GradTTSModel.from_text_encoder(tmp_path / "stage1", tiny=True)
    ours = model.encoder.text_model.state_dict()
    for name, tensor in mlm.dual_stream.state_dict().items():
        assert torch.equal(ours[name], tensor), name
    fusion = [name for name in ours if name.startswith("fusion.projection")]
    assert fusion and all(bool(ours[name].eq(0).all()) for name in fusion)
    assert model.config.decoder_dim == GradTTSConfig.tiny().decoder_dim
    with pytest.raises(TypeError, match="no dual-stream encoder"):
        GradTTSModel.from_text_encoder(GradTTSModel(GradTTSConfig.tiny()))
