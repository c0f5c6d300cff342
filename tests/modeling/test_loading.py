"""Loading a trained model for inference and running it in eval mode without losing state."""

from __future__ import annotations

import pytest
import torch

from prosody_tts import DualStreamConfig, DualStreamForMaskedLM, DualStreamModel, EcapaTdnnModel
from prosody_tts.configuration.ecapa_tdnn import EcapaTdnnConfig
from prosody_tts.modeling.loading import evaluating, load_model


def test_a_directory_loads_through_its_own_class(tmp_path):
    DualStreamForMaskedLM(DualStreamConfig.tiny()).save_pretrained(tmp_path / "mlm")
    DualStreamModel(DualStreamConfig.tiny()).save_pretrained(tmp_path / "encoder")
    mlm = load_model(tmp_path / "mlm")
    assert type(mlm) is DualStreamForMaskedLM and not mlm.dual_stream.add_fusion  # no invented fusion
    assert type(load_model(str(tmp_path / "encoder"))) is DualStreamModel


def test_an_instance_passes_through_and_the_wrong_kind_is_refused(tmp_path):
    model = DualStreamModel(DualStreamConfig.tiny())
    assert load_model(model, DualStreamModel) is model
    with pytest.raises(TypeError, match=r"one of \(DualStreamModel\).*got EcapaTdnnModel"):
        load_model(EcapaTdnnModel(EcapaTdnnConfig.tiny()), DualStreamModel)
    with pytest.raises(FileNotFoundError, match="no model directory"):
        load_model(tmp_path / "missing")


def test_evaluating_restores_the_train_flag_even_after_an_error():
    model = DualStreamModel(DualStreamConfig.tiny()).train()
    with evaluating(model) as running:
        assert running is model and not model.training
    assert model.training
    with pytest.raises(RuntimeError), evaluating(model):
        raise RuntimeError("boom")
    assert model.training
    model.eval()
    with evaluating(model, device="cpu"):
        assert next(model.parameters()).device == torch.device("cpu")
    assert not model.training
