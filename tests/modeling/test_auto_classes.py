"""Auto classes: a saved directory loads back as our classes through AutoConfig/AutoModel/..."""

import torch
from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM

import prosody_tts
from prosody_tts.configuration import DualStreamConfig


def _inputs(config: DualStreamConfig) -> dict:
    generator = torch.Generator().manual_seed(0)
    return {
        "phoneme_input_ids": torch.randint(5, config.phoneme_vocab_size, (2, 9), generator=generator),
        "phoneme_word_ids": torch.tensor([[-1, 0, 0, -1, 1, 1, 1, -1, -1]] * 2),
        "bpe_input_ids": torch.randint(5, config.bpe_vocab_size, (2, 4), generator=generator),
        "bpe_word_ids": torch.tensor([[-1, 0, 1, -1]] * 2),
    }


def test_auto_config_and_models_round_trip(tmp_path):
    config = DualStreamConfig.tiny()
    model = prosody_tts.DualStreamForMaskedLM(config).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert isinstance(AutoConfig.from_pretrained(tmp_path), DualStreamConfig)
    loaded = AutoModelForMaskedLM.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, prosody_tts.DualStreamForMaskedLM)
    inputs = _inputs(config)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).phoneme_logits, model(**inputs).phoneme_logits, rtol=0, atol=0)
    encoder = AutoModel.from_pretrained(tmp_path)
    assert isinstance(encoder, prosody_tts.DualStreamModel)


def test_ecapa_auto_round_trip(tmp_path):
    config = prosody_tts.EcapaTdnnConfig.tiny()
    model = prosody_tts.EcapaTdnnModel(config).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, prosody_tts.EcapaTdnnModel)
    features = torch.randn(1, 40, config.num_mel_bins, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(loaded(features).embeddings, model(features).embeddings, rtol=0, atol=0)


def test_contrastive_auto_round_trip(tmp_path):
    config = prosody_tts.ProsodyContrastiveConfig.tiny()
    prosody_tts.ProsodyContrastiveModel(config).save_pretrained(tmp_path)
    loaded_config = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded_config, prosody_tts.ProsodyContrastiveConfig)
    assert isinstance(loaded_config.text_config, DualStreamConfig)
    loaded = AutoModel.from_pretrained(tmp_path)
    assert isinstance(loaded, prosody_tts.ProsodyContrastiveModel)
    assert torch.allclose(loaded.logit_bias, torch.tensor([-10.0]))


def test_registration_is_one_module_and_idempotent():
    from transformers.pipelines import PIPELINE_REGISTRY

    from prosody_tts.registration import register_all

    register_all()  # again: exist_ok everywhere
    assert "phoneme-feature-extraction" in PIPELINE_REGISTRY.get_supported_tasks()
