"""Tests of the contrastive (SigLIP) model: tiny configs, CPU, a few seconds."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from model_tester import ModelTesterMixin, tiny_text_batch
from transformers.utils import can_return_loss

from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.ecapa_tdnn import EcapaTdnnConfig
from prosody_tts.modeling import contrastive as contrastive_module
from prosody_tts.modeling.contrastive import ProsodyContrastiveModel, load_stage1_weights
from prosody_tts.modeling.dual_stream import DualStreamForMaskedLM
from prosody_tts.modeling.layers import ZeroInitLinear
from prosody_tts.modeling.losses import siglip_loss
from prosody_tts.modeling.outputs import ProsodyContrastiveOutput


def tiny_config(**overrides) -> ProsodyContrastiveConfig:
    text = dict(hidden_dropout=0.0)
    text.update(overrides.pop("text_overrides", {}))
    return ProsodyContrastiveConfig.tiny(text_overrides=text, **overrides)


def make_batch(config: ProsodyContrastiveConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Two right-padded items with processor-like word ids, log-mels and 10 paired occurrences."""
    text_config = config.text_config
    text = tiny_text_batch(text_config.phoneme_vocab_size, text_config.bpe_vocab_size, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    frames = [60, 45]
    features = torch.randn(2, max(frames), config.audio_config.num_mel_bins, generator=generator)  # (B, T, 80)
    feature_mask = torch.tensor([[1] * n + [0] * (max(frames) - n) for n in frames])  # (B, T)
    # occurrences: phoneme positions (including <s> at 0) and 5-frame spans, in order
    positions = [(0, p) for p in (1, 2, 4, 5, 6, 8)] + [(1, p) for p in (1, 2, 3, 5)]
    spans = [(b, 5 * k, 5 * k + 5) for k, (b, _) in enumerate(positions[:6])]
    spans += [(1, 5 * k, 5 * k + 5) for k in range(4)]
    return {
        **text,
        "input_features": features,
        "feature_attention_mask": feature_mask,
        "occurrence_positions": torch.tensor(positions),
        "segment_spans": torch.tensor(spans),
    }


TEXT_KEYS = (
    "phoneme_input_ids",
    "phoneme_attention_mask",
    "phoneme_word_ids",
    "bpe_input_ids",
    "bpe_attention_mask",
    "bpe_word_ids",
)


class TestProsodyContrastiveModel(ModelTesterMixin):
    model_class = ProsodyContrastiveModel
    zero_init = {
        r"\.modulation\.": "AdaLN-Zero modulations of the text tower",
        r"fusion\.projection\.": "word fusion of the text tower",
    }
    gradient_exceptions = {
        "^audio_model\\.asp\\.conv\\.bias$": "softmax over frames cancels a per-channel constant (SpeechBrain parity)",
        "^text_model\\.speaker\\.null_embedding$": "unused: speaker_source='audio' and speaker_dropout=0",
    }

    def get_config(self) -> ProsodyContrastiveConfig:
        return tiny_config()

    def get_inputs(self, config: ProsodyContrastiveConfig, seed: int = 0) -> dict:
        return make_batch(config, seed)


@pytest.fixture(scope="module")
def model() -> ProsodyContrastiveModel:
    torch.manual_seed(0)
    return ProsodyContrastiveModel(tiny_config()).eval()


# ------------------------------------------------------------------------------------------ config


def test_config_round_trip(tmp_path):
    config = tiny_config(projection_dim=16, loss_chunk_size=4)
    assert config.sub_configs == {"text_config": DualStreamConfig, "audio_config": EcapaTdnnConfig}
    as_dict = config.to_dict()
    assert isinstance(as_dict["text_config"], dict) and isinstance(as_dict["audio_config"], dict)
    rebuilt = ProsodyContrastiveConfig.from_dict(as_dict)
    assert isinstance(rebuilt.text_config, DualStreamConfig)
    assert isinstance(rebuilt.audio_config, EcapaTdnnConfig)
    assert rebuilt.to_dict() == as_dict
    config.save_pretrained(tmp_path)
    loaded = ProsodyContrastiveConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == as_dict
    assert loaded.text_config.hidden_size == 64 and loaded.audio_config.channels == [64, 64, 64, 64, 192]
    assert loaded.projection_dim == 16 and loaded.loss_chunk_size == 4
    defaults = ProsodyContrastiveConfig()
    assert defaults.projection_dim == 256 and defaults.speaker_source == "audio"
    assert math.isclose(defaults.logit_scale_init_value, math.log(10.0))
    assert defaults.logit_bias_init_value == -10.0
    assert defaults.detach_speaker_embedding and defaults.gather_negatives_across_ranks
    assert defaults.loss_chunk_size is None
    from_dicts = ProsodyContrastiveConfig(text_config={"hidden_size": 128, "num_attention_heads": 2})
    assert isinstance(from_dicts.text_config, DualStreamConfig) and from_dicts.text_config.hidden_size == 128


def test_config_errors():
    with pytest.raises(ValueError, match="external_speaker_dim"):
        ProsodyContrastiveConfig.tiny(audio_overrides=dict(embedding_dim=16))
    ProsodyContrastiveConfig.tiny(audio_overrides=dict(embedding_dim=16), speaker_source="none")
    with pytest.raises(ValueError, match="num_speakers"):
        ProsodyContrastiveConfig.tiny(speaker_source="ids")
    with pytest.raises(ValueError, match="speaker_source"):
        ProsodyContrastiveConfig.tiny(speaker_source="text")
    with pytest.raises(ValueError, match="loss_chunk_size"):
        ProsodyContrastiveConfig.tiny(loss_chunk_size=0)


# ------------------------------------------------------------------------------------------ init, save/load


def test_logit_init_and_save_load(model, tmp_path):
    assert model.logit_scale.shape == (1,) and model.logit_bias.shape == (1,)
    assert math.isclose(model.logit_scale.item(), math.log(10.0), rel_tol=1e-6)
    assert model.logit_bias.item() == -10.0
    batch = make_batch(model.config)
    with torch.no_grad():
        expected = model(**batch)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded = ProsodyContrastiveModel.from_pretrained(tmp_path).eval()
    assert math.isclose(loaded.logit_scale.item(), math.log(10.0), rel_tol=1e-6)
    assert loaded.logit_bias.item() == -10.0
    with torch.no_grad():
        actual = loaded(**batch)
    for name in ("loss", "logits_per_text", "text_embeds", "audio_embeds"):
        torch.testing.assert_close(actual[name], expected[name], rtol=0, atol=0)
    # trained values survive loading (the init helpers skip loaded tensors)
    other = ProsodyContrastiveModel(tiny_config())
    with torch.no_grad():
        other.logit_scale.fill_(1.5)
        other.logit_bias.fill_(-3.0)
    other.save_pretrained(tmp_path / "trained")
    reloaded = ProsodyContrastiveModel.from_pretrained(tmp_path / "trained")
    assert reloaded.logit_scale.item() == 1.5 and reloaded.logit_bias.item() == -3.0


# ------------------------------------------------------------------------------------------ loss and logits


def naive_siglip(logits: torch.Tensor) -> torch.Tensor:
    """-(1/N) sum_i sum_j log sigmoid(s_ij z_ij) by a double loop over the (N, N) logits."""
    n = logits.shape[0]
    total = 0.0
    for i in range(n):
        for j in range(n):
            sign = 1.0 if i == j else -1.0
            total -= math.log(1.0 / (1.0 + math.exp(-sign * float(logits[i, j]))))
    return torch.tensor(total / n)


def test_loss_matches_references(model):
    batch = make_batch(model.config)
    with torch.no_grad():
        out = model(**batch)
    assert isinstance(out, ProsodyContrastiveOutput)
    n = batch["occurrence_positions"].shape[0]
    assert out.logits_per_text.shape == (n, n) and out.text_embeds.shape == (n, 32)
    torch.testing.assert_close(out.logits_per_audio, out.logits_per_text.T)
    torch.testing.assert_close(out.text_embeds.norm(dim=-1), torch.ones(n))
    recomputed = siglip_loss(out.text_embeds, out.audio_embeds, model.logit_scale, model.logit_bias)
    torch.testing.assert_close(out.loss, recomputed)
    torch.testing.assert_close(out.loss, naive_siglip(out.logits_per_text).to(out.loss.dtype), rtol=1e-5, atol=1e-5)
    cos = out.text_embeds @ out.audio_embeds.T
    torch.testing.assert_close(out.logits_per_text, 10.0 * cos - 10.0, rtol=1e-5, atol=1e-5)
    # the text side is the encoder's state at (batch_index, position incl. <s>)
    states = out.text_model_output.last_hidden_state
    rows = batch["occurrence_positions"]
    manual = F.normalize(model.text_projection(states[rows[:, 0], rows[:, 1]]), dim=-1)
    torch.testing.assert_close(out.text_embeds, manual)
    audio = F.normalize(model.audio_projection(out.audio_model_output.segment_embeddings), dim=-1)
    torch.testing.assert_close(out.audio_embeds, audio)
    # helpers agree with forward
    speaker = out.audio_model_output.embeddings
    with torch.no_grad():
        text_features = model.get_text_features(
            **{k: batch[k] for k in TEXT_KEYS},
            occurrence_positions=rows,
            input_features=batch["input_features"],
            feature_attention_mask=batch["feature_attention_mask"],
        )
        text_from_speaker = model.get_text_features(
            **{k: batch[k] for k in TEXT_KEYS}, speaker_embeds=speaker
        )  # (B, P, D)
        audio_features = model.get_audio_features(
            batch["input_features"], batch["segment_spans"], batch["feature_attention_mask"]
        )
    torch.testing.assert_close(F.normalize(text_features, dim=-1), out.text_embeds)
    torch.testing.assert_close(F.normalize(text_from_speaker[rows[:, 0], rows[:, 1]], dim=-1), out.text_embeds)
    torch.testing.assert_close(F.normalize(audio_features, dim=-1), out.audio_embeds)


def test_chunked_loss_and_outputs_variants(model):
    batch = make_batch(model.config, seed=1)
    with torch.no_grad():
        full = model(**batch)
        no_loss = model(**batch, return_loss=False)
        as_tuple = model(**batch, return_dict=False)
    assert no_loss.loss is None
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], full.loss)
    assert isinstance(as_tuple[-1], tuple)  # nested audio output as a tuple
    chunked = ProsodyContrastiveModel(tiny_config(loss_chunk_size=3)).eval()
    chunked.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(chunked(**batch).loss, full.loss)
    assert can_return_loss(ProsodyContrastiveModel)


def test_distributed_dispatch(model, monkeypatch):
    calls = []

    def spy(text, audio, scale, bias, chunk=None, group=None):
        calls.append(chunk)
        return siglip_loss(text, audio, scale, bias, chunk)

    monkeypatch.setattr(contrastive_module, "distributed_siglip_loss", spy)
    monkeypatch.setattr(contrastive_module, "_distributed", lambda: True)
    batch = make_batch(model.config)
    with torch.no_grad():
        model(**batch)
    assert calls == [None]
    local = ProsodyContrastiveModel(tiny_config(gather_negatives_across_ranks=False)).eval()
    with torch.no_grad():
        local(**batch)
    assert calls == [None]


# ------------------------------------------------------------------------------------------ speakers


def capture_speaker_inputs(model: ProsodyContrastiveModel) -> tuple[list, torch.utils.hooks.RemovableHandle]:
    """Record (speaker_ids, speaker_embeds) handed to the text encoder's SpeakerConditioning."""
    seen: list = []

    def hook(module, args, kwargs):
        values = list(args) + [kwargs.get("speaker_ids"), kwargs.get("speaker_embeds")]
        seen.append((values[1], values[2]))

    return seen, model.text_model.speaker.register_forward_pre_hook(hook, with_kwargs=True)


@pytest.mark.parametrize("detach", [True, False])
def test_audio_speaker_plumbing(detach):
    torch.manual_seed(0)
    model = ProsodyContrastiveModel(tiny_config(detach_speaker_embedding=detach)).eval()
    batch = make_batch(model.config)
    seen, handle = capture_speaker_inputs(model)
    out = model(**batch)
    handle.remove()
    speaker_ids, speaker_embeds = seen[0]
    assert speaker_ids is None
    torch.testing.assert_close(speaker_embeds, out.audio_model_output.embeddings)
    assert speaker_embeds.requires_grad is (not detach)
    # AdaLN-Zero makes the condition inert at init: open the modulations, then the audio matters
    with torch.no_grad():
        for module in model.text_model.modules():
            if isinstance(module, ZeroInitLinear):
                module.weight.normal_(0.0, 0.2)
        model.text_model.speaker.external_projection.weight.normal_(0.0, 1.0)
        other = dict(batch, input_features=make_batch(model.config, seed=5)["input_features"])  # new audio
        text_embeds = model(**batch).text_embeds
        text_other = model(**other).text_embeds
        same_speaker = model.get_text_features(
            **{k: batch[k] for k in TEXT_KEYS},
            occurrence_positions=batch["occurrence_positions"],
            speaker_embeds=model.audio_model(batch["input_features"], batch["feature_attention_mask"]).embeddings,
        )
    assert (text_embeds - text_other).abs().max() > 1e-3
    torch.testing.assert_close(F.normalize(same_speaker, dim=-1), text_embeds)


def test_speaker_sources_ids_and_none():
    batch = make_batch(tiny_config())
    ids_model = ProsodyContrastiveModel(tiny_config(speaker_source="ids", text_overrides=dict(num_speakers=3))).eval()
    seen, handle = capture_speaker_inputs(ids_model)
    with torch.no_grad():
        ids_model(**batch, speaker_ids=torch.tensor([2, -1]))
    handle.remove()
    assert seen[0][0].tolist() == [2, -1] and seen[0][1] is None
    with pytest.raises(ValueError, match="speaker_ids"):
        ids_model(**batch, speaker_embeds=torch.zeros(2, 32))
    none_model = ProsodyContrastiveModel(tiny_config(speaker_source="none")).eval()
    seen, handle = capture_speaker_inputs(none_model)
    with torch.no_grad():
        none_model(**batch)
    handle.remove()
    assert seen[0] == (None, None)
    with pytest.raises(ValueError, match="null condition"):
        none_model(**batch, speaker_ids=torch.tensor([0, 1]))
    audio_model = ProsodyContrastiveModel(tiny_config()).eval()
    with pytest.raises(ValueError, match="ECAPA"):
        audio_model(**batch, speaker_ids=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="input_features"):
        audio_model.get_text_features(**{k: batch[k] for k in TEXT_KEYS})


# ------------------------------------------------------------------------------------------ training


# ------------------------------------------------------------------------------------------ stage 1


def test_load_stage1_weights(tmp_path):
    torch.manual_seed(1)
    config = tiny_config()
    mlm = DualStreamForMaskedLM(config.text_config).eval()
    with torch.no_grad():  # non-trivial AdaLN weights, so the copy is visible in the outputs
        for module in mlm.modules():
            if isinstance(module, ZeroInitLinear):
                module.weight.normal_(0.0, 0.05)
    mlm.save_pretrained(tmp_path)
    batch = make_batch(config)
    text = {k: batch[k] for k in TEXT_KEYS}
    speaker = torch.randn(2, config.text_config.external_speaker_dim)
    with torch.no_grad():
        expected = mlm.dual_stream(**text, speaker_embeds=speaker).phoneme_stream_last_hidden_state
    fusion_parts = ("fusion.", "fusion_layers.", "final_norm.")
    for source in (mlm, tmp_path, str(tmp_path)):
        model = ProsodyContrastiveModel(config).eval()
        result = load_stage1_weights(model, source)
        keys = model.text_model.state_dict()
        # per-stream MLM has no fusion part: both streams load, fusion starts fresh in stage 2
        assert sorted(result.loaded_keys) == sorted(k for k in keys if not k.startswith(fusion_parts))
        assert sorted(result.missing_keys) == sorted(k for k in keys if k.startswith(fusion_parts))
        assert result.unexpected_keys == []
        assert result.ignored_keys and all(k.split(".")[0] in ("phoneme_head", "bpe_head") for k in result.ignored_keys)
        with torch.no_grad():
            actual = model.text_model(**text, speaker_embeds=speaker).phoneme_stream_last_hidden_state
        torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    # a speaker table in stage 1 that this config lacks is reported, not loaded
    with_table = DualStreamForMaskedLM(DualStreamConfig.tiny(num_speakers=3))
    result = load_stage1_weights(ProsodyContrastiveModel(config), with_table)
    assert result.unexpected_keys == ["speaker.speaker_table.weight"]
    with pytest.raises(ValueError, match="shape mismatch"):
        load_stage1_weights(ProsodyContrastiveModel(config), DualStreamForMaskedLM(DualStreamConfig.tiny(hidden_size=32)))
    with pytest.raises(TypeError):
        load_stage1_weights(ProsodyContrastiveModel(config), 3)


# ------------------------------------------------------------------------------------------ errors


def test_input_errors(model):
    batch = make_batch(model.config)
    with pytest.raises(ValueError, match="segment_spans has 9"):
        model(**dict(batch, segment_spans=batch["segment_spans"][:-1]))
    out_of_range = batch["occurrence_positions"].clone()
    out_of_range[0, 1] = 10
    with pytest.raises(ValueError, match="out of range"):
        model(**dict(batch, occurrence_positions=out_of_range))
    bad_item = batch["occurrence_positions"].clone()
    bad_item[0, 0] = 2
    with pytest.raises(ValueError, match="out of range"):
        model(**dict(batch, occurrence_positions=bad_item))
    padding = batch["occurrence_positions"].clone()
    padding[-1, 1] = 8  # item 1 has 7 phonemes
    with pytest.raises(ValueError, match="padding"):
        model(**dict(batch, occurrence_positions=padding))
    swapped = batch["segment_spans"].clone()
    swapped[0, 0] = 1
    with pytest.raises(ValueError, match="batch index"):
        model(**dict(batch, segment_spans=swapped))
    for name in ("input_features", "segment_spans", "occurrence_positions"):
        with pytest.raises(ValueError, match=f"missing: .*{name}"):
            model(**{k: v for k, v in batch.items() if k != name})
    with pytest.raises(ValueError, match="text batch"):
        model(**dict(batch, input_features=batch["input_features"][:1], feature_attention_mask=None))
    with pytest.raises(TypeError, match="integers"):
        model(**dict(batch, occurrence_positions=batch["occurrence_positions"].float()))


def test_docstring_examples():
    import doctest

    from prosody_tts.configuration import contrastive as config_module

    for module in (config_module, contrastive_module):
        assert doctest.testmod(module, verbose=False).failed == 0, module.__name__
